"""KV Store data on PostgreSQL: one row per key, one row per list item.

Every statement filters by (workspace_id, ns) first, and every operation is one round trip:
reads are single statements (one snapshot, so a list read never sees half an append); an
append is one statement that locks the key's row (the upsert) before inserting its item, so
appends to one key are serialised across processes and their ids follow that order; put,
delete and remove are PL/pgSQL functions (migrations/0002_kv.sql explains why). Appending costs
the same on a 100k-item list as on an empty one: two indexed single-row writes.
"""

from __future__ import annotations

from cubby.backends.postgres.db import PgDatabase
from cubby.backends.sqlite.kv import not_a_list
from cubby.core.kv_values import value_hash
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace

_GET = (
    "SELECT e.is_list, e.value, CASE WHEN e.is_list THEN ("
    " SELECT string_agg(i.value, ',' ORDER BY i.id) FROM kv_list_items i"
    " WHERE i.workspace_id = $1 AND i.ns = $2 AND i.key = $3) END "
    "FROM kv_entries e WHERE e.workspace_id = $1 AND e.ns = $2 AND e.key = $3"
)

_APPEND = (
    "WITH e AS ("
    " INSERT INTO kv_entries AS e (workspace_id, ns, key, is_list, value, length, updated_at)"
    " VALUES ($1, $2, $3, TRUE, NULL, 1, $6)"
    " ON CONFLICT (workspace_id, ns, key) DO UPDATE"
    " SET length = e.length + 1, updated_at = excluded.updated_at WHERE e.is_list"
    " RETURNING e.length"
    "), i AS ("
    " INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash)"
    " SELECT $1, $2, $3, $4, $5 FROM e"
    ") SELECT length FROM e"
)


class PgKv:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, key: str) -> bytes | None:
        row = await self.db.fetchrow(_GET, ns.workspace_id, ns.ns, key)
        if row is None:
            return None
        if not row[0]:
            return str(row[1]).encode()
        return ("[" + (row[2] or "") + "]").encode()

    async def put(self, ns: Namespace, key: str, value: bytes, items: list[bytes] | None) -> None:
        texts = hashes = None
        if items is not None:
            texts = [item.decode() for item in items]
            hashes = [value_hash(item) for item in items]
        await self.db.execute(
            "SELECT cubby_kv_put($1, $2, $3, $4, $5, $6, $7)",
            ns.workspace_id,
            ns.ns,
            key,
            value.decode(),
            texts,
            hashes,
            utc_now(),
        )

    async def delete(self, ns: Namespace, key: str) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT cubby_kv_delete($1, $2, $3)", ns.workspace_id, ns.ns, key
            )
        )

    async def append(self, ns: Namespace, key: str, item: bytes) -> int:
        length = await self.db.fetchval(
            _APPEND, ns.workspace_id, ns.ns, key, item.decode(), value_hash(item), utc_now()
        )
        if length is None:  # the key holds a non-list: the upsert changed nothing
            raise not_a_list(key)
        return int(length)

    async def remove(self, ns: Namespace, key: str, item: bytes) -> tuple[int, int]:
        row = await self.db.fetchrow(
            "SELECT o_is_list, o_removed, o_length FROM cubby_kv_remove($1, $2, $3, $4, $5, $6)",
            ns.workspace_id,
            ns.ns,
            key,
            item.decode(),
            value_hash(item),
            utc_now(),
        )
        if not row[0]:
            raise not_a_list(key)
        return int(row[1]), int(row[2])
