"""Server log configuration: plain text lines for people (default) or one JSON object per line
for machines (``--log-format json``), for cubby's own loggers and uvicorn's alike.

A record may carry ``extra={"fields": {...}}`` (the request log does); the JSON format puts
those fields at the top level, the plain format shows only the message.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

FORMATS = ("plain", "json")
LEVELS = ("critical", "error", "warning", "info", "debug")


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class PlainFormatter(logging.Formatter):
    """``2026-01-15T10:00:00.123Z INFO cubby.request POST /api/v1/... 200 ...``"""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def log_config(fmt: str = "plain", level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict (uvicorn's ``log_config``; each worker applies it)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    formatter = JsonFormatter if fmt == "json" else PlainFormatter
    handler = {"class": "logging.StreamHandler", "formatter": "cubby", "stream": "ext://sys.stderr"}
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"cubby": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"cubby": handler},
        "loggers": {
            "cubby": {"handlers": ["cubby"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["cubby"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
