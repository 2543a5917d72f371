"""One round trip per statement for ``prepared_statements=false`` (no server-side statements).

Behind a transaction-mode pooler asyncpg keeps no statement cache, and then runs every statement
as two exchanges: Parse + Describe + Flush, wait for the description, then Parse again + Bind +
Execute + Sync. Through PgBouncer that is two trips through the pooler and two parses per
statement: 0.6x the statements per second of one exchange (issue 26, PgBouncer 1.18).

The description is what the client needs to encode the arguments and decode the rows, and it
does not change while the schema does not: this connection keeps it per SQL text (asyncpg's
``prepare`` on a connection without a cache gives an *unnamed* statement whose every run sends
Parse + Bind + Execute + Sync in one write). The server still parses each run (the unnamed
statement is replaced by the next), so nothing lives on a server connection and the pooler may
hand each run to any of them. Migrations only add, and every statement names its columns (or
calls a function, whose result columns cannot change without being dropped), so a kept
description stays right for the life of the connection; a statement that fails is described
again on its next run anyway.

Only statements with arguments go this way: without arguments ``execute`` keeps the simple
protocol (the migrations send several statements in one string).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

MAX_KEPT = 256  # descriptions kept per connection (the hot statements are a handful)


class OneTripConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: dict[str, Any] = {}  # SQL -> asyncpg PreparedStatement (unnamed)

    async def _one_trip(self, sql: str, run: Callable[[Any], Awaitable[Any]]) -> Any:
        """``run`` on ``sql``'s kept statement, or on a new one described now. The statement is
        kept again only after a clean run (a failed one is described again next time)."""
        stmt = self._kept.pop(sql, None)
        if stmt is None:
            stmt = await self.prepare(sql)  # unnamed: this connection has no statement cache
        result = await run(stmt)
        self._kept[sql] = stmt  # (re)inserted last: the dict's order is recency
        if len(self._kept) > MAX_KEPT:
            del self._kept[next(iter(self._kept))]
        return result

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> list[Any]:
        if kwargs:
            return list(await super().fetch(query, *args, **kwargs))
        return list(await self._one_trip(query, lambda stmt: stmt.fetch(*args)))

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            return await super().fetchrow(query, *args, **kwargs)
        return await self._one_trip(query, lambda stmt: stmt.fetchrow(*args))

    async def fetchval(self, query: str, *args: Any, column: int = 0, **kwargs: Any) -> Any:
        if kwargs:
            return await super().fetchval(query, *args, column=column, **kwargs)
        return await self._one_trip(query, lambda stmt: stmt.fetchval(*args, column=column))

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> str:
        if kwargs or not args:  # the simple protocol: may hold several statements
            return str(await super().execute(query, *args, **kwargs))

        async def run(stmt: Any) -> str:
            await stmt.fetch(*args)
            return str(stmt.get_statusmsg())

        return str(await self._one_trip(query, run))
