"""Workspaces, API keys and workspace integrations on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import msgspec

from cubby.backends.base import StoredKey
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
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.models import ApiKey, Workspace, WorkspaceIntegration


class SqliteWorkspaces:
    def __init__(self, db: SqliteDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    def _row(self, row: tuple[Any, ...]) -> Workspace:
        return Workspace(
            id=row[0],
            org_id=self.org_id,
            name=row[1],
            slug=row[2],
            created_at=row[3],
            updated_at=row[4],
        )

    async def create(self, workspace: Workspace) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO workspaces ({WS_COLS}) VALUES (?, ?, ?, ?, ?)",
                    (
                        workspace.id,
                        workspace.name,
                        workspace.slug,
                        workspace.created_at,
                        workspace.updated_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise slug_exists(workspace.slug) from None

        await self.db.write(insert)

    async def page(
        self, limit: int, offset: int, only_ids: list[str] | None
    ) -> tuple[list[Workspace], int]:
        where, args = "", []
        if only_ids is not None:
            where = f"WHERE id IN ({','.join('?' * len(only_ids))})" if only_ids else "WHERE 0"
            args = list(only_ids)

        def query(conn: sqlite3.Connection) -> tuple[list[Workspace], int]:
            total = conn.execute(f"SELECT count(*) FROM workspaces {where}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT {WS_COLS} FROM workspaces {where} ORDER BY created_at, id "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [self._row(r) for r in rows], total

        return self.db.read_snapshot(query)

    async def get(self, workspace_id: str) -> Workspace | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {WS_COLS} FROM workspaces WHERE id = ?", (workspace_id,)
            ).fetchone()
        )
        return self._row(row) if row else None

    async def update(self, workspace: Workspace) -> None:
        def update(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "UPDATE workspaces SET name = ?, slug = ?, updated_at = ? WHERE id = ?",
                    (workspace.name, workspace.slug, workspace.updated_at, workspace.id),
                )
            except sqlite3.IntegrityError:
                raise slug_exists(workspace.slug) from None

        await self.db.write(update)

    async def delete(self, workspace_id: str) -> list[str] | None:
        def delete(conn: sqlite3.Connection) -> list[str] | None:
            cur = conn.execute("DELETE FROM workspaces WHERE id = ?", (workspace_id,))
            if cur.rowcount == 0:
                return None
            blobs = [
                r[0]
                for r in conn.execute(
                    "SELECT blob_key FROM files WHERE workspace_id = ? AND blob_key IS NOT NULL",
                    (workspace_id,),
                )
            ]
            for table in ("kv_entries", "kv_list_items", "files"):
                conn.execute(f"DELETE FROM {table} WHERE workspace_id = ?", (workspace_id,))
            return blobs

        return await self.db.write(delete)


class SqliteApiKeys:
    def __init__(self, db: SqliteDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    def _row(self, row: tuple[Any, ...]) -> ApiKey:
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
        await self.db.write(
            lambda c: c.execute(
                f"INSERT INTO api_keys ({KEY_COLS}, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.id,
                    key.name,
                    key.key_prefix,
                    permissions,
                    key.last_used_at,
                    key.expires_at,
                    key.created_at,
                    key_hash,
                ),
            )
        )

    async def all(self) -> list[ApiKey]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {KEY_COLS} FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at, id"
            ).fetchall()
        )
        return [self._row(r) for r in rows]

    async def find_by_hash(self, key_hash: str) -> StoredKey | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {KEY_COLS}, key_hash, revoked_at FROM api_keys WHERE key_hash = ?",
                (key_hash,),
            ).fetchone()
        )
        if row is None:
            return None
        return StoredKey(key=self._row(row), key_hash=row[7], revoked=row[8] is not None)

    async def revoke(
        self, key_id: str, at: str, refuse: Callable[[list[ApiKey]], bool] | None = None
    ) -> bool:
        def revoke(c: sqlite3.Connection) -> bool:
            if refuse is not None:  # the single writer's transaction is the lock
                active = c.execute(
                    f"SELECT {KEY_COLS} FROM api_keys WHERE revoked_at IS NULL"
                ).fetchall()
                refuse([self._row(r) for r in active])
            cur = c.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (at, key_id),
            )
            return bool(cur.rowcount)

        return await self.db.write(revoke)

    async def touch(self, last_used: dict[str, str]) -> None:
        await self.db.write(
            lambda c: c.executemany(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                [(at, key_id) for key_id, at in last_used.items()],
            )
        )

    async def count_all(self) -> int:
        return int(self.db.read(lambda c: c.execute("SELECT count(*) FROM api_keys").fetchone()[0]))


class SqliteIntegrations:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def create(self, integration: WorkspaceIntegration) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO workspace_integrations ({WI_COLS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    wi_values(integration),
                )
            except sqlite3.IntegrityError:
                raise alias_conflict(integration.alias) from None

        await self.db.write(insert)

    async def in_workspace(self, workspace_id: str) -> list[WorkspaceIntegration]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {WI_COLS} FROM workspace_integrations WHERE workspace_id = ? "
                "ORDER BY sort_order, created_at, id",
                (workspace_id,),
            ).fetchall()
        )
        return [wi_row(r) for r in rows]

    async def get(self, workspace_id: str, integration_id: str) -> WorkspaceIntegration | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {WI_COLS} FROM workspace_integrations WHERE workspace_id = ? AND id = ?",
                (workspace_id, integration_id),
            ).fetchone()
        )
        return wi_row(row) if row else None

    async def update(self, integration: WorkspaceIntegration) -> None:
        values = wi_values(integration)

        def update(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "UPDATE workspace_integrations SET alias = ?, display_name = ?, "
                    "connection_strategy = ?, connection_id = ?, auth_method_key = ?, "
                    "oauth_app_mode = ?, oauth_app_id = ?, enabled_actions = ?, settings = ?, "
                    "sort_order = ?, updated_at = ? WHERE id = ? AND workspace_id = ?",
                    (*values[3:13], values[14], values[0], values[1]),
                )
            except sqlite3.IntegrityError:
                raise alias_conflict(integration.alias) from None

        await self.db.write(update)

    async def delete(self, workspace_id: str, integration_id: str) -> bool:
        cur = await self.db.write(
            lambda c: c.execute(
                "DELETE FROM workspace_integrations WHERE workspace_id = ? AND id = ?",
                (workspace_id, integration_id),
            )
        )
        return bool(cur.rowcount)

    async def for_execute(
        self, workspace_id: str, integration_name: str
    ) -> tuple[bool, list[WorkspaceIntegration]]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT w.id, {', '.join('wi.' + col for col in WI_COLS.split(', '))} "
                "FROM workspaces w LEFT JOIN workspace_integrations wi "
                "ON wi.workspace_id = w.id AND wi.integration_name = ? WHERE w.id = ?",
                (integration_name, workspace_id),
            ).fetchall()
        )
        if not rows:
            return False, []
        return True, [wi_row(r[1:]) for r in rows if r[1] is not None]
