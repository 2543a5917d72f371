"""The file index on PostgreSQL (metadata, plus bodies small enough to live inline).

Reads filter out rows whose ``expires_at`` has passed. Writes with a precondition and renames
are PL/pgSQL functions (migrations/0015): they lock the current row, decide, and change it in
one round trip, so a precondition is checked on exactly the row the change replaces.
"""

from __future__ import annotations

from typing import Any

from cubby.backends.base import FileMissing, FilePreconditionFailed, FileRecord
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.rows import FILE_COLS, file_record
from cubby.backends.sqlite.files import prefix_range
from cubby.core import clock
from cubby.core.scopes import Namespace

_KEY = "workspace_id = $1 AND ns = $2 AND path = $3"
_PUT = (
    "SELECT o_ok, o_created_at, o_replaced, o_current FROM cubby_file_put("
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
)


class PgFiles:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, path: str) -> FileRecord | None:
        row = await self.db.fetchrow(
            f"SELECT {FILE_COLS}, inline_body FROM files "
            f"WHERE {_KEY} AND (expires_at IS NULL OR expires_at > $4)",
            ns.workspace_id,
            ns.ns,
            path,
            clock.now(),
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
        row = await self.db.fetchrow(
            _PUT,
            ns.workspace_id,
            ns.ns,
            record.path,
            record.size,
            record.content_type,
            record.etag,
            record.blob_key,
            record.inline_body,
            record.updated_at,
            record.expires_at,
            clock.now(),
            if_match,
            if_none_match,
        )
        if not row[0]:
            raise FilePreconditionFailed(row[3])
        record.created_at = row[1]
        return row[2]  # type: ignore[no-any-return]

    async def delete(
        self, ns: Namespace, path: str, *, if_match: str | None = None
    ) -> tuple[bool, str | None]:
        args: list[Any] = [ns.workspace_id, ns.ns, path]
        sql = f"DELETE FROM files WHERE {_KEY}"
        if if_match is not None:
            args += [if_match, clock.now()]
            sql += " AND etag = $4 AND (expires_at IS NULL OR expires_at > $5)"
        row = await self.db.fetchrow(sql + " RETURNING blob_key, expires_at", *args)
        if row is None:
            if if_match is not None:
                current = await self.db.fetchval(
                    f"SELECT etag FROM files WHERE {_KEY} AND (expires_at IS NULL "
                    "OR expires_at > $4)",
                    ns.workspace_id,
                    ns.ns,
                    path,
                    clock.now(),
                )
                raise FilePreconditionFailed(current)
            return False, None
        live = row[1] is None or row[1] > clock.now()
        return live, row[0]

    async def move(
        self, ns: Namespace, src: str, dst: str, overwrite: bool
    ) -> tuple[str, str | None]:
        now = clock.now()
        row = await self.db.fetchrow(
            "SELECT o_status, o_etag, o_replaced FROM cubby_file_move($1, $2, $3, $4, $5, $6, $7)",
            ns.workspace_id,
            ns.ns,
            src,
            dst,
            overwrite,
            clock.iso(now),
            now,
        )
        if row[0] == "missing":
            raise FileMissing(src)
        if row[0] == "conflict":
            raise FilePreconditionFailed(None)
        return row[1], row[2]

    async def delete_batch(
        self, ns: Namespace, prefix: str, limit: int
    ) -> tuple[int, int, list[str]]:
        args: list[Any] = [ns.workspace_id, ns.ns]
        where = "workspace_id = $1 AND ns = $2" + prefix_range(prefix, args, "${}")
        args.append(limit)
        rows = await self.db.fetch(
            f"DELETE FROM files WHERE (workspace_id, ns, path) IN (SELECT workspace_id, ns, path "
            f"FROM files WHERE {where} ORDER BY path LIMIT ${len(args)}) "
            "RETURNING blob_key, expires_at",
            *args,
        )
        now = clock.now()
        live = sum(1 for r in rows if r[1] is None or r[1] > now)
        return len(rows), live, [r[0] for r in rows if r[0] is not None]

    async def delete_expired(self, now: float, limit: int) -> tuple[int, list[str]]:
        rows = await self.db.fetch(
            "DELETE FROM files WHERE (workspace_id, ns, path) IN (SELECT workspace_id, ns, path "
            "FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2) "
            "RETURNING blob_key",
            now,
            limit,
        )
        return len(rows), [r[0] for r in rows if r[0] is not None]

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[FileRecord]:
        args: list[Any] = [ns.workspace_id, ns.ns, clock.now()]
        sql = (
            f"SELECT {FILE_COLS} FROM files WHERE workspace_id = $1 AND ns = $2 "
            "AND (expires_at IS NULL OR expires_at > $3)"
        )
        sql += prefix_range(prefix, args, "${}")  # a range scan on the primary key ("C")
        if after is not None:
            args.append(after)
            sql += f" AND path > ${len(args)}"
        args.append(limit)
        sql += f" ORDER BY path LIMIT ${len(args)}"
        rows = await self.db.fetch(sql, *args)
        return [file_record(r) for r in rows]

    async def referenced_blobs(self, blob_keys: list[str]) -> set[str]:
        if not blob_keys:
            return set()
        rows = await self.db.fetch(
            "SELECT blob_key FROM files WHERE blob_key = ANY($1::text[])", blob_keys
        )
        return {r[0] for r in rows}
