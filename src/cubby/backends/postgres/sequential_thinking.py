"""Sequential Thinking on PostgreSQL: a counter row per chain, one row per thought
(migration 0017).

A new thought takes its id from the chain's row (``last_thought = last_thought + 1 ...
RETURNING``, which locks that row until the transaction commits) and is inserted in the same
transaction, so ids are 1, 2, ... per chain and never reused across any number of processes;
the chain's size limit is part of that statement.
"""

from __future__ import annotations

import json
from typing import Any

from cubby.backends.postgres.agent_tx import transaction
from cubby.backends.postgres.db import PgDatabase
from cubby.core.agent_records import Thought
from cubby.core.agent_text import chain_full, thought_not_found, too_many_revisions
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace

_COLS = "thought_id, content, branch_name, branch_from, revisions, previous, created_at, updated_at"
_CHAIN = "(SELECT id FROM thinking_chains WHERE workspace_id = $1 AND ns = $2 AND chain_id = $3)"
_INSERT = (
    "INSERT INTO thoughts (chain, thought_id, workspace_id, ns, content, branch_name, "
    f"branch_from, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) "
    f"RETURNING {_COLS}"
)


def _thought(row: Any) -> Thought:
    return Thought(
        int(row[0]), row[1], row[2], row[3], int(row[4]), json.loads(row[5]), row[6], row[7]
    )


class PgThinking:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def add(
        self, ns: Namespace, chain_id: str, content: str, max_thoughts: int
    ) -> tuple[Thought, int]:
        now = utc_now()
        async with transaction(self.db) as conn:
            got = await conn.fetchrow(
                "INSERT INTO thinking_chains AS c (workspace_id, ns, chain_id, last_thought, "
                "main_length, created_at) VALUES ($1, $2, $3, 1, 1, $4) "
                "ON CONFLICT (workspace_id, ns, chain_id) DO UPDATE SET "
                "last_thought = c.last_thought + 1, main_length = c.main_length + 1 "
                "WHERE c.last_thought < $5 RETURNING id, last_thought, main_length",
                ns.workspace_id,
                ns.ns,
                chain_id,
                now,
                max_thoughts,
            )
            if got is None:
                raise chain_full(chain_id, max_thoughts)
            row = await conn.fetchrow(
                _INSERT, got[0], got[1], ns.workspace_id, ns.ns, content, None, None, now
            )
        return _thought(row), int(got[2])

    async def branch(
        self,
        ns: Namespace,
        chain_id: str,
        from_id: int,
        branch_name: str,
        content: str,
        max_thoughts: int,
    ) -> Thought:
        async with transaction(self.db) as conn:
            chain = await conn.fetchval(
                "SELECT id FROM thinking_chains WHERE workspace_id = $1 AND ns = $2 "
                "AND chain_id = $3 FOR UPDATE",
                ns.workspace_id,
                ns.ns,
                chain_id,
            )
            found = chain is not None and await conn.fetchval(
                "SELECT true FROM thoughts WHERE chain = $1 AND thought_id = $2", chain, from_id
            )
            if not found:
                raise thought_not_found(chain_id, from_id)
            origin = await conn.fetchval(
                "SELECT branch_from FROM thoughts WHERE chain = $1 AND branch_name = $2 "
                "ORDER BY thought_id LIMIT 1",
                chain,
                branch_name,
            )
            next_id = await conn.fetchval(
                "UPDATE thinking_chains SET last_thought = last_thought + 1 "
                "WHERE id = $1 AND last_thought < $2 RETURNING last_thought",
                chain,
                max_thoughts,
            )
            if next_id is None:
                raise chain_full(chain_id, max_thoughts)
            branch_from = int(origin) if origin is not None else from_id
            row = await conn.fetchrow(
                _INSERT,
                chain,
                next_id,
                ns.workspace_id,
                ns.ns,
                content,
                branch_name,
                branch_from,
                utc_now(),
            )
        return _thought(row)

    async def revise(
        self, ns: Namespace, chain_id: str, thought_id: int, content: str, max_revisions: int
    ) -> Thought:
        args = (ns.workspace_id, ns.ns, chain_id, thought_id)
        row = await self.db.fetchrow(
            "UPDATE thoughts SET previous = previous || jsonb_build_array(content), "
            "content = $5, revisions = revisions + 1, updated_at = $6 "
            f"WHERE chain = {_CHAIN} AND thought_id = $4 AND revisions < $7 RETURNING {_COLS}",
            *args,
            content,
            utc_now(),
            max_revisions,
        )
        if row is not None:
            return _thought(row)
        exists = await self.db.fetchval(
            f"SELECT true FROM thoughts WHERE chain = {_CHAIN} AND thought_id = $4", *args
        )
        if exists:
            raise too_many_revisions(thought_id)
        raise thought_not_found(chain_id, thought_id)

    async def thoughts(self, ns: Namespace, chain_id: str) -> list[Thought]:
        rows = await self.db.fetch(
            f"SELECT {_COLS} FROM thoughts WHERE chain = {_CHAIN} ORDER BY thought_id",
            ns.workspace_id,
            ns.ns,
            chain_id,
        )
        return [_thought(r) for r in rows]

    async def count(self, workspace_id: str, ns: str) -> int:
        value = await self.db.fetchval(
            "SELECT count(*) FROM thoughts WHERE workspace_id = $1 AND ns = $2", workspace_id, ns
        )
        return int(value)
