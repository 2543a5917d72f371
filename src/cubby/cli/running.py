"""Where a running ``cubby serve`` answers, recorded in its data dir.

``serve`` writes ``<data dir>/server.json`` (``{"url", "pid"}``) once its socket is bound and
removes it when it stops; ``cubby init``, ``cubby status`` and the data commands read it, so a
server started with ``--port 9000`` is found without ``CUBBY_BASE_URL``. A record whose process
is gone (a server killed with SIGKILL) is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RECORD = "server.json"

__all__ = ["RECORD", "forget", "record", "recorded_url", "server_url"]


def record(data_dir: Path, url: str) -> None:
    """Say that this process serves ``url`` for ``data_dir`` (best effort)."""
    path = data_dir / RECORD
    tmp = path.with_name(f".{RECORD}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}) + "\n")
        os.replace(tmp, path)  # readers never see half a record
    except OSError:
        pass  # a read-only data dir still serves; the commands fall back to CUBBY_PORT


def forget(data_dir: Path) -> None:
    """Remove this process's record (not another server's that took the data dir over)."""
    path = data_dir / RECORD
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def recorded_url(data_dir: Path) -> str | None:
    """The URL of the server running on ``data_dir``, or None."""
    try:
        found = json.loads((data_dir / RECORD).read_text())
        url, pid = found["url"], found["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not isinstance(pid, int) or not _alive(pid):
        return None
    return url.rstrip("/")


def server_url(data_dir: Path, default: str, given: str | None = None) -> str:
    """Where clients should go: ``given`` (a --base-url flag), else ``$CUBBY_BASE_URL``, else
    the server recorded in ``data_dir``, else ``default``."""
    chosen = given or os.environ.get("CUBBY_BASE_URL") or recorded_url(data_dir) or default
    return chosen.rstrip("/")
