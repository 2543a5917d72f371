"""The PostgreSQL connection pool's rules, with fake connections (no server needed): at most
``size`` connections, FIFO waiting, reuse after a server-side error only, and no connection
ever reused after a cancellation or a broken exchange."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from cubby.backends.postgres.pool import ConnectionPool, PoolClosed
from cubby.errors import Unavailable


class FakeConn:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False
        self.dead = False
        self.gate: asyncio.Event | None = None

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True

    async def close(self, timeout: float | None = None) -> None:
        self.closed = True

    async def execute(self, sql: str) -> str:
        if self.dead:  # its backend was terminated; the client has not read the end yet
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")
        return "SELECT 1"

    async def fetchval(self, sql: str, *args: Any) -> Any:
        if self.dead:
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")
        if self.gate is not None:
            await self.gate.wait()
        if sql == "server error":
            raise asyncpg.UniqueViolationError("duplicate")
        if sql == "broken":
            raise ConnectionResetError("gone")
        if sql == "terminated":  # pg_terminate_backend, a restart, a pooler's idle kill
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")
        return (self.n, sql)


class Factory:
    def __init__(self) -> None:
        self.made: list[FakeConn] = []

    async def __call__(self) -> FakeConn:
        conn = FakeConn(len(self.made))
        self.made.append(conn)
        return conn


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_reuses_one_connection_sequentially() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=4)
        await pool.open(1)
        for _ in range(5):
            assert await pool.run("fetchval", "q") == (0, "q")
        assert len(factory.made) == 1

    run(scenario())


def test_never_more_than_size_and_waiters_are_served() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=3)
        gate = asyncio.Event()
        original = factory.__call__

        async def gated() -> FakeConn:
            conn = await original()
            conn.gate = gate
            return conn

        pool._connect = gated
        tasks = [asyncio.create_task(pool.run("fetchval", f"q{i}")) for i in range(10)]
        await asyncio.sleep(0.01)
        assert len(factory.made) == 3
        gate.set()
        results = await asyncio.gather(*tasks)
        assert sorted(r[1] for r in results) == sorted(f"q{i}" for i in range(10))
        assert len(factory.made) == 3

    run(scenario())


def test_server_errors_keep_the_connection_other_errors_drop_it() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=2)
        with pytest.raises(asyncpg.UniqueViolationError):
            await pool.run("fetchval", "server error")
        assert await pool.run("fetchval", "q") == (0, "q")  # same connection
        with pytest.raises(Unavailable) as lost:
            await pool.run("fetchval", "broken")
        assert isinstance(lost.value.__cause__, ConnectionResetError)
        assert factory.made[0].closed
        assert await pool.run("fetchval", "q") == (1, "q")  # a new one

    run(scenario())


def test_a_lost_connection_is_a_503_and_never_goes_back() -> None:
    """AdminShutdownError is a PostgreSQL error, but the session is gone (issue 28, item 3):
    the connection is dropped, with every idle one (a restart took them too), and the caller
    gets Unavailable (503 with Retry-After), not the driver's error (a 500)."""

    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=3)
        await pool.open(3)
        with pytest.raises(Unavailable) as lost:
            await pool.run("fetchval", "terminated")
        assert lost.value.status == 503 and lost.value.headers == {"Retry-After": "1"}
        assert all(conn.closed for conn in factory.made)
        async with pool.connection() as conn:
            assert conn.n == 3  # a fresh one
        with pytest.raises(Unavailable):
            async with pool.connection() as conn:
                await conn.fetchval("terminated")
        assert conn.closed
        assert await pool.run("fetchval", "q") == (4, "q")

    run(scenario())


def test_after_a_loss_pooled_connections_are_pinged_before_use() -> None:
    """A connection busy when the database went away comes back looking alive (its end of file
    not read yet): after a loss, the pool pings such a connection before handing it out, so no
    request made after others succeeded again fails (issue 28, item 3's 'no error after the
    first successful request')."""

    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=3)
        await pool.open(1)
        async with pool.connection() as busy:  # in use while the backends are terminated
            busy.dead = True
            with pytest.raises(Unavailable):
                await pool.run("fetchval", "terminated")  # another request's loss
            assert await pool.run("fetchval", "q") == (2, "q")  # recovered on a fresh one
        assert not busy.closed  # it went back to the pool looking alive
        for _ in range(3):
            assert (await pool.run("fetchval", "q"))[0] == 2  # never the dead one
        assert busy.closed

    run(scenario())


def test_cancelled_query_never_returns_its_connection() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=1)
        await pool.open(1)
        factory.made[0].gate = asyncio.Event()  # the query hangs
        task = asyncio.create_task(pool.run("fetchval", "slow"))
        waiting = asyncio.create_task(pool.run("fetchval", "next"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert factory.made[0].closed
        assert await waiting == (1, "next")  # the waiter got a fresh connection

    run(scenario())


def test_cancelled_waiter_gives_back_what_it_was_handed() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=1)
        await pool.open(1)
        gate = asyncio.Event()
        factory.made[0].gate = gate
        busy = asyncio.create_task(pool.run("fetchval", "busy"))
        waiter = asyncio.create_task(pool.run("fetchval", "w"))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.sleep(0)  # busy finishes and hands the connection to the waiter...
        waiter.cancel()  # ...which is cancelled before it runs
        await busy
        with pytest.raises(asyncio.CancelledError):
            await waiter
        factory.made[0].gate = None
        got = await asyncio.wait_for(pool.run("fetchval", "q"), 2)
        assert got == (0, "q")  # not leaked, not closed
        assert len(factory.made) == 1

    run(scenario())


def test_failed_connect_frees_the_slot() -> None:
    async def scenario() -> None:
        attempts = 0

        async def flaky() -> FakeConn:
            nonlocal attempts
            attempts += 1
            if attempts == 1:
                raise OSError("refused")
            return FakeConn(attempts)

        pool = ConnectionPool(flaky, size=1)
        with pytest.raises(Unavailable) as refused:  # the database is down: a 503, retry
            await pool.run("fetchval", "q")
        assert isinstance(refused.value.__cause__, OSError)
        assert await pool.run("fetchval", "q") == (2, "q")

    run(scenario())


def test_close_closes_idle_and_refuses_new_work() -> None:
    async def scenario() -> None:
        factory = Factory()
        pool = ConnectionPool(factory, size=2)
        await pool.open(2)
        await pool.close()
        assert all(conn.closed for conn in factory.made)
        with pytest.raises(PoolClosed):
            await pool.run("fetchval", "q")

    run(scenario())
