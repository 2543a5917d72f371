"""Workspaces, API keys and workspace integrations on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec

from cubby.backends.base import StoredKey
from cubby.backends.postgres.db import PgDatabase, rowcount
from cubby.backends.rows import (
    KEY_COLS,
    WI_COLS,
    WS_COLS,
    alias_conflict,
    permissions_decoder,
    slug_exists,
    wi_row,
    wi_values,
)
from cubby.core.models import ApiKey, Workspace, WorkspaceIntegration
from cubby.errors import NotFound


class PgWorkspaces:
    def __init__(self, db: PgDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    def _row(self, row: Any) -> Workspace:
        return Workspace(
            id=row[0],
            org_id=self.org_id,
            name=row[1],
            slug=row[2],
            created_at=row[3],
            updated_at=row[4],
        )

    async def create(self, workspace: Workspace) -> None:
        try:
            await self.db.execute(
                f"INSERT INTO workspaces ({WS_COLS}) VALUES ($1, $2, $3, $4, $5)",
                workspace.id,
                workspace.name,
                workspace.slug,
                workspace.created_at,
                workspace.updated_at,
            )
        except asyncpg.UniqueViolationError:
            raise slug_exists(workspace.slug) from None

    async def page(
        self, limit: int, offset: int, only_ids: list[str] | None
    ) -> tuple[list[Workspace], int]:
        # One statement, so the total and the page come from the same snapshot; the LEFT JOIN
        # keeps the total row when the page is empty.
        where = "WHERE id = ANY($3::text[])" if only_ids is not None else "WHERE $3::text[] IS NULL"
        rows = await self.db.fetch(
            f"WITH t AS (SELECT count(*) AS total FROM workspaces {where}) "
            f"SELECT t.total, p.* FROM t LEFT JOIN LATERAL (SELECT {WS_COLS} FROM workspaces "
            f"{where} ORDER BY created_at, id LIMIT $1 OFFSET $2) p ON TRUE "
            "ORDER BY p.created_at, p.id",
            limit,
            offset,
            only_ids,
        )
        total = int(rows[0][0]) if rows else 0
        return [self._row(r[1:]) for r in rows if r[1] is not None], total

    async def get(self, workspace_id: str) -> Workspace | None:
        row = await self.db.fetchrow(
            f"SELECT {WS_COLS} FROM workspaces WHERE id = $1", workspace_id
        )
        return self._row(row) if row else None

    async def update(self, workspace: Workspace) -> None:
        try:
            await self.db.execute(
                "UPDATE workspaces SET name = $1, slug = $2, updated_at = $3 WHERE id = $4",
                workspace.name,
                workspace.slug,
                workspace.updated_at,
                workspace.id,
            )
        except asyncpg.UniqueViolationError:
            raise slug_exists(workspace.slug) from None

    async def delete(self, workspace_id: str) -> list[str] | None:
        # Integrations go by ON DELETE CASCADE; data rows by workspace, in the same statement.
        row = await self.db.fetchrow(
            "WITH w AS (DELETE FROM workspaces WHERE id = $1 RETURNING id), "
            "e AS (DELETE FROM kv_entries WHERE workspace_id = $1 AND EXISTS (SELECT FROM w)), "
            "i AS (DELETE FROM kv_list_items WHERE workspace_id = $1 "
            "      AND EXISTS (SELECT FROM w)), "
            "f AS (DELETE FROM files WHERE workspace_id = $1 AND EXISTS (SELECT FROM w) "
            "      RETURNING blob_key) "
            "SELECT EXISTS (SELECT FROM w), "
            "array(SELECT blob_key FROM f WHERE blob_key IS NOT NULL)",
            workspace_id,
        )
        if not row[0]:
            return None
        return list(row[1])


class PgApiKeys:
    def __init__(self, db: PgDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    def _row(self, row: Any) -> ApiKey:
        return ApiKey(
            id=row[0],
            org_id=self.org_id,
            name=row[1],
            key_prefix=row[2],
            permissions=permissions_decoder.decode(row[3]) if row[3] else None,
            last_used_at=row[4],
            expires_at=row[5],
            created_at=row[6],
        )

    async def create(self, key: ApiKey, key_hash: str) -> None:
        permissions = msgspec.json.encode(key.permissions).decode() if key.permissions else None
        await self.db.execute(
            f"INSERT INTO api_keys ({KEY_COLS}, key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            key.id,
            key.name,
            key.key_prefix,
            permissions,
            key.last_used_at,
            key.expires_at,
            key.created_at,
            key_hash,
        )

    async def all(self) -> list[ApiKey]:
        rows = await self.db.fetch(
            f"SELECT {KEY_COLS} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id"
        )
        return [self._row(r) for r in rows]

    async def find_by_hash(self, key_hash: str) -> StoredKey | None:
        row = await self.db.fetchrow(
            f"SELECT {KEY_COLS}, key_hash, revoked_at FROM api_keys WHERE key_hash = $1",
            key_hash,
        )
        if row is None:
            return None
        return StoredKey(key=self._row(row), key_hash=row[7], revoked=row[8] is not None)

    async def revoke(
        self, key_id: str, at: str, refuse: Callable[[list[ApiKey]], bool] | None = None
    ) -> bool:
        update = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"
        if refuse is None:
            return await self.db.execute(update, at, key_id) > 0
        async with self.db.connection() as conn, conn.transaction():
            # Revokes from every process take turns (key management is rare), so two of them
            # cannot each see the other's key as the one that stays.
            await conn.execute("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE")
            active = await conn.fetch(f"SELECT {KEY_COLS} FROM api_keys WHERE revoked_at IS NULL")
            refuse([self._row(r) for r in active])
            return rowcount(await conn.execute(update, at, key_id)) > 0

    async def touch(self, last_used: dict[str, str]) -> None:
        if not last_used:
            return
        # Several processes flush their own view; keep the latest stamp (they sort as text).
        await self.db.execute(
            "UPDATE api_keys k SET last_used_at = v.at "
            "FROM unnest($1::text[], $2::text[]) AS v (id, at) "
            "WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)",
            list(last_used),
            list(last_used.values()),
        )

    async def count_all(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM api_keys"))


class PgIntegrations:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def create(self, integration: WorkspaceIntegration) -> None:
        marks = ", ".join(f"${i}" for i in range(1, 16))
        try:
            await self.db.execute(
                f"INSERT INTO workspace_integrations ({WI_COLS}) VALUES ({marks})",
                *wi_values(integration),
            )
        except asyncpg.UniqueViolationError:
            raise alias_conflict(integration.alias) from None
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(
                "workspace not found", details={"workspaceId": integration.workspace_id}
            ) from None

    async def in_workspace(self, workspace_id: str) -> list[WorkspaceIntegration]:
        rows = await self.db.fetch(
            f"SELECT {WI_COLS} FROM workspace_integrations WHERE workspace_id = $1 "
            "ORDER BY sort_order, created_at, id",
            workspace_id,
        )
        return [wi_row(r) for r in rows]

    async def get(self, workspace_id: str, integration_id: str) -> WorkspaceIntegration | None:
        row = await self.db.fetchrow(
            f"SELECT {WI_COLS} FROM workspace_integrations WHERE workspace_id = $1 AND id = $2",
            workspace_id,
            integration_id,
        )
        return wi_row(row) if row else None

    async def update(self, integration: WorkspaceIntegration) -> None:
        values = wi_values(integration)
        try:
            await self.db.execute(
                "UPDATE workspace_integrations SET alias = $1, display_name = $2, "
                "connection_strategy = $3, connection_id = $4, auth_method_key = $5, "
                "oauth_app_mode = $6, oauth_app_id = $7, enabled_actions = $8, settings = $9, "
                "sort_order = $10, updated_at = $11 WHERE id = $12 AND workspace_id = $13",
                *values[3:13],
                values[14],
                values[0],
                values[1],
            )
        except asyncpg.UniqueViolationError:
            raise alias_conflict(integration.alias) from None

    async def delete(self, workspace_id: str, integration_id: str) -> bool:
        count = await self.db.execute(
            "DELETE FROM workspace_integrations WHERE workspace_id = $1 AND id = $2",
            workspace_id,
            integration_id,
        )
        return count > 0

    async def for_execute(
        self, workspace_id: str, integration_name: str
    ) -> tuple[bool, list[WorkspaceIntegration]]:
        rows = await self.db.fetch(
            f"SELECT w.id, {', '.join('wi.' + col for col in WI_COLS.split(', '))} "
            "FROM workspaces w LEFT JOIN workspace_integrations wi "
            "ON wi.workspace_id = w.id AND wi.integration_name = $1 WHERE w.id = $2",
            integration_name,
            workspace_id,
        )
        if not rows:
            return False, []
        return True, [wi_row(r[1:]) for r in rows if r[1] is not None]
