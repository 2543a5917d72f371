"""The file index on SQLite (metadata, plus bodies small enough to live inline).

Every read filters out rows whose ``expires_at`` has passed, so an expired file is missing at
once; writes run in the writer thread (one serialised transaction), where a precondition is
checked on the same row the change then replaces.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.base import FileMissing, FilePreconditionFailed, FileRecord
from cubby.backends.rows import FILE_COLS, file_record
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core import clock
from cubby.core.paging import prefix_upper_bound
from cubby.core.scopes import Namespace

__all__ = ["SqliteFiles", "prefix_range", "prefix_upper_bound"]

_KEY = "workspace_id = ? AND ns = ? AND path = ?"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


def prefix_range(prefix: str, args: list[Any], mark: str = "?") -> str:
    """SQL (and ``args``) for ``path`` starting with ``prefix``: a range scan on the path index.
    UTF-8 keeps code point order, so every such path sorts in [prefix, prefix_upper_bound)."""
    if not prefix:
        return ""
    args.append(prefix)
    sql = f" AND path >= {mark.format(len(args))}"
    upper = prefix_upper_bound(prefix)
    if upper is not None:
        args.append(upper)
        sql += f" AND path < {mark.format(len(args))}"
    return sql


def _live(expires_at: float | None, now: float) -> bool:
    return expires_at is None or expires_at > now


class SqliteFiles:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, path: str) -> FileRecord | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {FILE_COLS}, inline_body FROM files WHERE {_KEY} AND {_LIVE}",
                (ns.workspace_id, ns.ns, path, clock.now()),
            ).fetchone()
        )
        return file_record(row, row[8]) if row else None

    async def put(
        self,
        ns: Namespace,
        record: FileRecord,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str | None:
        now = clock.now()

        def write(conn: sqlite3.Connection) -> str | None:
            old = conn.execute(
                f"SELECT blob_key, created_at, etag, expires_at FROM files WHERE {_KEY}",
                (ns.workspace_id, ns.ns, record.path),
            ).fetchone()
            live = old is not None and _live(old[3], now)
            current = old[2] if old is not None and live else None
            if (if_match is not None and current != if_match) or (if_none_match and live):
                raise FilePreconditionFailed(current)
            created_at = old[1] if live else record.created_at
            conn.execute(
                "INSERT INTO files (workspace_id, ns, path, size, content_type, etag, blob_key, "
                "inline_body, created_at, updated_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (workspace_id, ns, path) DO UPDATE SET size = excluded.size, "
                "content_type = excluded.content_type, etag = excluded.etag, "
                "blob_key = excluded.blob_key, inline_body = excluded.inline_body, "
                "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                "expires_at = excluded.expires_at",
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
                    record.expires_at,
                ),
            )
            record.created_at = created_at
            return old[0] if old else None

        return await self.db.write(write)

    async def delete(
        self, ns: Namespace, path: str, *, if_match: str | None = None
    ) -> tuple[bool, str | None]:
        now = clock.now()

        def write(conn: sqlite3.Connection) -> tuple[bool, str | None]:
            if if_match is not None:
                row = conn.execute(
                    f"SELECT etag FROM files WHERE {_KEY} AND {_LIVE}",
                    (ns.workspace_id, ns.ns, path, now),
                ).fetchone()
                if row is None or row[0] != if_match:
                    raise FilePreconditionFailed(row[0] if row else None)
            row = conn.execute(
                f"DELETE FROM files WHERE {_KEY} RETURNING blob_key, expires_at",
                (ns.workspace_id, ns.ns, path),
            ).fetchone()
            if row is None:
                return False, None
            return _live(row[1], now), row[0]

        return await self.db.write(write)

    async def move(
        self, ns: Namespace, src: str, dst: str, overwrite: bool
    ) -> tuple[str, str | None]:
        now = clock.now()
        now_iso = clock.iso(now)

        def write(conn: sqlite3.Connection) -> tuple[str, str | None]:
            source = conn.execute(
                f"SELECT etag FROM files WHERE {_KEY} AND {_LIVE}",
                (ns.workspace_id, ns.ns, src, now),
            ).fetchone()
            if source is None:
                raise FileMissing(src)
            if src == dst:
                return str(source[0]), None
            target = conn.execute(
                f"SELECT blob_key, expires_at, etag FROM files WHERE {_KEY}",
                (ns.workspace_id, ns.ns, dst),
            ).fetchone()
            replaced = None
            if target is not None:
                if not overwrite and _live(target[1], now):
                    raise FilePreconditionFailed(target[2])
                conn.execute(f"DELETE FROM files WHERE {_KEY}", (ns.workspace_id, ns.ns, dst))
                replaced = target[0]
            conn.execute(
                f"UPDATE files SET path = ?, updated_at = ? WHERE {_KEY}",
                (dst, now_iso, ns.workspace_id, ns.ns, src),
            )
            return str(source[0]), replaced

        return await self.db.write(write)

    async def delete_batch(
        self, ns: Namespace, prefix: str, limit: int
    ) -> tuple[int, int, list[str]]:
        now = clock.now()
        args: list[Any] = [ns.workspace_id, ns.ns]
        where = "workspace_id = ? AND ns = ?" + prefix_range(prefix, args)
        args.append(limit)

        def write(conn: sqlite3.Connection) -> tuple[int, int, list[str]]:
            rows = conn.execute(
                f"DELETE FROM files WHERE rowid IN (SELECT rowid FROM files WHERE {where} "
                "ORDER BY path LIMIT ?) RETURNING blob_key, expires_at",
                args,
            ).fetchall()
            live = sum(1 for r in rows if _live(r[1], now))
            return len(rows), live, [r[0] for r in rows if r[0] is not None]

        return await self.db.write(write)

    async def delete_expired(self, now: float, limit: int) -> tuple[int, list[str]]:
        def write(conn: sqlite3.Connection) -> tuple[int, list[str]]:
            rows = conn.execute(
                "DELETE FROM files WHERE rowid IN (SELECT rowid FROM files "
                "WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?) RETURNING blob_key",
                (now, limit),
            ).fetchall()
            return len(rows), [r[0] for r in rows if r[0] is not None]

        return await self.db.write(write)

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[FileRecord]:
        args: list[Any] = [ns.workspace_id, ns.ns, clock.now()]
        sql = f"SELECT {FILE_COLS} FROM files WHERE workspace_id = ? AND ns = ? AND {_LIVE}"
        sql += prefix_range(prefix, args)
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
