"""The file index on SQLite (metadata, plus bodies small enough to live inline)."""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.base import FileRecord
from cubby.backends.rows import FILE_COLS, file_record
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

__all__ = ["SqliteFiles", "prefix_upper_bound"]


class SqliteFiles:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, path: str) -> FileRecord | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {FILE_COLS}, inline_body FROM files "
                "WHERE workspace_id = ? AND ns = ? AND path = ?",
                (ns.workspace_id, ns.ns, path),
            ).fetchone()
        )
        return file_record(row, row[7]) if row else None

    async def put(self, ns: Namespace, record: FileRecord) -> str | None:
        def write(conn: sqlite3.Connection) -> str | None:
            old = conn.execute(
                "SELECT blob_key, created_at FROM files "
                "WHERE workspace_id = ? AND ns = ? AND path = ?",
                (ns.workspace_id, ns.ns, record.path),
            ).fetchone()
            created_at = old[1] if old else record.created_at
            conn.execute(
                "INSERT INTO files (workspace_id, ns, path, size, content_type, etag, blob_key, "
                "inline_body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (workspace_id, ns, path) DO UPDATE SET size = excluded.size, "
                "content_type = excluded.content_type, etag = excluded.etag, "
                "blob_key = excluded.blob_key, inline_body = excluded.inline_body, "
                "updated_at = excluded.updated_at",
                (
                    ns.workspace_id,
                    ns.ns,
                    record.path,
                    record.size,
                    record.content_type,
                    record.etag,
                    record.blob_key,
                    record.inline_body,
                    created_at,
                    record.updated_at,
                ),
            )
            record.created_at = created_at
            return old[0] if old else None

        return await self.db.write(write)

    async def delete(self, ns: Namespace, path: str) -> tuple[bool, str | None]:
        def write(conn: sqlite3.Connection) -> tuple[bool, str | None]:
            row = conn.execute(
                "DELETE FROM files WHERE workspace_id = ? AND ns = ? AND path = ? "
                "RETURNING blob_key",
                (ns.workspace_id, ns.ns, path),
            ).fetchone()
            return (True, row[0]) if row else (False, None)

        return await self.db.write(write)

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[FileRecord]:
        sql = f"SELECT {FILE_COLS} FROM files WHERE workspace_id = ? AND ns = ?"
        args: list[Any] = [ns.workspace_id, ns.ns]
        if prefix:
            # A range scan on the (workspace_id, ns, path) index: UTF-8 keeps code point
            # order, so every path with this prefix sorts in [prefix, prefix_upper_bound).
            sql += " AND path >= ?"
            args.append(prefix)
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                sql += " AND path < ?"
                args.append(upper)
        if after is not None:
            sql += " AND path > ?"
            args.append(after)
        sql += " ORDER BY path LIMIT ?"
        args.append(limit)
        rows = self.db.read(lambda c: c.execute(sql, args).fetchall())
        return [file_record(r) for r in rows]

    async def referenced_blobs(self, blob_keys: list[str]) -> set[str]:
        if not blob_keys:
            return set()
        marks = ",".join("?" * len(blob_keys))
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT blob_key FROM files WHERE blob_key IN ({marks})", blob_keys
            ).fetchall()
        )
        return {r[0] for r in rows}
