"""Open the PostgreSQL metadata store from a ``postgresql://`` URL.

Opening is synchronous (the app's composition root and the CLI are sync code): it connects
once, applies migrations and reads the organisation id, on a helper thread with its own event
loop when the caller is already inside one (uvicorn builds the app inside its running loop).
The pool is created later, on the loop that serves requests (see db.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from cubby.backends.base import MetaStore
from cubby.backends.config_error import BackendConfigError
from cubby.backends.postgres.agent_memory import PgMemory
from cubby.backends.postgres.agent_scratchpad import PgScratchpad
from cubby.backends.postgres.dashboard import PgSessions, PgUsage
from cubby.backends.postgres.db import (
    DEFAULT_POOL_SIZE,
    PREPARED_STATEMENTS_PARAM,
    PgDatabase,
    connect,
    prepared_statements,
)
from cubby.backends.postgres.end_users import PgEndUsers
from cubby.backends.postgres.files import PgFiles
from cubby.backends.postgres.idempotency import PgIdempotency
from cubby.backends.postgres.kv import PgKv
from cubby.backends.postgres.mcp import PgMcp
from cubby.backends.postgres.migrate import apply_migrations, ensure_org
from cubby.backends.postgres.sequential_thinking import PgThinking
from cubby.backends.postgres.usage import PgLimits
from cubby.backends.postgres.workspaces import PgApiKeys, PgIntegrations, PgWorkspaces

T = TypeVar("T")

# Query parameters cubby reads itself (pool_size here, prepared_statements in db.connect); every
# other one goes to asyncpg (which passes unknown ones to the server as settings, e.g.
# ?search_path=cubby or ?application_name=cubby).
POOL_SIZE_PARAM = "pool_size"


def parse_url(url: str) -> tuple[str, int]:
    """The asyncpg DSN and the pool size from a cubby database URL."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    pool_size = DEFAULT_POOL_SIZE
    rest = []
    for name, value in params:
        if name == POOL_SIZE_PARAM:
            if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
                raise BackendConfigError(
                    f"{POOL_SIZE_PARAM} in CUBBY_DATABASE_URL must be a positive integer, "
                    f"got {value!r}"
                )
            pool_size = int(value)
        else:
            if name == PREPARED_STATEMENTS_PARAM:  # kept for db.connect; checked here, at start
                try:
                    prepared_statements(value)
                except ValueError as exc:
                    raise BackendConfigError(f"{exc} (CUBBY_DATABASE_URL)") from None
            rest.append((name, value))
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(rest), ""))
    return dsn, pool_size


def redact(url: str) -> str:
    """The URL without its password and query, for messages."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def run_blocking(fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn()`` to completion from sync code, even when a loop runs on this thread."""

    async def main() -> T:
        return await fn()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="cubby-pg-open") as pool:
        return pool.submit(asyncio.run, main()).result()


async def _bootstrap(dsn: str) -> str:
    conn = await connect(dsn)
    try:
        await apply_migrations(conn)
        return await ensure_org(conn)
    finally:
        await conn.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def open_postgres(url: str) -> MetaStore:
    dsn, pool_size = parse_url(url)
    where = redact(url)
    try:
        org_id = run_blocking(lambda: _bootstrap(dsn))
    except (OSError, TimeoutError) as exc:
        raise BackendConfigError(
            f"cannot reach PostgreSQL at {where} (CUBBY_DATABASE_URL): {_one_line(exc)}"
        ) from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        raise BackendConfigError(
            f"cannot use PostgreSQL at {where} (CUBBY_DATABASE_URL): {_one_line(exc)}"
        ) from None
    db = PgDatabase(dsn, pool_size)
    return MetaStore(
        org_id=org_id,
        workspaces=PgWorkspaces(db, org_id),
        api_keys=PgApiKeys(db, org_id),
        integrations=PgIntegrations(db),
        kv=PgKv(db),
        files=PgFiles(db),
        sessions=PgSessions(db, org_id),
        end_users=PgEndUsers(db),
        usage=PgUsage(db),
        closer=db,
        idempotency=PgIdempotency(db),
        mcp=PgMcp(db, org_id),
        memory=PgMemory(db),
        scratchpad=PgScratchpad(db),
        thinking=PgThinking(db),
        limits=PgLimits(db),
    )
