"""KV Store data on SQLite: one row per key, one row per list item.

Every statement filters by (workspace_id, ns) first. Each write is one job of the writer
thread: a handful of indexed single-row statements inside one transaction, so it is atomic
(SQLite serialises writers, across processes too) and costs the same on a 100k-item list as on
an empty one. Reads are single statements on the read connection (one snapshot each).

Expiry reads the time through :mod:`cubby.core.clock`: a row whose ``expires_at`` has passed is
treated as absent by every statement here, and :meth:`SqliteKv.sweep` deletes it later.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.base import KeyInfo, StoredValue
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core import clock
from cubby.core.kv_values import (
    ListItem,
    add_numbers,
    list_full,
    list_size,
    not_a_list,
    not_a_number,
    version_conflict,
)
from cubby.core.models import utc_now
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

__all__ = ["SqliteKv", "not_a_list"]

_WHERE = "workspace_id = ? AND ns = ? AND key = ?"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_UPSERT = (
    "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, size, version, "
    "expires_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
    "is_list = excluded.is_list, value = excluded.value, length = excluded.length, "
    "size = excluded.size, version = excluded.version, expires_at = excluded.expires_at, "
    "updated_at = excluded.updated_at"
)
_INSERT_ITEM = (
    "INSERT INTO kv_list_items (workspace_id, ns, key, value, canon, value_hash) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _live(expires_at: float | None, now: float) -> bool:
    return expires_at is None or expires_at > now


class _Row:
    """The kv_entries row of a key as a write job sees it (inside its transaction)."""

    __slots__ = ("expires_at", "is_list", "length", "live", "size", "value", "version")

    def __init__(self, row: Any, now: float) -> None:
        self.is_list = bool(row[0])
        self.length = int(row[1])
        self.size = int(row[2])
        self.version = int(row[3])
        self.expires_at: float | None = row[4]
        self.value: str | None = row[5]
        self.live = _live(self.expires_at, now)


def _current(conn: sqlite3.Connection, args: tuple[str, str, str], now: float) -> _Row | None:
    row = conn.execute(
        f"SELECT is_list, length, size, version, expires_at, value FROM kv_entries WHERE {_WHERE}",
        args,
    ).fetchone()
    return _Row(row, now) if row is not None else None


def _drop_items(conn: sqlite3.Connection, args: tuple[str, str, str]) -> None:
    conn.execute(f"DELETE FROM kv_list_items WHERE {_WHERE}", args)


class SqliteKv:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, key: str) -> StoredValue | None:
        # One statement, hence one snapshot: a list and its items are read together, so a
        # concurrent put or append is either wholly in the answer or not at all.
        rows = self.db.read(
            lambda c: c.execute(
                "SELECT e.is_list, e.value, e.version, e.expires_at, i.value FROM kv_entries e "
                "LEFT JOIN kv_list_items i ON e.is_list = 1 AND i.workspace_id = e.workspace_id "
                "AND i.ns = e.ns AND i.key = e.key "
                "WHERE e.workspace_id = ? AND e.ns = ? AND e.key = ? "
                "AND (e.expires_at IS NULL OR e.expires_at > ?) ORDER BY i.id",
                (ns.workspace_id, ns.ns, key, clock.now()),
            ).fetchall()
        )
        if not rows:
            return None
        first = rows[0]
        if not first[0]:
            value = str(first[1]).encode()
        else:
            value = ("[" + ",".join(row[4] for row in rows if row[4] is not None) + "]").encode()
        return StoredValue(value, int(first[2]), first[3])

    async def put(
        self,
        ns: Namespace,
        key: str,
        value: bytes,
        items: list[ListItem] | None,
        expires_at: float | None = None,
        if_version: int | None = None,
    ) -> int:
        args = (ns.workspace_id, ns.ns, key)

        def write(conn: sqlite3.Connection) -> int:
            now = clock.now()
            old = _current(conn, args, now)
            current = old.version if old is not None and old.live else 0
            if if_version is not None and if_version != current:
                raise version_conflict(key, current)
            version = old.version + 1 if old is not None else 1
            if old is not None and old.is_list:
                _drop_items(conn, args)
            row: tuple[int, str | None, int, int]
            if items is None:
                row = (0, value.decode(), 0, len(value))
            else:
                row = (1, None, len(items), list_size(items))
            conn.execute(_UPSERT, (*args, *row, version, expires_at, utc_now()))
            if items:
                conn.executemany(_INSERT_ITEM, [(*args, i.text, i.canon, i.hash) for i in items])
            return version

        return await self.db.write(write, weight=1 + len(items or ()))

    async def delete(self, ns: Namespace, key: str) -> bool:
        args = (ns.workspace_id, ns.ns, key)

        def write(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                f"DELETE FROM kv_entries WHERE {_WHERE} RETURNING is_list, expires_at", args
            ).fetchone()
            if row is None:
                return False
            if row[0]:
                _drop_items(conn, args)
            return _live(row[1], clock.now())

        return await self.db.write(write)

    async def append(
        self,
        ns: Namespace,
        key: str,
        item: ListItem,
        expires_at: float | None = None,
        *,
        max_items: int,
    ) -> tuple[int, int]:
        args = (ns.workspace_id, ns.ns, key)
        item_bytes = len(item.text.encode())

        def write(conn: sqlite3.Connection) -> tuple[int, int]:
            now = clock.now()
            old = _current(conn, args, now)
            if old is not None and old.live:
                if not old.is_list:  # the key holds a non-list: nothing is changed
                    raise not_a_list(key)
                # Decided on the row this job read inside the write transaction, so
                # concurrent appends (other processes too) take turns and never overshoot.
                if old.length >= max_items:
                    raise list_full(key, old.length, max_items)
                length = old.length + 1
                size = old.size + item_bytes + (1 if old.length else 0)
                version = old.version + 1
                expiry = expires_at if expires_at is not None else old.expires_at
            else:  # a new list (an expired key counts as missing)
                if old is not None and old.is_list:
                    _drop_items(conn, args)
                length, size, expiry = 1, 2 + item_bytes, expires_at
                version = old.version + 1 if old is not None else 1
            conn.execute(_UPSERT, (*args, 1, None, length, size, version, expiry, utc_now()))
            conn.execute(_INSERT_ITEM, (*args, item.text, item.canon, item.hash))
            return length, version

        return await self.db.write(write)

    async def remove(self, ns: Namespace, key: str, item: ListItem) -> tuple[int, int]:
        args = (ns.workspace_id, ns.ns, key)
        canon = item.canon if item.canon is not None else item.text

        def write(conn: sqlite3.Connection) -> tuple[int, int]:
            old = _current(conn, args, clock.now())
            if old is None or not old.live:
                return 0, 0
            if not old.is_list:
                raise not_a_list(key)
            gone = conn.execute(
                f"DELETE FROM kv_list_items WHERE {_WHERE} AND value_hash = ? "
                "AND coalesce(canon, value) = ? RETURNING length(CAST(value AS BLOB))",
                (*args, item.hash, canon),
            ).fetchall()
            removed = len(gone)
            if not removed:
                return 0, old.length
            length = old.length - removed
            size = old.size - sum(int(r[0]) for r in gone) - removed if length else 2
            conn.execute(
                f"UPDATE kv_entries SET length = ?, size = ?, version = version + 1, "
                f"updated_at = ? WHERE {_WHERE}",
                (length, size, utc_now(), *args),
            )
            return removed, length

        return await self.db.write(write)

    async def increment(self, ns: Namespace, key: str, by: int | float) -> tuple[bytes, int]:
        args = (ns.workspace_id, ns.ns, key)

        def write(conn: sqlite3.Connection) -> tuple[bytes, int]:
            # Read and write inside one writer job: the transaction holds SQLite's write lock
            # (and the cross-process file lock), so no other increment can interleave.
            old = _current(conn, args, clock.now())
            if old is not None and old.live:
                if old.is_list:
                    raise not_a_number(key)
                current, expiry = str(old.value).encode(), old.expires_at
            else:
                current, expiry = b"0", None
                if old is not None and old.is_list:
                    _drop_items(conn, args)
            value = add_numbers(key, current, by)
            version = old.version + 1 if old is not None else 1
            conn.execute(
                _UPSERT, (*args, 0, value.decode(), 0, len(value), version, expiry, utc_now())
            )
            return value, version

        return await self.db.write(write)

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[KeyInfo]:
        # A range scan of the primary key (workspace_id, ns, key): one lower bound (the larger
        # of the prefix and the cursor), the prefix's upper bound, in index order.
        sql = (
            "SELECT key, size, is_list, length, version, updated_at, expires_at "
            "FROM kv_entries WHERE workspace_id = ? AND ns = ?"
        )
        params: list[Any] = [ns.workspace_id, ns.ns]
        if after is not None and after >= prefix:
            sql += " AND key > ?"
            params.append(after)
        else:
            sql += " AND key >= ?"
            params.append(prefix)
        upper = prefix_upper_bound(prefix) if prefix else None
        if upper is not None:
            sql += " AND key < ?"
            params.append(upper)
        sql += f" AND {_LIVE} ORDER BY key LIMIT ?"
        params += [clock.now(), limit]
        rows = self.db.read(lambda c: c.execute(sql, params).fetchall())
        return [
            KeyInfo(r[0], int(r[1]), bool(r[2]), int(r[3]), int(r[4]), r[5], r[6]) for r in rows
        ]

    async def sweep(self, limit: int) -> int:
        def write(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                "DELETE FROM kv_entries WHERE (workspace_id, ns, key) IN ("
                " SELECT workspace_id, ns, key FROM kv_entries WHERE expires_at <= ? LIMIT ?"
                ") RETURNING workspace_id, ns, key, is_list",
                (clock.now(), limit),
            ).fetchall()
            for ws, ns_, key, is_list in rows:
                if is_list:
                    _drop_items(conn, (ws, ns_, key))
            return len(rows)

        return await self.db.write(write)
