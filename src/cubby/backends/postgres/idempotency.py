"""Idempotency records on PostgreSQL, committed in the same transaction as the action's writes.

A session is one connection in an explicit transaction: it first claims the key (an INSERT on
the primary key; a concurrent claim of the same key waits for the first transaction to end, at
most :data:`CLAIM_WAIT_MS`, via ``lock_timeout``), then every statement the action runs through
:class:`PgDatabase` is routed to that connection (a context variable, db.py), and
:meth:`PgSession.finish` stores the answer and commits. Any other exit rolls everything back.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from cubby.backends.base import IdempotencyBusy, IdempotencyRecord, IdempotencyTaken
from cubby.backends.postgres.db import PgDatabase, transaction_conn

CLAIM_WAIT_MS = 10_000

_CLAIM = (
    "INSERT INTO idempotency_keys AS k (workspace_id, key, fingerprint, response, created_at) "
    "VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (workspace_id, key) DO UPDATE SET "
    "fingerprint = excluded.fingerprint, response = NULL, created_at = excluded.created_at "
    "WHERE k.created_at < $5 RETURNING 1"
)


class PgSession:
    def __init__(self, conn: Any, workspace_id: str, key: str) -> None:
        self.conn = conn
        self.where = (workspace_id, key)
        self.committed = False

    async def finish(self, response: bytes) -> None:
        await self.conn.execute(
            "UPDATE idempotency_keys SET response = $3 WHERE workspace_id = $1 AND key = $2",
            *self.where,
            response,
        )
        await self.conn.execute("COMMIT")
        self.committed = True


class PgIdempotency:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def get(self, workspace_id: str, key: str) -> IdempotencyRecord | None:
        row = await self.db.fetchrow(
            "SELECT fingerprint, response, created_at FROM idempotency_keys "
            "WHERE workspace_id = $1 AND key = $2 AND response IS NOT NULL",
            workspace_id,
            key,
        )
        return IdempotencyRecord(row[0], bytes(row[1]), row[2]) if row else None

    @contextlib.asynccontextmanager
    async def session(
        self, workspace_id: str, key: str, fingerprint: str, now: float, stale_before: float
    ) -> AsyncIterator[PgSession]:
        async with self.db.connection() as conn:
            await conn.execute(f"BEGIN; SET LOCAL lock_timeout = {CLAIM_WAIT_MS}")
            session = PgSession(conn, workspace_id, key)
            token = transaction_conn.set((self.db, conn))
            try:
                try:
                    claimed = await conn.fetchval(
                        _CLAIM, workspace_id, key, fingerprint, now, stale_before
                    )
                except asyncpg.LockNotAvailableError:
                    raise IdempotencyBusy(key) from None
                if claimed is None:
                    raise IdempotencyTaken(key)
                yield session
            except BaseException:
                if not session.committed:
                    await _rollback(conn)
                raise
            finally:
                transaction_conn.reset(token)
            if not session.committed:  # left without finish(): nothing of it may stay
                await _rollback(conn)

    async def delete_older(self, before: float, limit: int) -> int:
        return await self.db.execute(
            "DELETE FROM idempotency_keys WHERE (workspace_id, key) IN (SELECT workspace_id, key "
            "FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
            before,
            limit,
        )


async def _rollback(conn: Any) -> None:
    """Roll back, or (if even that fails) close the connection so the pool discards it."""
    try:
        await conn.execute("ROLLBACK")
    except BaseException:
        conn.terminate()
        raise
