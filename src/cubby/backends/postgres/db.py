"""PostgreSQL access through asyncpg.

An asyncpg connection belongs to the event loop that opened it, and a cubby process meets more
than one loop: the server's (uvicorn, or a test client's loop thread) and short-lived ones
(``asyncio.run`` in the CLI and in test fixtures). So:

- the server binds one pool (pool.py) to its own loop in the app's lifespan
  (:meth:`PgDatabase.start`) and closes it on shutdown (:meth:`PgDatabase.stop`);
- code running on any other loop gets a short-lived connection per call, closed before the
  call returns, so nothing crosses loops and nothing is left behind when such a loop closes.

Every statement runs in autocommit (READ COMMITTED); the multi-step writes are single
statements or PL/pgSQL functions (see migrations/0002_kv.sql), so the hot path is one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from cubby.backends.postgres.one_trip import OneTripConnection
from cubby.backends.postgres.pool import ConnectionPool
from cubby.errors import QuotaExceeded, quota_exceeded

CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_POOL_SIZE = 10
QUOTA_SQLSTATE = "CQ001"

# Set by an exactly-once execute (idempotency.py) to (database, connection in a transaction):
# every statement of the action runs there, so its changes commit with the idempotency record.
transaction_conn: ContextVar[tuple[Any, Any] | None] = ContextVar(
    "cubby_pg_transaction", default=None
)


# ``?prepared_statements=false`` in CUBBY_DATABASE_URL: for a transaction-mode pooler (PgBouncer
# ``pool_mode = transaction``, Supabase's pooler, RDS Proxy), which hands each transaction to any
# server connection, so a named prepared statement made on one is missing (or already there) on
# the next. asyncpg then keeps no statement cache: each statement is parsed unnamed and run in
# the same exchange, which any pooler pins to one server connection (docs/deploy.md); the
# connection keeps each statement's description, so that exchange is the only one (one_trip.py).
PREPARED_STATEMENTS_PARAM = "prepared_statements"
_OFF = ("false", "off", "0", "no")
_ON = ("true", "on", "1", "yes")


def prepared_statements(value: str) -> bool:
    """The parameter's value as a flag; ValueError for anything else."""
    if value.lower() in _OFF:
        return False
    if value.lower() in _ON:
        return True
    raise ValueError(
        f"{PREPARED_STATEMENTS_PARAM} must be true or false (false behind a transaction-mode "
        f"pooler such as PgBouncer), got {value!r}"
    )


@functools.lru_cache(maxsize=16)
def _split(dsn: str) -> tuple[str, int | None]:
    """The DSN for asyncpg, and the statement cache size (None: asyncpg's default)."""
    parts = urlsplit(dsn)
    params = parse_qsl(parts.query, keep_blank_values=True)
    cache: int | None = None
    rest = []
    for name, value in params:
        if name == PREPARED_STATEMENTS_PARAM:
            cache = None if prepared_statements(value) else 0
        else:
            rest.append((name, value))
    if len(rest) == len(params):
        return dsn, None
    return urlunsplit(parts._replace(query=urlencode(rest))), cache


async def connect(dsn: str) -> Any:
    url, cache = _split(dsn)
    if cache is None:
        return await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_SECONDS)
    return await asyncpg.connect(
        url,
        timeout=CONNECT_TIMEOUT_SECONDS,
        statement_cache_size=cache,
        connection_class=OneTripConnection,
    )


class PgDatabase:
    """One PostgreSQL database: a pool per bound event loop, else a connection per call."""

    def __init__(self, dsn: str, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._pools: dict[asyncio.AbstractEventLoop, ConnectionPool] = {}
        self._trace: Callable[[str], object] | None = None

    def set_trace_callback(self, fn: Callable[[str], object] | None) -> None:
        """Call ``fn`` with every statement sent (tests count round trips), like sqlite3's."""
        self._trace = fn

    async def start(self) -> None:
        """Bind a pool to the running loop (idempotent)."""
        loop = asyncio.get_running_loop()
        if loop in self._pools:
            return
        pool = ConnectionPool(lambda: connect(self.dsn), self.pool_size)
        self._pools[loop] = pool
        try:
            await pool.open(1)
        except BaseException:
            self._pools.pop(loop, None)
            raise

    async def stop(self) -> None:
        """Close the running loop's pool, if it has one."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection for several statements: pooled on a bound loop, else a fresh one."""
        pool = self._pools.get(asyncio.get_running_loop())
        if pool is not None:
            async with pool.connection() as conn:
                yield conn
            return
        conn = await connect(self.dsn)
        try:
            yield conn
        finally:
            await conn.close()

    def in_transaction(self) -> bool:
        """Whether this task's statements run in an open transaction of this database."""
        joined = transaction_conn.get()
        return joined is not None and joined[0] is self

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        if self._trace is not None:
            self._trace(sql)
        try:
            joined = transaction_conn.get()
            if joined is not None and joined[0] is self:
                return await getattr(joined[1], method)(sql, *args)
            pool = self._pools.get(asyncio.get_running_loop())
            if pool is not None:
                return await pool.run(method, sql, *args)
            conn = await connect(self.dsn)
            try:
                return await getattr(conn, method)(sql, *args)
            finally:
                await conn.close()
        except asyncpg.PostgresError as exc:
            refused = quota_refusal(exc)
            if refused is not None:
                raise refused from None
            raise

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return list(await self._run("fetch", sql, args))

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchrow", sql, args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._run("fetchval", sql, args)

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; returns the number of rows it touched."""
        return rowcount(await self._run("execute", sql, args))

    def close(self) -> None:
        """Drop pools still bound (normally :meth:`stop` closed them in the lifespan)."""
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.terminate()


def quota_refusal(exc: asyncpg.PostgresError) -> QuotaExceeded | None:
    """A usage trigger's refusal (SQLSTATE CQ001, migrations/0018) as QuotaExceeded."""
    if exc.sqlstate != QUOTA_SQLSTATE:
        return None
    return quota_exceeded(json.loads(exc.detail or "{}"))


def rowcount(status: str) -> int:
    """Rows touched, from a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
