"""Agent Scratchpad on PostgreSQL: one row per page (migration 0017).

An append is one upsert (``content = content || ...``, its size check in the same statement)
that locks the page's row until its transaction commits; the page's ``doc`` is rebuilt from
the new content in that transaction. Concurrent appends from any number of processes queue on
the row: each lands whole, none is lost.
"""

from __future__ import annotations

from typing import Any

from cubby.backends.postgres.agent_tx import transaction
from cubby.backends.postgres.db import PgDatabase
from cubby.core.agent_records import Page, PageText
from cubby.core.agent_text import index_words, page_too_large, scope_token, tsquery
from cubby.core.models import utc_now
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

_NS = "workspace_id = $1 AND ns = $2"
_COLS = "id, name, size, created_at, updated_at"
_DOC = (
    "setweight(array_to_tsvector(string_to_array({name}, ' ')), 'A') || "
    "array_to_tsvector(string_to_array({body}, ' '))"
)
_WRITE = (
    "INSERT INTO scratch_pages (workspace_id, ns, name, content, size, doc, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, "
    f"{_DOC.format(name='$6', body='$7')}, $8, $8) "
    "ON CONFLICT (workspace_id, ns, name) DO UPDATE SET content = EXCLUDED.content, "
    "size = EXCLUDED.size, doc = EXCLUDED.doc, updated_at = EXCLUDED.updated_at "
    f"RETURNING {_COLS}"
)
_APPEND = (
    "INSERT INTO scratch_pages AS p (workspace_id, ns, name, content, size, doc, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, '', $6, $6) "
    "ON CONFLICT (workspace_id, ns, name) DO UPDATE SET content = p.content || EXCLUDED.content, "
    "size = p.size + EXCLUDED.size, updated_at = EXCLUDED.updated_at "
    f"WHERE p.size + EXCLUDED.size <= $7 RETURNING {_COLS}, content"
)


def _page(row: Any) -> Page:
    return Page(row[1], int(row[2]), row[3], row[4])


class PgScratchpad:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def read(self, ns: Namespace, name: str) -> PageText | None:
        row = await self.db.fetchrow(
            f"SELECT {_COLS}, content FROM scratch_pages WHERE {_NS} AND name = $3",
            ns.workspace_id,
            ns.ns,
            name,
        )
        return PageText(_page(row), row[5]) if row is not None else None

    async def write(self, ns: Namespace, name: str, content: str) -> Page:
        row = await self.db.fetchrow(
            _WRITE,
            ns.workspace_id,
            ns.ns,
            name,
            content,
            len(content.encode()),
            index_words(scope_token(ns.workspace_id, ns.ns), name),
            index_words(scope_token(ns.workspace_id, ns.ns), content),
            utc_now(),
        )
        return _page(row)

    async def append(self, ns: Namespace, name: str, content: str, max_bytes: int) -> Page:
        size = len(content.encode())
        if size > max_bytes:
            raise page_too_large(name, size, max_bytes)
        async with transaction(self.db) as conn:
            row = await conn.fetchrow(
                _APPEND, ns.workspace_id, ns.ns, name, content, size, utc_now(), max_bytes
            )
            if row is None:  # the page exists and would pass the limit
                old = await conn.fetchval(
                    f"SELECT size FROM scratch_pages WHERE {_NS} AND name = $3",
                    ns.workspace_id,
                    ns.ns,
                    name,
                )
                raise page_too_large(name, int(old) + size, max_bytes)
            await conn.execute(
                f"UPDATE scratch_pages SET doc = {_DOC.format(name='$2', body='$3')} WHERE id = $1",
                row[0],
                index_words(scope_token(ns.workspace_id, ns.ns), name),
                index_words(scope_token(ns.workspace_id, ns.ns), row[5]),
            )
        return _page(row)

    async def page(self, ns: Namespace, prefix: str, after: str | None, limit: int) -> list[Page]:
        low = max(prefix, after) if after is not None else prefix
        op = ">" if after is not None and after >= prefix else ">="
        upper = prefix_upper_bound(prefix) if prefix else None
        args: list[Any] = [ns.workspace_id, ns.ns, low, limit]
        bound = ""
        if upper is not None:
            bound = " AND name < $5"
            args.append(upper)
        rows = await self.db.fetch(
            f"SELECT {_COLS} FROM scratch_pages WHERE {_NS} AND name {op} $3{bound} "
            "ORDER BY name LIMIT $4",
            *args,
        )
        return [_page(r) for r in rows]

    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[PageText]:
        cond = "WHERE h.score < $4 OR (h.score = $4 AND h.name > $5)" if after else ""
        rows = await self.db.fetch(
            f"SELECT * FROM (SELECT {_COLS}, content, ts_rank(doc, q)::float8 AS score "
            f"FROM scratch_pages, CAST($3 AS tsquery) AS q WHERE {_NS} AND doc @@ q) h {cond} "
            f"ORDER BY h.score DESC, h.name LIMIT {int(limit)}",
            ns.workspace_id,
            ns.ns,
            tsquery(scope_token(ns.workspace_id, ns.ns), terms),
            *(after or ()),
        )
        return [PageText(_page(r), r[5], float(r[6])) for r in rows]

    async def delete(self, ns: Namespace, name: str) -> bool:
        return bool(
            await self.db.execute(
                f"DELETE FROM scratch_pages WHERE {_NS} AND name = $3",
                ns.workspace_id,
                ns.ns,
                name,
            )
        )

    async def clear(self, ns: Namespace) -> int:
        return await self.db.execute(
            f"DELETE FROM scratch_pages WHERE {_NS}", ns.workspace_id, ns.ns
        )

    async def count(self, workspace_id: str, ns: str) -> int:
        value = await self.db.fetchval(
            f"SELECT count(*) FROM scratch_pages WHERE {_NS}", workspace_id, ns
        )
        return int(value)
