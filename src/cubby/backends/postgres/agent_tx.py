"""One transaction for an agent-tool write of several statements on PostgreSQL.

Inside an exactly-once execute (idempotency.py) the action's statements must run on that
session's connection, in its transaction: there the block is a savepoint of it, so a failing
call still rolls back only its own changes. Elsewhere it is a transaction on a pooled
connection (a call failing with a cubby error such as ENTITY_NOT_FOUND rolls it back and puts
the connection back in the pool).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from cubby.backends.postgres.db import PgDatabase, quota_refusal, transaction_conn
from cubby.errors import CubbyError


@contextlib.asynccontextmanager
async def transaction(db: PgDatabase) -> AsyncIterator[Any]:
    try:
        async with _transaction(db) as conn:
            yield conn
    except asyncpg.PostgresError as exc:  # a quota refusal (migrations/0018) is an answer
        refused = quota_refusal(exc)
        if refused is None:
            raise
        raise refused from None


@contextlib.asynccontextmanager
async def _transaction(db: PgDatabase) -> AsyncIterator[Any]:
    joined = transaction_conn.get()
    if joined is not None and joined[0] is db:
        # that session began its transaction by hand (BEGIN), so asyncpg's transaction() would
        # refuse to nest: the savepoint is ours too
        conn = joined[1]
        await conn.execute("SAVEPOINT cubby_agent_call")
        try:
            yield conn
        except BaseException:
            await conn.execute("ROLLBACK TO SAVEPOINT cubby_agent_call")
            raise
        await conn.execute("RELEASE SAVEPOINT cubby_agent_call")
        return
    failure: CubbyError | None = None
    async with db.connection() as conn:
        try:
            async with conn.transaction():
                yield conn
        except CubbyError as exc:  # rolled back; the connection is fine, keep it pooled
            failure = exc
    if failure is not None:
        raise failure
