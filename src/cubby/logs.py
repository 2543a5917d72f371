"""Server log configuration: plain text lines for people (default) or one JSON object per line
for machines (``--log-format json``), for cubby's own loggers and uvicorn's alike.

A record may carry ``extra={"fields": {...}}`` (the request log does); the JSON format puts
those fields at the top level, the plain format shows only the message.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import time
from collections.abc import Callable
from typing import Any

FORMATS = ("plain", "json")
_LEVEL_NAMES = {logging.INFO: "INFO", logging.ERROR: "ERROR"}
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


class ServerName(logging.Filter):
    """uvicorn's own lines (start-up, shutdown, a crashed request) show as ``cubby.server``,
    so every line of a cubby server names cubby, not ``uvicorn.error``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("uvicorn"):
            record.name = "cubby.server"
        return True


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
        "filters": {"server_name": {"()": f"{ServerName.__module__}.{ServerName.__qualname__}"}},
        "handlers": {"cubby": handler},
        "loggers": {
            "cubby": {"handlers": ["cubby"], "level": upper, "propagate": False},
            # on uvicorn's loggers, not the handler: the request log's buffer needs a bare one
            "uvicorn": {
                "handlers": ["cubby"],
                "filters": ["server_name"],
                "level": upper,
                "propagate": False,
            },
            "uvicorn.error": {"filters": ["server_name"], "level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


class RequestLog:
    """The request log's writer: one preformatted line per request, written off the hot path.

    Going through :mod:`logging` per request (a LogRecord, the handler's lock, a formatter, a
    ``write`` and a ``flush`` syscall) cost more than a warm KV read. When the ``cubby.request``
    logger ends in the one handler :func:`log_config` installs (a stream with cubby's plain or
    JSON formatter, the way ``cubby serve`` runs), lines are formatted here exactly as that
    formatter would and appended to a buffer that the event loop writes out on its next turn,
    so a busy loop writes many requests' lines with one ``write``; an error line (a 5xx) is
    written at once. Any other logging set-up (a test's capture, a library's handler) gets the
    records through :mod:`logging` as before.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._checked = -1  # the second of the last _resolve
        self._registered = False
        self._handler: logging.StreamHandler[Any] | None = None
        self._flushing: logging.StreamHandler[Any] | None = None  # where buffered lines go
        self._json = False
        self._lines: list[str] = []
        self._scheduled = False
        self._second = -1
        self._stamp = ""

    def _resolve(self) -> None:
        """Use the buffer only for exactly the handler log_config installs (checked again each
        second, so a logging set-up changed later is followed)."""
        self._handler = None
        handlers: list[logging.Handler] = []
        logger: logging.Logger | None = self.logger
        while logger is not None:
            if logger.filters:
                return
            handlers.extend(logger.handlers)
            if not logger.propagate:
                break
            logger = logger.parent
        if len(handlers) != 1:
            return
        handler = handlers[0]
        if type(handler) is not logging.StreamHandler or handler.filters:
            return
        if type(handler.formatter) not in (PlainFormatter, JsonFormatter):
            return
        if handler is not self._flushing:
            self.flush()
            self._flushing = handler
        self._handler = handler
        self._json = type(handler.formatter) is JsonFormatter
        if not self._registered:
            self._registered = True
            atexit.register(self.flush)

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def _handler_at(self, now: float) -> logging.StreamHandler[Any] | None:
        if int(now) != self._checked:
            self._checked = int(now)
            self._resolve()
        return self._handler

    def buffered(self) -> bool:
        """Whether lines go to the buffer (the handler log_config installs) rather than
        through :mod:`logging`."""
        return self._handler_at(time.time()) is not None

    def emit(
        self,
        level: int,
        message: str,
        fields: Callable[[], dict[str, Any]],
        flush: bool = True,
        at: float | None = None,
    ) -> None:
        """Log one request line (the caller checked ``isEnabledFor(level)``); ``fields`` makes
        the record's fields, which only the JSON format and other handlers read. A buffered
        line is written on the loop's next turn, or, with ``flush=False``, by the caller's
        :meth:`flush`. ``at``: the line's time (``time.time()``), if not now."""
        now = time.time() if at is None else at
        handler = self._handler_at(now)
        if handler is None or level < handler.level:
            record = self.logger.makeRecord(
                self.logger.name, level, __file__, 0, message, (), None, extra={"fields": fields()}
            )
            self.logger.handle(record)
            return
        stamp = self._timestamp(now)
        name = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
        if self._json:
            out = {"time": stamp, "level": name.lower(), "logger": self.logger.name,
                   "message": message, **fields()}  # fmt: skip
            line = json.dumps(out, ensure_ascii=False, default=str)
        else:
            line = f"{stamp} {name} {self.logger.name} {message}"
        self._lines.append(line + handler.terminator)
        if level >= logging.ERROR:
            self.flush()
        elif flush and not self._scheduled:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
                self._scheduled = True
            except RuntimeError:  # no loop (a thread of its own): write now
                self.flush()

    def flush(self) -> None:
        self._scheduled = False
        lines, handler = self._lines, self._flushing
        if not lines or handler is None:
            return
        self._lines = []
        text = "".join(lines)
        handler.acquire()
        try:
            handler.stream.write(text)
            handler.flush()
        except Exception:
            handler.handleError(
                logging.makeLogRecord({"msg": "request log write failed", "levelno": 40})
            )
        finally:
            handler.release()
