"""Pick backends from their URLs. Misconfiguration raises BackendConfigError: one clear line."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from cubby.backends.base import MetaStore
from cubby.backends.config_error import BackendConfigError
from cubby.core.models import new_id, utc_now


def sqlite_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise BackendConfigError(
            f"sqlite URL must look like sqlite:///absolute/path.db, got {url!r}"
        )
    path = unquote(parts.path)
    if not path:
        raise BackendConfigError(f"sqlite URL has no file path: {url!r}")
    if path.startswith("//"):  # sqlite:////abs/path.db: pathlib would keep "//" (messages)
        path = "/" + path.lstrip("/")
    return Path(path)


def open_meta_store(url: str) -> MetaStore:
    """Open (and migrate) the metadata database named by ``url``."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        return _open_sqlite(sqlite_path(url))
    if scheme in ("postgres", "postgresql"):
        return _open_postgres(url)
    raise BackendConfigError(
        f"unknown database URL scheme {scheme!r} in CUBBY_DATABASE_URL; "
        "use sqlite:///path/to/cubby.db or postgresql://user@host:5432/db"
    )


POSTGRES_HINT = "pip install 'cubby[postgres]'"


def _open_postgres(url: str) -> MetaStore:
    # asyncpg is optional: import it only for a postgresql:// URL.
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        raise BackendConfigError(
            "CUBBY_DATABASE_URL is a PostgreSQL URL but the asyncpg package is not installed; "
            f"install it with: {POSTGRES_HINT}"
        ) from None
    from cubby.backends.postgres.store import open_postgres

    return open_postgres(url)


PROBE_PREFIX = "cubby-start-probe/"


def check_files_url(url: str) -> None:
    """Open the file store and list one empty prefix, so a wrong endpoint, bucket or credentials
    is one clear line when ``cubby serve`` starts rather than a failing first write. Call it from
    sync code (the CLI). The listing is read to its end: obstore aborts the interpreter at exit
    when a listing stream is dropped half-read."""
    import asyncio

    from cubby.backends.blobs import open_blob_store

    blobs = open_blob_store(url)

    async def probe() -> None:
        async for _ in blobs.list_keys(PROBE_PREFIX):
            pass

    try:
        _check_endpoint(url)
        asyncio.run(probe())
    except BackendConfigError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendConfigError(
            f"cannot use the file store ({blobs.description}) from CUBBY_FILES_URL: {first[:300]}"
        ) from None
    finally:
        blobs.close()


def _check_endpoint(url: str, timeout: float = 5.0) -> None:
    """Fail fast when an explicit ``endpoint=`` accepts no TCP connection (obstore would retry
    with backoff for many seconds first)."""
    import socket

    endpoint = parse_qs(urlsplit(url).query).get("endpoint", [""])[-1]
    parts = urlsplit(endpoint)
    if not parts.hostname:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise BackendConfigError(
            f"cannot reach the S3 endpoint {parts.scheme}://{parts.netloc} "
            f"from CUBBY_FILES_URL: {exc}"
        ) from None


def _open_sqlite(path: Path) -> MetaStore:
    import sqlite3

    from cubby.backends.sqlite.agent_memory import SqliteMemory
    from cubby.backends.sqlite.agent_scratchpad import SqliteScratchpad
    from cubby.backends.sqlite.dashboard import SqliteSessions, SqliteUsage
    from cubby.backends.sqlite.db import SqliteDatabase
    from cubby.backends.sqlite.end_users import SqliteEndUsers
    from cubby.backends.sqlite.files import SqliteFiles
    from cubby.backends.sqlite.idempotency import SqliteIdempotency
    from cubby.backends.sqlite.kv import SqliteKv
    from cubby.backends.sqlite.mcp import SqliteMcp
    from cubby.backends.sqlite.sequential_thinking import SqliteThinking
    from cubby.backends.sqlite.usage import SqliteLimits
    from cubby.backends.sqlite.workspaces import SqliteApiKeys, SqliteIntegrations, SqliteWorkspaces

    try:
        db = SqliteDatabase(path)
    except (sqlite3.Error, OSError) as exc:
        raise BackendConfigError(f"cannot open SQLite database {path}: {exc}") from None

    def ensure_org(conn: sqlite3.Connection) -> str:
        conn.execute(
            "INSERT OR IGNORE INTO org (rowid, id, created_at) VALUES (1, ?, ?)",
            (new_id(), utc_now()),
        )
        return str(conn.execute("SELECT id FROM org WHERE rowid = 1").fetchone()[0])

    org_id = db.write_sync(ensure_org)
    return MetaStore(
        org_id=org_id,
        workspaces=SqliteWorkspaces(db, org_id),
        api_keys=SqliteApiKeys(db, org_id),
        integrations=SqliteIntegrations(db),
        kv=SqliteKv(db),
        files=SqliteFiles(db),
        sessions=SqliteSessions(db, org_id),
        end_users=SqliteEndUsers(db),
        usage=SqliteUsage(db),
        closer=db,
        idempotency=SqliteIdempotency(db),
        mcp=SqliteMcp(db, org_id),
        memory=SqliteMemory(db),
        scratchpad=SqliteScratchpad(db),
        thinking=SqliteThinking(db),
        limits=SqliteLimits(db),
    )
