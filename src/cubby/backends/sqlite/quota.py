"""How a SQLite trigger refuses a write that would pass a limit (migrations/0018).

SQLite's ``RAISE()`` takes only a literal message, so the triggers call ``cubby_refuse(owner,
resource, limit, used, requested)``, a function every connection registers (:func:`register`).
It notes the details on the calling thread and raises; SQLite aborts the statement (undoing the
write and its counters) and reports a generic error, which :func:`translated` turns back into
:class:`~cubby.errors.QuotaExceeded` with those details. The writer thread runs one job at a
time, so the note it reads is the one its own statement left.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cubby.errors import QuotaExceeded, quota_exceeded

T = TypeVar("T")

_refused = threading.local()


class _Refused(Exception):
    pass


def _refuse(owner: str, resource: str, limit: int, used: int, requested: int) -> None:
    _refused.details = {
        "limit": limit,
        "used": used,
        "requested": requested,
        "scope": "workspace" if owner == "" else "end_user",
        "resource": resource,
    }
    raise _Refused


def register(conn: sqlite3.Connection) -> None:
    conn.create_function("cubby_refuse", 5, _refuse)


def translated(fn: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """``fn`` with a trigger's refusal raised as QuotaExceeded (runs on the writer thread)."""

    def run(conn: sqlite3.Connection) -> T:
        _refused.details = None
        try:
            return fn(conn)
        except sqlite3.OperationalError:
            details: dict[str, Any] | None = getattr(_refused, "details", None)
            if details is None:
                raise
            _refused.details = None
            raise quota_exceeded(details) from None

    return run


__all__ = ["QuotaExceeded", "register", "translated"]
