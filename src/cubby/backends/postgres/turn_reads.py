"""The KV gets of one event-loop turn, read from PostgreSQL in one statement.

Why: a get is one short statement, and its fixed costs (the round trip, PostgreSQL's work per
statement, and, behind a transaction-mode pooler, the pooler's work and a parse per run) are
most of what it costs. Under load a turn holds many gets; read together they pay those costs
once (``unnest`` of the keys, ``cubby_kv_get`` per key, one snapshot: every get of the batch
was received before the statement was sent, so each still sees every write acknowledged before
it arrived). A turn with one get sends the single-key statement, as before.

A get inside an open transaction of this database (an exactly-once execute) is read on that
transaction's connection, at once, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from cubby.backends.postgres.db import PgDatabase
from cubby.core import clock
from cubby.end_of_turn import EndOfTurn

# Functions (migrations/0023_kv_get_put_value.sql, which says why): their plans are kept in the
# server session even where statements are planned on every run (a transaction-mode pooler).
GET_ONE = (
    "SELECT o_is_list, o_value, o_version, o_expires_at, o_items FROM cubby_kv_get($1, $2, $3, $4)"
)
GET_MANY = (
    "SELECT g.o_is_list, g.o_value, g.o_version, g.o_expires_at, g.o_items "
    "FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(ws, ns, key, n) "
    "CROSS JOIN LATERAL cubby_kv_get(t.ws, t.ns, t.key, $4) g ORDER BY t.n"
)
MAX_BATCH = 500  # keys per statement (a turn with more sends several)

# (workspace id, ns, key, the waiting get's future)
_Get = tuple[str, str, str, "asyncio.Future[Any]"]


class TurnReads:
    """``get`` answers a row of ``cubby_kv_get`` (o_version NULL: no such key)."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._turn: EndOfTurn[_Get] = EndOfTurn(self._send)
        self._reading: set[asyncio.Task[None]] = set()  # strong references until done

    async def get(self, workspace_id: str, ns: str, key: str) -> Any:
        if self.db.in_transaction():
            return await self.db.fetchrow(GET_ONE, workspace_id, ns, key, clock.now())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._turn.add((workspace_id, ns, key, future))
        return await future

    def _send(self, gets: list[_Get]) -> None:
        loop = asyncio.get_running_loop()
        for start in range(0, len(gets), MAX_BATCH):
            # a fresh context: no request's context variables (an open transaction) apply
            task = loop.create_task(
                self._read(gets[start : start + MAX_BATCH]), context=contextvars.Context()
            )
            self._reading.add(task)
            task.add_done_callback(self._reading.discard)

    async def _read(self, gets: list[_Get]) -> None:
        try:
            if len(gets) == 1:
                ws, ns, key, _ = gets[0]
                rows = [await self.db.fetchrow(GET_ONE, ws, ns, key, clock.now())]
            else:
                rows = await self.db.fetch(
                    GET_MANY,
                    [g[0] for g in gets],
                    [g[1] for g in gets],
                    [g[2] for g in gets],
                    clock.now(),
                )
        except asyncio.CancelledError:
            for *_, future in gets:
                future.cancel()
            raise
        except Exception as exc:
            for *_, future in gets:
                if not future.done():
                    future.set_exception(exc)
            return
        for (*_, future), row in zip(gets, rows, strict=True):
            if not future.done():  # its request may have been cancelled meanwhile
                future.set_result(row)
