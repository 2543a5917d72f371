"""MCP servers, their tool overrides and tokens on PostgreSQL. Multi-row writes are single
statements (data-modifying CTEs), so each is atomic and one round trip."""

from __future__ import annotations

import asyncpg

from cubby.backends.mcp import (
    SERVER_COLS,
    TOKEN_COLS,
    TOOL_COLS,
    server_row,
    server_values,
    token_row,
    token_values,
    tool_conflict,
    tool_row,
    tool_values,
)
from cubby.backends.postgres.db import PgDatabase
from cubby.core.mcp_records import McpServer, McpServerTool, StoredToken
from cubby.errors import NotFound


def _marks(start: int, count: int) -> str:
    return ", ".join(f"${i}" for i in range(start, start + count))


class PgMcp:
    def __init__(self, db: PgDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    async def create_server(self, server: McpServer, token: StoredToken, token_hash: str) -> None:
        try:
            await self.db.execute(
                f"WITH s AS (INSERT INTO mcp_servers ({SERVER_COLS}) VALUES ({_marks(1, 12)}) "
                f"RETURNING id) INSERT INTO mcp_tokens ({TOKEN_COLS}, token_hash) "
                f"SELECT {_marks(13, 9)} FROM s",
                *server_values(server),
                *token_values(token, token_hash),
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(
                "workspace not found", details={"workspaceId": server.workspace_id}
            ) from None

    async def page_servers(
        self, workspace_ids: list[str] | None, limit: int, offset: int
    ) -> tuple[list[McpServer], int]:
        where = (
            "WHERE workspace_id = ANY($3::text[])"
            if workspace_ids is not None
            else "WHERE $3::text[] IS NULL"
        )
        rows = await self.db.fetch(
            f"WITH m AS (SELECT {SERVER_COLS} FROM mcp_servers {where}), "
            "t AS (SELECT count(*) AS total FROM m) "
            f"SELECT t.total, p.* FROM t LEFT JOIN LATERAL (SELECT * FROM m "
            "ORDER BY created_at, id LIMIT $1 OFFSET $2) p ON TRUE",
            limit,
            offset,
            workspace_ids,
        )
        total = int(rows[0][0]) if rows else 0
        servers = [server_row(tuple(r)[1:], self.org_id) for r in rows if r[1] is not None]
        return servers, total

    async def get_server(self, server_id: str) -> McpServer | None:
        row = await self.db.fetchrow(
            f"SELECT {SERVER_COLS} FROM mcp_servers WHERE id = $1", server_id
        )
        return server_row(tuple(row), self.org_id) if row else None

    async def update_server(self, server: McpServer) -> None:
        cols = SERVER_COLS.split(", ")
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(cols[1:], start=2))
        await self.db.execute(
            f"UPDATE mcp_servers SET {sets} WHERE id = $1", *server_values(server)
        )

    async def delete_server(self, server_id: str) -> bool:
        return await self.db.execute("DELETE FROM mcp_servers WHERE id = $1", server_id) > 0

    async def add_token(self, token: StoredToken, token_hash: str, at: str) -> None:
        revoke = ""
        args: list[object] = list(token_values(token, token_hash))
        if token.kind == "static":
            revoke = (
                "WITH old AS (UPDATE mcp_tokens SET revoked_at = $10 WHERE server_id = $2 "
                "AND kind = 'static' AND revoked_at IS NULL) "
            )
            args.append(at)
        try:
            await self.db.execute(
                f"{revoke}INSERT INTO mcp_tokens ({TOKEN_COLS}, token_hash) "
                f"VALUES ({_marks(1, 9)})",
                *args,
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("MCP server not found", details={"id": token.server_id}) from None

    async def find_token(self, token_hash: str) -> tuple[StoredToken, McpServer] | None:
        cols = ", ".join(f"t.{c}" for c in TOKEN_COLS.split(", "))
        scols = ", ".join(f"s.{c}" for c in SERVER_COLS.split(", "))
        row = await self.db.fetchrow(
            f"SELECT {cols}, t.revoked_at IS NOT NULL, {scols} FROM mcp_tokens t "
            "JOIN mcp_servers s ON s.id = t.server_id WHERE t.token_hash = $1",
            token_hash,
        )
        if row is None:
            return None
        values = tuple(row)
        return token_row(values[:8], bool(values[8])), server_row(values[9:], self.org_id)

    async def tokens(self, server_id: str) -> list[StoredToken]:
        rows = await self.db.fetch(
            f"SELECT {TOKEN_COLS} FROM mcp_tokens WHERE server_id = $1 AND revoked_at IS NULL "
            "ORDER BY created_at, id",
            server_id,
        )
        return [token_row(tuple(r)) for r in rows]

    async def revoke_token(self, server_id: str, token_id: str, at: str) -> bool:
        touched = await self.db.execute(
            "UPDATE mcp_tokens SET revoked_at = $3 WHERE id = $1 AND server_id = $2 "
            "AND revoked_at IS NULL",
            token_id,
            server_id,
            at,
        )
        return touched > 0

    async def tools(self, server_id: str) -> list[McpServerTool]:
        rows = await self.db.fetch(
            f"SELECT {TOOL_COLS} FROM mcp_server_tools WHERE server_id = $1 "
            "ORDER BY sort_order, id",
            server_id,
        )
        return [tool_row(tuple(r)) for r in rows]

    async def put_tool(self, tool: McpServerTool, create: bool) -> None:
        values = tool_values(tool)
        try:
            if create:
                await self.db.execute(
                    f"INSERT INTO mcp_server_tools ({TOOL_COLS}) VALUES ({_marks(1, 12)})",
                    *values,
                )
                return
            cols = TOOL_COLS.split(", ")
            sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(cols[2:], start=3))
            await self.db.execute(
                f"UPDATE mcp_server_tools SET {sets} WHERE id = $1 AND server_id = $2", *values
            )
        except asyncpg.ForeignKeyViolationError:
            raise NotFound("MCP server not found", details={"id": tool.mcp_server_id}) from None
        except asyncpg.UniqueViolationError:
            raise tool_conflict(tool.integration_alias, tool.action_name) from None

    async def delete_tool(self, server_id: str, tool_id: str) -> bool:
        touched = await self.db.execute(
            "DELETE FROM mcp_server_tools WHERE id = $1 AND server_id = $2", tool_id, server_id
        )
        return touched > 0
