"""The file index on PostgreSQL (metadata, plus bodies small enough to live inline)."""

from __future__ import annotations

from typing import Any

from cubby.backends.base import FileRecord
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.rows import FILE_COLS, file_record

# Lock the current row (if any) before the upsert: after waiting for a concurrent writer,
# FOR UPDATE sees its committed row, so the blob key handed back for dropping is the one
# actually replaced. The INSERT reads from `old` (the gate) so that `old` runs first: evaluated
# lazily in RETURNING it would meet a row this statement already changed, and see nothing.
from cubby.backends.sqlite.files import prefix_upper_bound
from cubby.core.scopes import Namespace

_PUT = (
    "WITH old AS MATERIALIZED ("
    " SELECT blob_key FROM files WHERE workspace_id = $1 AND ns = $2 AND path = $3 FOR UPDATE"
    ") INSERT INTO files AS f (workspace_id, ns, path, size, content_type, etag, blob_key,"
    " inline_body, created_at, updated_at)"
    " SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::text,"
    " $8::bytea, $9::text, $10::text FROM (SELECT count(*) FROM old) AS gate"
    " ON CONFLICT (workspace_id, ns, path) DO UPDATE SET size = excluded.size,"
    " content_type = excluded.content_type, etag = excluded.etag,"
    " blob_key = excluded.blob_key, inline_body = excluded.inline_body,"
    " updated_at = excluded.updated_at"
    " RETURNING f.created_at, (SELECT blob_key FROM old)"
)


class PgFiles:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def get(self, ns: Namespace, path: str) -> FileRecord | None:
        row = await self.db.fetchrow(
            f"SELECT {FILE_COLS}, inline_body FROM files "
            "WHERE workspace_id = $1 AND ns = $2 AND path = $3",
            ns.workspace_id,
            ns.ns,
            path,
        )
        return file_record(row, row[7]) if row else None

    async def put(self, ns: Namespace, record: FileRecord) -> str | None:
        # A first write racing another first write to the same path replaces a row this
        # statement did not see; that body becomes an orphan for the blob sweep, never a
        # missing or torn file.
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
            record.created_at,
            record.updated_at,
        )
        record.created_at = row[0]
        return row[1]  # type: ignore[no-any-return]

    async def delete(self, ns: Namespace, path: str) -> tuple[bool, str | None]:
        row = await self.db.fetchrow(
            "DELETE FROM files WHERE workspace_id = $1 AND ns = $2 AND path = $3 "
            "RETURNING blob_key",
            ns.workspace_id,
            ns.ns,
            path,
        )
        return (True, row[0]) if row else (False, None)

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[FileRecord]:
        sql = f"SELECT {FILE_COLS} FROM files WHERE workspace_id = $1 AND ns = $2"
        args: list[Any] = [ns.workspace_id, ns.ns]
        if prefix:
            # A range scan on the primary key ("C" collation: code point order).
            args.append(prefix)
            sql += f" AND path >= ${len(args)}"
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                args.append(upper)
                sql += f" AND path < ${len(args)}"
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
