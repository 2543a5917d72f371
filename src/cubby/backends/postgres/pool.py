"""A small connection pool for one event loop.

Why not asyncpg's own Pool: its acquire/release path (timeouts, a shielded task per release,
a reset query unless disabled) measured at 1.4-2x the cost of the queries cubby runs on the
hot path. cubby's use is simpler than what that pool allows for: every statement runs in
autocommit and no session state is ever changed, so a connection needs no reset between users.

Rules that keep it safe:
- a connection goes back to the pool only after a clean result or a PostgreSQL error (the server
  rejected the statement, the session is fine); anything else (cancellation, a lost socket, a
  protocol error) terminates it, so a half-finished exchange is never reused;
- a lost connection is never put back, even when the server said why as a PostgreSQL error
  (``pg_terminate_backend``, a restart or failover, a pooler's idle kill: ``AdminShutdownError``
  and the rest of SQLSTATE classes 08 and 57P), and idle ones found closed are dropped at
  acquire; the request gets :class:`~cubby.errors.Unavailable` (503 with ``Retry-After``), not
  a 500: nothing is wrong with it, the database was away (issue 28, item 3);
- for :data:`SUSPECT_SECONDS` after a lost connection, a pooled connection is pinged before it
  is handed out: one that finished its statement just before the database went away came back
  looking alive (its end of file not read yet), and must not fail a request made after others
  already succeeded again;
- at most ``size`` connections exist; callers beyond that wait in FIFO order;
- all state changes happen without an await in between, on the loop's one thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg

from cubby.errors import Unavailable

log = logging.getLogger("cubby")

# SQLSTATEs meaning the session or the server is gone, outside class 08 (connection exception):
# admin shutdown (pg_terminate_backend), crash shutdown, cannot connect now, too many connections.
_GONE = frozenset({"57P01", "57P02", "57P03", "53300"})
SUSPECT_SECONDS = 5.0


class PoolClosed(RuntimeError):
    pass


def lost(exc: BaseException, conn: Any) -> bool:
    """``exc`` says the database connection (or the database) is gone, not that the statement
    was wrong: the request may be retried as it is."""
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return state.startswith("08") or state in _GONE
    if isinstance(exc, OSError | TimeoutError):  # refused, reset, unreachable, connect timeout
        return True
    # "connection is closed", "cannot switch to state 12": the socket died under the call
    return conn is not None and conn.is_closed()


def unavailable(exc: BaseException) -> Unavailable:
    log.warning("PostgreSQL connection lost, answering 503: %s", " ".join(str(exc).split()))
    return Unavailable(
        "the database connection was lost; retry the request",
        details={"reason": "DATABASE_UNAVAILABLE"},
        headers={"Retry-After": "1"},
    )


class ConnectionPool:
    def __init__(self, connect: Callable[[], Awaitable[Any]], size: int) -> None:
        self._connect = connect
        self.size = size
        self._idle: list[Any] = []
        self._waiters: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._opened = 0
        self._closed = False
        self._suspect_until = 0.0  # loop time until which pooled connections are pinged first

    async def open(self, count: int = 1) -> None:
        """Open ``count`` connections now, so a bad URL fails here rather than on a request."""
        for _ in range(min(count, self.size)):
            self._opened += 1
            try:
                conn = await self._connect()
            except BaseException:
                self._opened -= 1
                raise
            self._put_back(conn)

    async def run(self, method: str, sql: str, *args: Any) -> Any:
        """``conn.<method>(sql, *args)`` on a pooled connection."""
        conn = await self._acquire()
        try:
            result = await getattr(conn, method)(sql, *args)
        except Exception as exc:
            self._after_error(conn, exc)
            raise
        except BaseException:
            self._discard(conn)
            raise
        self._put_back(conn)
        return result

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A connection for several statements (same rules as :meth:`run`)."""
        conn = await self._acquire()
        try:
            yield conn
        except Exception as exc:
            self._after_error(conn, exc)
            raise
        except BaseException:
            self._discard(conn)
            raise
        self._put_back(conn)

    def _after_error(self, conn: Any, exc: Exception) -> None:
        """Put ``conn`` back or drop it; raise Unavailable when the database went away."""
        gone = lost(exc, conn)
        if isinstance(exc, asyncpg.PostgresError) and not gone:
            self._put_back(conn)
            return
        self._discard(conn)
        if gone:
            self._drop_idle()  # a restart or failover took them too: find out now, not later
            self._suspect_until = asyncio.get_running_loop().time() + SUSPECT_SECONDS
            raise unavailable(exc) from exc

    async def _acquire(self) -> Any:
        try:
            return await self._acquire_or_open()
        except Exception as exc:
            if lost(exc, None):
                raise unavailable(exc) from exc
            raise

    async def _acquire_or_open(self) -> Any:
        while True:
            conn, fresh = await self._pooled_or_new()
            if fresh or await self._alive(conn):
                return conn

    async def _alive(self, conn: Any) -> bool:
        """False (and ``conn`` dropped) if a ping fails while connections are suspect."""
        if asyncio.get_running_loop().time() >= self._suspect_until:
            return True
        try:
            await conn.execute("SELECT 1")
        except Exception:
            self._discard(conn)
            return False
        except BaseException:
            self._discard(conn)
            raise
        return True

    async def _pooled_or_new(self) -> tuple[Any, bool]:
        """A pooled connection, or a new one (True), or one handed over by a releasing caller."""
        while True:
            if self._closed:
                raise PoolClosed("the PostgreSQL connection pool is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn, False
                self._opened -= 1
            if self._opened < self.size:
                self._opened += 1
                try:
                    return await self._connect(), True
                except BaseException:
                    self._opened -= 1
                    self._wake_one(None)  # room again: let a waiter try
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                conn = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._put_back(waiter.result())  # handed over just as we were cancelled
                raise
            if conn is not None:
                return conn, False
            # None: a connection was discarded, so there is room to open one; loop.

    def _wake_one(self, conn: Any) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return True
        return False

    def _put_back(self, conn: Any) -> None:
        if self._closed or conn.is_closed():
            self._discard(conn)
        elif not self._wake_one(conn):
            self._idle.append(conn)

    def _drop_idle(self) -> None:
        """Terminate every idle connection (they are reopened on demand)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            self._discard(conn)

    def _discard(self, conn: Any) -> None:
        self._opened -= 1
        with contextlib.suppress(Exception):
            conn.terminate()
        if not self._closed:
            self._wake_one(None)

    async def close(self) -> None:
        """Close idle connections; ones in use close when they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._opened -= 1
            try:
                await conn.close(timeout=5)
            except Exception:
                conn.terminate()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the PostgreSQL connection pool is closed"))

    def terminate(self) -> None:
        """Drop idle connections without a goodbye (sync; for when the loop is gone)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            self._opened -= 1
            with contextlib.suppress(Exception):
                conn.terminate()
