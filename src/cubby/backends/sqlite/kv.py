"""KV Store data on SQLite: one row per key, one row per list item.

Every statement filters by (workspace_id, ns) first. List appends and removes run in the writer
thread as a handful of indexed single-row statements inside one transaction, so they are atomic
(SQLite serialises writers, across processes too) and cost the same on a 100k-item list as on an
empty one.
"""

from __future__ import annotations

import sqlite3

from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.kv_values import value_hash
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace
from cubby.errors import ActionFailed

_WHERE = "workspace_id = ? AND ns = ? AND key = ?"


def not_a_list(key: str) -> ActionFailed:
    return ActionFailed(
        f"the value at key {key!r} is not a list; put a list there first or use another key",
        reason="NOT_A_LIST",
        key=key,
    )


class SqliteKv:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, key: str) -> bytes | None:
        # One statement, hence one snapshot: a list and its items are read together, so a
        # concurrent put or append is either wholly in the answer or not at all.
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT e.is_list, e.value, i.value FROM kv_entries e "
                "LEFT JOIN kv_list_items i ON e.is_list = 1 AND i.workspace_id = e.workspace_id "
                "AND i.ns = e.ns AND i.key = e.key "
                "WHERE e.workspace_id = ? AND e.ns = ? AND e.key = ? ORDER BY i.id",
                (ns.workspace_id, ns.ns, key),
            ).fetchall()
        )
        if not rows:
            return None
        if not rows[0][0]:
            return str(rows[0][1]).encode()
        return ("[" + ",".join(row[2] for row in rows if row[2] is not None) + "]").encode()

    async def put(self, ns: Namespace, key: str, value: bytes, items: list[bytes] | None) -> None:
        args = (ns.workspace_id, ns.ns, key)
        now = utc_now()

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(f"DELETE FROM kv_list_items WHERE {_WHERE}", args)
            if items is None:
                conn.execute(
                    "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, "
                    "updated_at) VALUES (?, ?, ?, 0, ?, 0, ?) ON CONFLICT DO UPDATE SET "
                    "is_list = 0, value = excluded.value, length = 0, "
                    "updated_at = excluded.updated_at",
                    (*args, value.decode(), now),
                )
                return
            conn.execute(
                "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, "
                "updated_at) VALUES (?, ?, ?, 1, NULL, ?, ?) ON CONFLICT DO UPDATE SET "
                "is_list = 1, value = NULL, length = excluded.length, "
                "updated_at = excluded.updated_at",
                (*args, len(items), now),
            )
            conn.executemany(
                "INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*args, item.decode(), value_hash(item)) for item in items],
            )

        await self.db.write(write)

    async def delete(self, ns: Namespace, key: str) -> bool:
        args = (ns.workspace_id, ns.ns, key)

        def write(conn: sqlite3.Connection) -> bool:
            deleted = conn.execute(f"DELETE FROM kv_entries WHERE {_WHERE}", args).rowcount
            if deleted:
                conn.execute(f"DELETE FROM kv_list_items WHERE {_WHERE}", args)
            return bool(deleted)

        return await self.db.write(write)

    async def append(self, ns: Namespace, key: str, item: bytes) -> int:
        args = (ns.workspace_id, ns.ns, key)
        now = utc_now()

        def write(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, "
                "updated_at) VALUES (?, ?, ?, 1, NULL, 1, ?) ON CONFLICT DO UPDATE SET "
                "length = length + 1, updated_at = excluded.updated_at WHERE is_list = 1 "
                "RETURNING length",
                (*args, now),
            ).fetchone()
            if row is None:  # the key exists and holds a non-list: nothing was changed
                raise not_a_list(key)
            conn.execute(
                "INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash) "
                "VALUES (?, ?, ?, ?, ?)",
                (*args, item.decode(), value_hash(item)),
            )
            return int(row[0])

        return await self.db.write(write)

    async def remove(self, ns: Namespace, key: str, item: bytes) -> tuple[int, int]:
        args = (ns.workspace_id, ns.ns, key)

        def write(conn: sqlite3.Connection) -> tuple[int, int]:
            row = conn.execute(
                f"SELECT is_list, length FROM kv_entries WHERE {_WHERE}", args
            ).fetchone()
            if row is None:
                return 0, 0
            if not row[0]:
                raise not_a_list(key)
            removed = conn.execute(
                f"DELETE FROM kv_list_items WHERE {_WHERE} AND value_hash = ? AND value = ?",
                (*args, value_hash(item), item.decode()),
            ).rowcount
            length = int(row[1])
            if removed:
                length -= removed
                conn.execute(
                    f"UPDATE kv_entries SET length = ?, updated_at = ? WHERE {_WHERE}",
                    (length, utc_now(), *args),
                )
            return removed, length

        return await self.db.write(write)
