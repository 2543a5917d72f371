"""Idempotency records on SQLite, committed in the same transaction as the action's writes.

SQLite has one writer (db.py): a thread that runs queued jobs in a shared transaction. An
exactly-once execute needs its record and the action's changes in *one* transaction, but the
action is async code on the event loop that may write several times. So a session is one writer
job that stays open while the action runs:

1. the action's first :meth:`SqliteDatabase.write` inside the session (routed here through a
   context variable) queues the session job; in the writer thread it checks the key (a live
   record of another call raises :class:`IdempotencyTaken`), then runs that write;
2. each later write of the action runs in the same job, each in its own SAVEPOINT; results go
   back to the loop at once (not yet committed);
3. :meth:`finish` writes the record, answer included (one statement: the key needs no claim
   row, the batch transaction holds the write lock from the check on), and ends the job; the
   batch COMMIT makes record and changes durable together, and only then does ``finish``
   return (so the answer is never sent early).

The writer is held from the action's first write to its answer, a few loop turns for the
built-in actions (their slow parts, blob uploads, happen before the first write and body drops
after commit). A session left idle for :data:`IDLE_TIMEOUT_SECONDS` rolls back and frees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from cubby.backends.base import IdempotencyRecord, IdempotencyTaken
from cubby.backends.sqlite.db import (
    SqliteDatabase,
    WriteJob,
    set_future_exception,
    set_future_result,
    write_session,
)

T = TypeVar("T")

IDLE_TIMEOUT_SECONDS = 30.0


class SessionAborted(Exception):
    """The action left the session without finishing it: roll its writes back."""


class _Finish:
    def __init__(self, response: bytes) -> None:
        self.response = response


_ABORT = object()


class SqliteSession:
    def __init__(
        self,
        db: SqliteDatabase,
        workspace_id: str,
        key: str,
        fingerprint: str,
        now: float,
        stale_before: float,
    ) -> None:
        self.db = db
        self.claim = (workspace_id, key, fingerprint, now, stale_before)
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._done: asyncio.Future[Any] | None = None

    # -- the loop side ------------------------------------------------------------------------
    def _start(self) -> asyncio.Future[Any]:
        if self._done is None:
            loop = asyncio.get_running_loop()
            self._done = loop.create_future()
            self.db.submit(WriteJob(self._run, loop, self._done))
        return self._done

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` inside the session's transaction; its result comes before the commit."""
        done = self._start()
        loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = loop.create_future()
        # The session may end before this write runs (its claim failed, or it timed out): the
        # write then answers with what ended it. A callback, not asyncio.wait on both futures:
        # that cost ~5 us of loop time on every keyed write.
        done.add_done_callback(functools.partial(_end_unanswered, result))
        self._inbox.put((fn, loop, result))
        return await result

    async def finish(self, response: bytes) -> None:
        done = self._start()
        self._inbox.put(_Finish(response))
        await done

    def abort(self) -> None:
        if self._done is None:
            return
        if not self._done.done():
            self._inbox.put(_ABORT)
        self._done.add_done_callback(_consume)  # its error (if any) was the action's to see

    # -- the writer side (inside the batch transaction, in the job's SAVEPOINT) -----------------
    def _run(self, conn: sqlite3.Connection) -> None:
        workspace_id, key, fingerprint, now, stale_before = self.claim
        row = conn.execute(
            "SELECT created_at FROM idempotency_keys WHERE workspace_id = ? AND key = ?",
            (workspace_id, key),
        ).fetchone()
        if row is not None and row[0] >= stale_before:
            raise IdempotencyTaken(key)
        # No claim row: the batch transaction holds SQLite's write lock (BEGIN IMMEDIATE) from
        # this check to its COMMIT, so no other connection can store this key in between, and
        # the record is written once, with its answer, when the action finishes.
        while True:
            try:
                message = self._inbox.get(timeout=IDLE_TIMEOUT_SECONDS)
            except queue.Empty:
                raise TimeoutError(
                    "the idempotent action went idle; its writes roll back"
                ) from None
            if message is _ABORT:
                raise SessionAborted("the action failed; its writes roll back")
            if isinstance(message, _Finish):
                conn.execute(
                    "INSERT OR REPLACE INTO idempotency_keys (workspace_id, key, fingerprint, "
                    "response, created_at) VALUES (?, ?, ?, ?, ?)",
                    (workspace_id, key, fingerprint, message.response, now),
                )
                return
            fn, loop, future = message
            conn.execute("SAVEPOINT step")
            try:
                value = fn(conn)
            except BaseException as exc:  # the write's own failure, for the action to handle
                conn.execute("ROLLBACK TO step")
                conn.execute("RELEASE step")
                _deliver(loop, set_future_exception, future, exc)
                continue
            conn.execute("RELEASE step")
            _deliver(loop, set_future_result, future, value)


def _end_unanswered(write: asyncio.Future[Any], done: asyncio.Future[Any]) -> None:
    if write.done():
        return
    error = None if done.cancelled() else done.exception()
    write.set_exception(
        error or SessionAborted("the idempotent session ended before this write ran")
    )


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _deliver(loop: asyncio.AbstractEventLoop, how: Any, future: Any, value: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
        loop.call_soon_threadsafe(how, future, value)


class SqliteIdempotency:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def get(self, workspace_id: str, key: str) -> IdempotencyRecord | None:
        row = self.db.read(
            lambda c: c.execute(
                "SELECT fingerprint, response, created_at FROM idempotency_keys "
                "WHERE workspace_id = ? AND key = ? AND response IS NOT NULL",
                (workspace_id, key),
            ).fetchone()
        )
        return IdempotencyRecord(row[0], bytes(row[1]), row[2]) if row else None

    @contextlib.asynccontextmanager
    async def session(
        self, workspace_id: str, key: str, fingerprint: str, now: float, stale_before: float
    ) -> AsyncIterator[SqliteSession]:
        session = SqliteSession(self.db, workspace_id, key, fingerprint, now, stale_before)
        token = write_session.set(session)
        try:
            yield session
        finally:
            write_session.reset(token)
            session.abort()

    async def delete_older(self, before: float, limit: int) -> int:
        def write(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "DELETE FROM idempotency_keys WHERE (workspace_id, key) IN (SELECT "
                "workspace_id, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)",
                (before, limit),
            ).rowcount

        return await self.db.write(write)
