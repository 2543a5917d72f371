"""End user records, and erasing one end user's data, on PostgreSQL."""

from __future__ import annotations

import asyncpg

from cubby.backends.base import Erased
from cubby.backends.postgres import agent_items
from cubby.backends.postgres.agent_tx import transaction
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.rows import EU_COLS, duplicate_end_user, eu_row, eu_values
from cubby.core.models import EndUser
from cubby.errors import NotFound


class PgEndUsers:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def create(self, end_user: EndUser) -> None:
        try:
            await self.db.execute(
                f"INSERT INTO end_users ({EU_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                *eu_values(end_user),
            )
        except asyncpg.UniqueViolationError:
            raise duplicate_end_user(end_user.external_id) from None
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(
                "workspace not found", details={"workspaceId": end_user.workspace_id}
            ) from None

    async def page(self, workspace_id: str, limit: int, offset: int) -> tuple[list[EndUser], int]:
        rows = await self.db.fetch(
            "WITH t AS (SELECT count(*) AS total FROM end_users WHERE workspace_id = $1) "
            f"SELECT t.total, p.* FROM t LEFT JOIN LATERAL (SELECT {EU_COLS} FROM end_users "
            "WHERE workspace_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3) p ON TRUE "
            "ORDER BY p.created_at, p.id",
            workspace_id,
            limit,
            offset,
        )
        total = int(rows[0][0]) if rows else 0
        return [eu_row(r[1:]) for r in rows if r[1] is not None], total

    async def get(self, end_user_id: str) -> EndUser | None:
        row = await self.db.fetchrow(f"SELECT {EU_COLS} FROM end_users WHERE id = $1", end_user_id)
        return eu_row(row) if row else None

    async def update(self, end_user: EndUser) -> None:
        values = eu_values(end_user)
        await self.db.execute(
            "UPDATE end_users SET display_name = $1, email = $2, metadata = $3, updated_at = $4 "
            "WHERE id = $5",
            *values[3:6],
            values[7],
            values[0],
        )

    async def delete(self, end_user_id: str) -> bool:
        return await self.db.execute("DELETE FROM end_users WHERE id = $1", end_user_id) > 0

    async def erase_data(self, workspace_id: str, ns: str) -> Erased:
        async with transaction(self.db) as conn:
            row = await conn.fetchrow(
                "SELECT o_keys, o_files, o_bytes, o_blobs FROM cubby_erase_namespace($1, $2)",
                workspace_id,
                ns,
            )
            items = await conn.fetchval(agent_items.ERASE, workspace_id, ns)
        return Erased(
            keys=int(row[0]),
            files=int(row[1]),
            bytes=int(row[2]),
            blob_keys=list(row[3]),
            items=int(items),
        )
