"""Open a :class:`~cubby.backends.snapshot.Snapshot` or a
:class:`~cubby.backends.snapshot.Loader` on the database a cubby URL names."""

from __future__ import annotations

from urllib.parse import urlsplit

from cubby.backends.config_error import BackendConfigError
from cubby.backends.snapshot import Loader, Snapshot
from cubby.backends.url import sqlite_path


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("sqlite", "postgres", "postgresql"):
        raise BackendConfigError(
            f"unknown database URL scheme {scheme!r}; "
            "use sqlite:///path/to/cubby.db or postgresql://user@host:5432/db"
        )
    return "sqlite" if scheme == "sqlite" else "postgres"


async def open_snapshot(url: str) -> Snapshot:
    if _scheme(url) == "sqlite":
        from cubby.backends.sqlite.snapshot import SqliteSnapshot

        return SqliteSnapshot(sqlite_path(url))
    from cubby.backends.postgres.snapshot import PgSnapshot

    return await PgSnapshot.open(url)


async def open_loader(url: str) -> Loader:
    if _scheme(url) == "sqlite":
        from cubby.backends.sqlite.snapshot import SqliteLoader

        return SqliteLoader(sqlite_path(url))
    from cubby.backends.postgres.snapshot import PgLoader

    return await PgLoader.open(url)
