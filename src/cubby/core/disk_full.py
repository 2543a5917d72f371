"""A full disk (or bucket) is a 507 ``INSUFFICIENT_STORAGE``, not a 500 (issue 16).

Each backend says "full" its own way: ``OSError`` ENOSPC/EDQUOT (bodies, fsync), SQLite's
``SQLITE_FULL``, PostgreSQL's SQLSTATE class 53 (insufficient resources: disk full, out of
memory, too many connections is 53300 and is not "full"), obstore's errors that wrap the OS
error in their message. :func:`is_disk_full` reads all of them, through the exception's chain,
so the app's error handlers can answer 507 whatever layer noticed it. Nothing is half-written
when it happens: a body is written whole or not at all, and its row commits only afterwards.
"""

from __future__ import annotations

import errno
import sqlite3

from cubby.errors import InsufficientStorage

_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_SQLITE_FULL = 13
_PG_FULL = {"53100", "53200"}  # disk_full, out_of_memory
_MESSAGES = ("No space left on device", "os error 28", "Disk quota exceeded", "os error 122")


def _full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in _ERRNOS:
        return True
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    if getattr(exc, "sqlstate", None) in _PG_FULL:  # asyncpg's PostgresError
        return True
    return type(exc).__module__.startswith("obstore") and any(m in str(exc) for m in _MESSAGES)


def is_disk_full(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _full(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def insufficient_storage() -> InsufficientStorage:
    return InsufficientStorage(
        "the server's storage is full, so nothing was written; delete files (delete_file, "
        "delete_folder) or ask the operator for space, then retry"
    )
