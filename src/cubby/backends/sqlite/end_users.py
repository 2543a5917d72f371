"""End user records, and erasing one end user's data, on SQLite."""

from __future__ import annotations

import sqlite3

from cubby.backends.base import Erased
from cubby.backends.rows import EU_COLS, duplicate_end_user, eu_row, eu_values
from cubby.backends.sqlite import agent_items
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.models import EndUser

_WHERE = "workspace_id = ? AND ns = ?"


class SqliteEndUsers:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def create(self, end_user: EndUser) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO end_users ({EU_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    eu_values(end_user),
                )
            except sqlite3.IntegrityError:
                raise duplicate_end_user(end_user.external_id) from None

        await self.db.write(insert)

    async def page(self, workspace_id: str, limit: int, offset: int) -> tuple[list[EndUser], int]:
        def query(conn: sqlite3.Connection) -> tuple[list[EndUser], int]:
            total = conn.execute(
                "SELECT count(*) FROM end_users WHERE workspace_id = ?", (workspace_id,)
            ).fetchone()[0]
            rows = conn.execute(
                f"SELECT {EU_COLS} FROM end_users WHERE workspace_id = ? "
                "ORDER BY created_at, id LIMIT ? OFFSET ?",
                (workspace_id, limit, offset),
            ).fetchall()
            return [eu_row(r) for r in rows], int(total)

        return self.db.read_snapshot(query)

    async def get(self, end_user_id: str) -> EndUser | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {EU_COLS} FROM end_users WHERE id = ?", (end_user_id,)
            ).fetchone()
        )
        return eu_row(row) if row else None

    async def update(self, end_user: EndUser) -> None:
        values = eu_values(end_user)
        await self.db.write(
            lambda c: c.execute(
                "UPDATE end_users SET display_name = ?, email = ?, metadata = ?, updated_at = ? "
                "WHERE id = ?",
                (*values[3:6], values[7], values[0]),
            )
        )

    async def delete(self, end_user_id: str) -> bool:
        cur = await self.db.write(
            lambda c: c.execute("DELETE FROM end_users WHERE id = ?", (end_user_id,))
        )
        return bool(cur.rowcount)

    async def erase_data(self, workspace_id: str, ns: str) -> Erased:
        args = (workspace_id, ns)

        def write(conn: sqlite3.Connection) -> Erased:
            # One transaction (the writer serialises it with every other write).
            keys = conn.execute(
                f"DELETE FROM kv_entries WHERE {_WHERE} RETURNING size", args
            ).fetchall()
            conn.execute(f"DELETE FROM kv_list_items WHERE {_WHERE}", args)
            removed = conn.execute(
                f"DELETE FROM files WHERE {_WHERE} RETURNING size, blob_key", args
            ).fetchall()
            items = agent_items.erase(conn, workspace_id, ns)
            return Erased(
                keys=len(keys),
                files=len(removed),
                # as the usage counters count: file bodies and KV values (migrations/0018)
                bytes=sum(int(r[0]) for r in removed) + sum(int(r[0]) for r in keys),
                blob_keys=[r[1] for r in removed if r[1] is not None],
                items=items,
            )

        return await self.db.write(write)
