"""KV Store data on PostgreSQL: one row per key, one row per list item.

Every statement filters by (workspace_id, ns) first, and every operation is one round trip:
reads are single statements (one snapshot, so a list read never sees half an append; the gets
of one event-loop turn share one statement, turn_reads.py); writes are PL/pgSQL functions
(migrations/0002_kv.sql and 0005_kv_versions_ttl.sql explain why) that lock the key's row
first, so writes to one key are serialised across processes. The common put (a plain value,
no ifVersion) is a single upsert instead (see ``_PUT_VALUE``); only when the key holds a list
does it take a second round trip, through cubby_kv_put. The get and that upsert are wrapped in
functions only so their plans are kept (migrations/0023_kv_get_put_value.sql). Appending costs
the same on a 100k-item list as on an empty one: two indexed single-row writes; the list's item
cap is checked on that locked row (0016_kv_list_cap.sql).

Expiry compares with ``clock.now()``, passed in as a parameter, so tests move one clock for
both backends.
"""

from __future__ import annotations

from typing import Any

from cubby.backends.base import KeyInfo, StoredValue
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.postgres.turn_reads import TurnReads
from cubby.core import clock
from cubby.core.kv_values import (
    MAX_INTEGER_DIGITS,
    ListItem,
    list_full,
    list_size,
    not_a_list,
    not_a_number,
    out_of_range,
    version_conflict,
)
from cubby.core.models import utc_now
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

# A function (migrations/0023_kv_get_put_value.sql, which says why), like the get's
# (turn_reads.py). A plain value, unconditionally, in one statement; NULL when the key holds a list.
_PUT_VALUE = "SELECT cubby_kv_put_value($1, $2, $3, $4, $5, $6, $7)"
_PAGE = (
    "SELECT key, size, is_list, length, version, updated_at, expires_at FROM kv_entries "
    "WHERE workspace_id = $1 AND ns = $2 AND key {op} $3{upper} "
    "AND (expires_at IS NULL OR expires_at > $4) ORDER BY key LIMIT $5"
)


class PgKv:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self._reads = TurnReads(db)

    async def get(self, ns: Namespace, key: str) -> StoredValue | None:
        row = await self._reads.get(ns.workspace_id, ns.ns, key)
        if row[2] is None:  # no version: no such key
            return None
        value = str(row[1]).encode() if not row[0] else ("[" + (row[4] or "") + "]").encode()
        return StoredValue(value, int(row[2]), row[3])

    async def put(
        self,
        ns: Namespace,
        key: str,
        value: bytes,
        items: list[ListItem] | None,
        expires_at: float | None = None,
        if_version: int | None = None,
    ) -> int:
        if items is None and if_version is None:
            version = await self.db.fetchval(
                _PUT_VALUE, ns.workspace_id, ns.ns, key, value.decode(), len(value), expires_at,
                utc_now(),
            )  # fmt: skip
            if version is not None:
                return int(version)
            # the key holds a list (its items must go): the function below does the whole job
        texts = canons = hashes = None
        size = len(value)
        if items is not None:
            texts = [i.text for i in items]
            canons = [i.canon for i in items]
            hashes = [i.hash for i in items]
            size = list_size(items)
        row = await self.db.fetchrow(
            "SELECT o_ok, o_version FROM "
            "cubby_kv_put($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            ns.workspace_id, ns.ns, key, value.decode(), texts, canons, hashes, size,
            expires_at, if_version, clock.now(), utc_now(),
        )  # fmt: skip
        if not row[0]:
            raise version_conflict(key, int(row[1]))
        return int(row[1])

    async def delete(self, ns: Namespace, key: str) -> bool:
        deleted = await self.db.fetchval(
            "SELECT cubby_kv_delete($1, $2, $3, $4)", ns.workspace_id, ns.ns, key, clock.now()
        )
        return bool(deleted)

    async def append(
        self,
        ns: Namespace,
        key: str,
        item: ListItem,
        expires_at: float | None = None,
        *,
        max_items: int,
    ) -> tuple[int, int]:
        row = await self.db.fetchrow(
            "SELECT o_status, o_length, o_version FROM "
            "cubby_kv_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            ns.workspace_id, ns.ns, key, item.text, item.canon, item.hash,
            len(item.text.encode()), expires_at, max_items, clock.now(), utc_now(),
        )  # fmt: skip
        if row[0] == "not_list":  # the key holds a non-list: nothing was changed
            raise not_a_list(key)
        if row[0] == "full":  # checked on the locked row (migrations/0016): nothing changed
            raise list_full(key, int(row[1]), max_items)
        return int(row[1]), int(row[2])

    async def remove(self, ns: Namespace, key: str, item: ListItem) -> tuple[int, int]:
        row = await self.db.fetchrow(
            "SELECT o_is_list, o_removed, o_length FROM "
            "cubby_kv_remove($1, $2, $3, $4, $5, $6, $7)",
            ns.workspace_id, ns.ns, key, item.canon if item.canon is not None else item.text,
            item.hash, clock.now(), utc_now(),
        )  # fmt: skip
        if not row[0]:
            raise not_a_list(key)
        return int(row[1]), int(row[2])

    async def increment(self, ns: Namespace, key: str, by: int | float) -> tuple[bytes, int]:
        row = await self.db.fetchrow(
            "SELECT o_status, o_value, o_version FROM "
            "cubby_kv_increment($1, $2, $3, $4, $5, $6, $7, $8)",
            ns.workspace_id, ns.ns, key, repr(by), isinstance(by, int), MAX_INTEGER_DIGITS,
            clock.now(), utc_now(),
        )  # fmt: skip
        if row[0] == "nan":
            raise not_a_number(key)
        if row[0] == "range":
            raise out_of_range(key)
        return str(row[1]).encode(), int(row[2])

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[KeyInfo]:
        # A range scan of the primary key (workspace_id, ns, key), "C" collation = byte order.
        args: list[Any] = [ns.workspace_id, ns.ns]
        if after is not None and after >= prefix:
            op = ">"
            args.append(after)
        else:
            op = ">="
            args.append(prefix)
        args += [clock.now(), limit]
        upper = prefix_upper_bound(prefix) if prefix else None
        extra = ""
        if upper is not None:
            extra = " AND key < $6"
            args.append(upper)
        rows = await self.db.fetch(_PAGE.format(op=op, upper=extra), *args)
        return [
            KeyInfo(r[0], int(r[1]), bool(r[2]), int(r[3]), int(r[4]), r[5], r[6]) for r in rows
        ]

    async def sweep(self, limit: int) -> int:
        return int(await self.db.fetchval("SELECT cubby_kv_sweep($1, $2)", clock.now(), limit))
