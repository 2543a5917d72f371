"""Agent Scratchpad on SQLite: one row per page (migration 0017).

An append is one upsert (``content = content || ?``) in a job of the writer thread, which
SQLite serialises across processes, and its size check is part of that statement, so
concurrent appends each land whole and none is lost. The page's ``scratch_fts`` row is
rewritten from the new content in the same job.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.agent_records import Page, PageText
from cubby.core.agent_text import fts5_query, index_words, page_too_large, scope_token
from cubby.core.models import utc_now
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

_NS = "workspace_id = ? AND ns = ?"
_COLS = "id, name, size, created_at, updated_at"
_UPSERT = (
    "INSERT INTO scratch_pages (workspace_id, ns, name, content, size, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET {set}, "
    f"updated_at = excluded.updated_at {{where}} RETURNING {_COLS}, content"
)
_WRITE = _UPSERT.format(set="content = excluded.content, size = excluded.size", where="")
_APPEND = _UPSERT.format(
    set="content = content || excluded.content, size = size + excluded.size",
    where="WHERE size + excluded.size <= ?",
)


def _page(row: Any) -> Page:
    return Page(row[1], int(row[2]), row[3], row[4])


def _reindex(conn: sqlite3.Connection, ns: Namespace, row: Any) -> None:
    scope = scope_token(ns.workspace_id, ns.ns)
    conn.execute("DELETE FROM scratch_fts WHERE rowid = ?", (row[0],))
    conn.execute(
        "INSERT INTO scratch_fts (rowid, name, body) VALUES (?, ?, ?)",
        (row[0], index_words(scope, row[1]), index_words(scope, row[5])),
    )


class SqliteScratchpad:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def read(self, ns: Namespace, name: str) -> PageText | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {_COLS}, content FROM scratch_pages WHERE {_NS} AND name = ?",
                (ns.workspace_id, ns.ns, name),
            ).fetchone()
        )
        return PageText(_page(row), row[5]) if row is not None else None

    async def write(self, ns: Namespace, name: str, content: str) -> Page:
        size = len(content.encode())

        def write(conn: sqlite3.Connection) -> Page:
            now = utc_now()
            row = conn.execute(
                _WRITE, (ns.workspace_id, ns.ns, name, content, size, now, now)
            ).fetchone()
            _reindex(conn, ns, row)
            return _page(row)

        return await self.db.write(write)

    async def append(self, ns: Namespace, name: str, content: str, max_bytes: int) -> Page:
        size = len(content.encode())
        if size > max_bytes:
            raise page_too_large(name, size, max_bytes)

        def write(conn: sqlite3.Connection) -> Page:
            now = utc_now()
            row = conn.execute(
                _APPEND, (ns.workspace_id, ns.ns, name, content, size, now, now, max_bytes)
            ).fetchone()
            if row is None:  # the page exists and would pass the limit
                old = conn.execute(
                    f"SELECT size FROM scratch_pages WHERE {_NS} AND name = ?",
                    (ns.workspace_id, ns.ns, name),
                ).fetchone()
                raise page_too_large(name, int(old[0]) + size, max_bytes)
            _reindex(conn, ns, row)
            return _page(row)

        return await self.db.write(write)

    async def page(self, ns: Namespace, prefix: str, after: str | None, limit: int) -> list[Page]:
        low = max(prefix, after) if after is not None else prefix
        op = ">" if after is not None and after >= prefix else ">="
        upper = prefix_upper_bound(prefix) if prefix else None
        bound = " AND name < ?" if upper is not None else ""
        args: list[Any] = [ns.workspace_id, ns.ns, low]
        if upper is not None:
            args.append(upper)
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {_COLS} FROM scratch_pages WHERE {_NS} AND name {op} ?{bound} "
                "ORDER BY name LIMIT ?",
                (*args, limit),
            ).fetchall()
        )
        return [_page(r) for r in rows]

    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[PageText]:
        match = fts5_query(scope_token(ns.workspace_id, ns.ns), terms)
        cond, args = "", list[Any]([match, ns.workspace_id, ns.ns])
        if after is not None:
            cond = "AND (h.score < ? OR (h.score = ? AND p.name > ?))"
            args += [after[0], after[0], after[1]]
        rows = self.db.read(
            lambda c: c.execute(
                "WITH h AS MATERIALIZED (SELECT rowid AS id, -bm25(scratch_fts, 10, 1) AS score "
                "FROM scratch_fts WHERE scratch_fts MATCH ?) "
                f"SELECT {', '.join('p.' + c for c in _COLS.split(', '))}, p.content, h.score "
                "FROM h JOIN scratch_pages p ON p.id = h.id "
                f"WHERE p.workspace_id = ? AND p.ns = ? {cond} "
                "ORDER BY h.score DESC, p.name LIMIT ?",
                (*args, limit),
            ).fetchall()
        )
        return [PageText(_page(r), r[5], float(r[6])) for r in rows]

    async def delete(self, ns: Namespace, name: str) -> bool:
        cur = await self.db.write(
            lambda c: c.execute(
                f"DELETE FROM scratch_pages WHERE {_NS} AND name = ?",
                (ns.workspace_id, ns.ns, name),
            )
        )
        return bool(cur.rowcount)

    async def clear(self, ns: Namespace) -> int:
        cur = await self.db.write(
            lambda c: c.execute(f"DELETE FROM scratch_pages WHERE {_NS}", (ns.workspace_id, ns.ns)),
            weight=64,
        )
        return int(cur.rowcount)

    async def count(self, workspace_id: str, ns: str) -> int:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT count(*) FROM scratch_pages WHERE {_NS}", (workspace_id, ns)
            ).fetchone()
        )
        return int(row[0])
