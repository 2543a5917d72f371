"""Sequential Thinking on SQLite: a counter row per chain, one row per thought (migration 0017).

A new thought takes its id from the chain's row (``last_thought = last_thought + 1 ...
RETURNING``) in the same writer job that inserts it, so ids are 1, 2, ... per chain and never
reused, whatever the number of writers; the chain's size limit is part of that statement.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.agent_records import Thought
from cubby.core.agent_text import chain_full, thought_not_found, too_many_revisions
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace

_NS = "workspace_id = ? AND ns = ?"
_COLS = "thought_id, content, branch_name, branch_from, revisions, previous, created_at, updated_at"
_CHAIN = f"(SELECT id FROM thinking_chains WHERE {_NS} AND chain_id = ?)"


def _thought(row: Any) -> Thought:
    return Thought(
        int(row[0]), row[1], row[2], row[3], int(row[4]), json.loads(row[5]), row[6], row[7]
    )


def _insert(
    conn: sqlite3.Connection,
    ns: Namespace,
    chain: int,
    thought_id: int,
    content: str,
    branch: tuple[str, int] | None,
) -> Thought:
    now = utc_now()
    row = conn.execute(
        "INSERT INTO thoughts (chain, thought_id, workspace_id, ns, content, branch_name, "
        f"branch_from, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING {_COLS}",
        (chain, thought_id, ns.workspace_id, ns.ns, content, *(branch or (None, None)), now, now),
    ).fetchone()
    return _thought(row)


class SqliteThinking:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def add(
        self, ns: Namespace, chain_id: str, content: str, max_thoughts: int
    ) -> tuple[Thought, int]:
        def write(conn: sqlite3.Connection) -> tuple[Thought, int]:
            got = conn.execute(
                "INSERT INTO thinking_chains (workspace_id, ns, chain_id, last_thought, "
                "main_length, created_at) VALUES (?, ?, ?, 1, 1, ?) ON CONFLICT DO UPDATE SET "
                "last_thought = last_thought + 1, main_length = main_length + 1 "
                "WHERE last_thought < ? RETURNING id, last_thought, main_length",
                (ns.workspace_id, ns.ns, chain_id, utc_now(), max_thoughts),
            ).fetchone()
            if got is None:
                raise chain_full(chain_id, max_thoughts)
            return _insert(conn, ns, got[0], got[1], content, None), int(got[2])

        return await self.db.write(write)

    async def branch(
        self,
        ns: Namespace,
        chain_id: str,
        from_id: int,
        branch_name: str,
        content: str,
        max_thoughts: int,
    ) -> Thought:
        def write(conn: sqlite3.Connection) -> Thought:
            chain = conn.execute(
                f"SELECT id FROM thinking_chains WHERE {_NS} AND chain_id = ?",
                (ns.workspace_id, ns.ns, chain_id),
            ).fetchone()
            found = (
                chain
                and conn.execute(
                    "SELECT 1 FROM thoughts WHERE chain = ? AND thought_id = ?", (chain[0], from_id)
                ).fetchone()
            )
            if not found:
                raise thought_not_found(chain_id, from_id)
            origin = conn.execute(
                "SELECT branch_from FROM thoughts WHERE chain = ? AND branch_name = ? "
                "ORDER BY thought_id LIMIT 1",
                (chain[0], branch_name),
            ).fetchone()
            got = conn.execute(
                "UPDATE thinking_chains SET last_thought = last_thought + 1 "
                "WHERE id = ? AND last_thought < ? RETURNING last_thought",
                (chain[0], max_thoughts),
            ).fetchone()
            if got is None:
                raise chain_full(chain_id, max_thoughts)
            branch_from = int(origin[0]) if origin is not None else from_id
            return _insert(conn, ns, chain[0], got[0], content, (branch_name, branch_from))

        return await self.db.write(write)

    async def revise(
        self, ns: Namespace, chain_id: str, thought_id: int, content: str, max_revisions: int
    ) -> Thought:
        args = (ns.workspace_id, ns.ns, chain_id, thought_id)

        def write(conn: sqlite3.Connection) -> Thought:
            row = conn.execute(
                "UPDATE thoughts SET previous = json_insert(previous, '$[#]', content), "
                "content = ?, revisions = revisions + 1, updated_at = ? "
                f"WHERE chain = {_CHAIN} AND thought_id = ? AND revisions < ? RETURNING {_COLS}",
                (content, utc_now(), *args, max_revisions),
            ).fetchone()
            if row is not None:
                return _thought(row)
            exists = conn.execute(
                f"SELECT 1 FROM thoughts WHERE chain = {_CHAIN} AND thought_id = ?", args
            ).fetchone()
            if exists:
                raise too_many_revisions(thought_id)
            raise thought_not_found(chain_id, thought_id)

        return await self.db.write(write)

    async def thoughts(self, ns: Namespace, chain_id: str) -> list[Thought]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {_COLS} FROM thoughts WHERE chain = {_CHAIN} ORDER BY thought_id",
                (ns.workspace_id, ns.ns, chain_id),
            ).fetchall()
        )
        return [_thought(r) for r in rows]

    async def count(self, workspace_id: str, ns: str) -> int:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT count(*) FROM thoughts WHERE {_NS}", (workspace_id, ns)
            ).fetchone()
        )
        return int(row[0])
