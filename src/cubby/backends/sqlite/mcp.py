"""MCP servers, their tool overrides and tokens on SQLite."""

from __future__ import annotations

import sqlite3

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
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.mcp_records import McpServer, McpServerTool, StoredToken
from cubby.errors import NotFound

_S = ", ".join("?" * 12)
_T = ", ".join("?" * 12)
_K = ", ".join("?" * 9)


class SqliteMcp:
    def __init__(self, db: SqliteDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    async def create_server(self, server: McpServer, token: StoredToken, token_hash: str) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO mcp_servers ({SERVER_COLS}) VALUES ({_S})", server_values(server)
                )
            except sqlite3.IntegrityError:  # the workspace went away meanwhile
                raise NotFound(
                    "workspace not found", details={"workspaceId": server.workspace_id}
                ) from None
            conn.execute(
                f"INSERT INTO mcp_tokens ({TOKEN_COLS}, token_hash) VALUES ({_K})",
                token_values(token, token_hash),
            )

        await self.db.write(insert)

    async def page_servers(
        self, workspace_ids: list[str] | None, limit: int, offset: int
    ) -> tuple[list[McpServer], int]:
        where, args = "", []
        if workspace_ids is not None:
            marks = ",".join("?" * len(workspace_ids))
            where = f"WHERE workspace_id IN ({marks})" if workspace_ids else "WHERE 0"
            args = list(workspace_ids)

        def query(conn: sqlite3.Connection) -> tuple[list[McpServer], int]:
            total = conn.execute(f"SELECT count(*) FROM mcp_servers {where}", args).fetchone()[0]
            rows = conn.execute(
                f"SELECT {SERVER_COLS} FROM mcp_servers {where} ORDER BY created_at, id "
                "LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            return [server_row(r, self.org_id) for r in rows], total

        return self.db.read_snapshot(query)

    async def get_server(self, server_id: str) -> McpServer | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {SERVER_COLS} FROM mcp_servers WHERE id = ?", (server_id,)
            ).fetchone()
        )
        return server_row(row, self.org_id) if row else None

    async def update_server(self, server: McpServer) -> None:
        values = server_values(server)
        cols = SERVER_COLS.split(", ")
        sets = ", ".join(f"{c} = ?" for c in cols[1:])
        await self.db.write(
            lambda c: c.execute(
                f"UPDATE mcp_servers SET {sets} WHERE id = ?", (*values[1:], values[0])
            )
        )

    async def delete_server(self, server_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM mcp_servers WHERE id = ?", (server_id,)).rowcount > 0

        return await self.db.write(delete)

    async def add_token(self, token: StoredToken, token_hash: str, at: str) -> None:
        def insert(conn: sqlite3.Connection) -> None:
            if token.kind == "static":
                conn.execute(
                    "UPDATE mcp_tokens SET revoked_at = ? WHERE server_id = ? AND kind = 'static' "
                    "AND revoked_at IS NULL",
                    (at, token.server_id),
                )
            try:
                conn.execute(
                    f"INSERT INTO mcp_tokens ({TOKEN_COLS}, token_hash) VALUES ({_K})",
                    token_values(token, token_hash),
                )
            except sqlite3.IntegrityError:  # the server was deleted meanwhile
                raise NotFound("MCP server not found", details={"id": token.server_id}) from None

        await self.db.write(insert)

    async def find_token(self, token_hash: str) -> tuple[StoredToken, McpServer] | None:
        cols = ", ".join(f"t.{c}" for c in TOKEN_COLS.split(", "))
        scols = ", ".join(f"s.{c}" for c in SERVER_COLS.split(", "))
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {cols}, t.revoked_at IS NOT NULL, {scols} FROM mcp_tokens t "
                "JOIN mcp_servers s ON s.id = t.server_id WHERE t.token_hash = ?",
                (token_hash,),
            ).fetchone()
        )
        if row is None:
            return None
        return token_row(row[:8], bool(row[8])), server_row(row[9:], self.org_id)

    async def tokens(self, server_id: str) -> list[StoredToken]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {TOKEN_COLS} FROM mcp_tokens WHERE server_id = ? AND revoked_at IS NULL "
                "ORDER BY created_at, id",
                (server_id,),
            ).fetchall()
        )
        return [token_row(r) for r in rows]

    async def revoke_token(self, server_id: str, token_id: str, at: str) -> bool:
        def revoke(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "UPDATE mcp_tokens SET revoked_at = ? WHERE id = ? AND server_id = ? "
                    "AND revoked_at IS NULL",
                    (at, token_id, server_id),
                ).rowcount
                > 0
            )

        return await self.db.write(revoke)

    async def tools(self, server_id: str) -> list[McpServerTool]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT {TOOL_COLS} FROM mcp_server_tools WHERE server_id = ? "
                "ORDER BY sort_order, id",
                (server_id,),
            ).fetchall()
        )
        return [tool_row(r) for r in rows]

    async def put_tool(self, tool: McpServerTool, create: bool) -> None:
        values = tool_values(tool)

        def put(conn: sqlite3.Connection) -> None:
            try:
                if create:
                    conn.execute(
                        f"INSERT INTO mcp_server_tools ({TOOL_COLS}) VALUES ({_T})", values
                    )
                    return
                sets = ", ".join(f"{c} = ?" for c in TOOL_COLS.split(", ")[2:])
                conn.execute(
                    f"UPDATE mcp_server_tools SET {sets} WHERE id = ? AND server_id = ?",
                    (*values[2:], values[0], values[1]),
                )
            except sqlite3.IntegrityError:
                if (
                    conn.execute(
                        "SELECT 1 FROM mcp_servers WHERE id = ?", (tool.mcp_server_id,)
                    ).fetchone()
                    is None
                ):
                    raise NotFound(
                        "MCP server not found", details={"id": tool.mcp_server_id}
                    ) from None
                raise tool_conflict(tool.integration_alias, tool.action_name) from None

        await self.db.write(put)

    async def delete_tool(self, server_id: str, tool_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            return (
                conn.execute(
                    "DELETE FROM mcp_server_tools WHERE id = ? AND server_id = ?",
                    (tool_id, server_id),
                ).rowcount
                > 0
            )

        return await self.db.write(delete)
