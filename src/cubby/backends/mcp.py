"""What the MCP servers resource needs from a metadata backend, and the row mapping that the
SQLite and PostgreSQL implementations share (same columns, same order; only the dialect differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from cubby.core.mcp_records import McpAuth, McpServer, McpServerTool, McpToken, StoredToken
from cubby.errors import Conflict


class McpStore(Protocol):
    async def create_server(self, server: McpServer, token: StoredToken, token_hash: str) -> None:
        """The server and its static token, in one transaction."""
        ...

    async def page_servers(
        self, workspace_ids: list[str] | None, limit: int, offset: int
    ) -> tuple[list[McpServer], int]: ...
    async def get_server(self, server_id: str) -> McpServer | None: ...
    async def update_server(self, server: McpServer) -> None: ...
    async def delete_server(self, server_id: str) -> bool:
        """Delete the server with its tools and tokens."""
        ...

    async def add_token(self, token: StoredToken, token_hash: str, at: str) -> None:
        """Store a token; a static one revokes the server's previous static token atomically."""
        ...

    async def find_token(self, token_hash: str) -> tuple[StoredToken, McpServer] | None: ...
    async def tokens(self, server_id: str) -> list[StoredToken]:
        """The server's tokens that are not revoked (expired ones included)."""
        ...

    async def revoke_token(self, server_id: str, token_id: str, at: str) -> bool: ...
    async def tools(self, server_id: str) -> list[McpServerTool]: ...
    async def put_tool(self, tool: McpServerTool, create: bool) -> None:
        """Insert (``create``) or update a tool override; same alias and action twice: 409."""
        ...

    async def delete_tool(self, server_id: str, tool_id: str) -> bool: ...


SERVER_COLS = (
    "id, workspace_id, name, description, mode, settings, auth_mode, end_user_access, "
    "created_by, end_user_id, created_at, updated_at"
)
TOOL_COLS = (
    "id, server_id, integration_name, integration_alias, action_name, connection_id, "
    "display_name, description, input_defaults, partial_ids, sort_order, source_integration_id"
)
TOKEN_COLS = "id, server_id, kind, token_prefix, end_user_id, scopes, expires_at, created_at"

_dict = msgspec.json.Decoder(dict[str, Any])
_dict_or_none = msgspec.json.Decoder(dict[str, Any] | None)
_strings = msgspec.json.Decoder(list[str])
_strings_or_none = msgspec.json.Decoder(list[str] | None)
_AUTH = McpAuth()


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def server_row(row: Sequence[Any], org_id: str) -> McpServer:
    return McpServer(
        id=row[0], org_id=org_id, workspace_id=row[1], name=row[2], description=row[3],
        mode=row[4], settings=_dict.decode(row[5]), auth_mode=row[6], end_user_access=row[7],
        auth=_AUTH, created_by=row[8], end_user_id=row[9], created_at=row[10],
        updated_at=row[11],
    )  # fmt: skip


def server_values(s: McpServer) -> tuple[Any, ...]:
    return (
        s.id, s.workspace_id, s.name, s.description, s.mode, _json(s.settings), s.auth_mode,
        s.end_user_access, s.created_by, s.end_user_id, s.created_at, s.updated_at,
    )  # fmt: skip


def tool_row(row: Sequence[Any]) -> McpServerTool:
    return McpServerTool(
        id=row[0], mcp_server_id=row[1], integration_name=row[2], integration_alias=row[3],
        action_name=row[4], tool_type="ACTION", connection_id=row[5], display_name=row[6],
        description=row[7], input_defaults=_dict_or_none.decode(row[8]) if row[8] else None,
        partial_ids=_strings_or_none.decode(row[9]) if row[9] else None, sort_order=row[10],
        source_workspace_integration_id=row[11],
    )  # fmt: skip


def tool_values(t: McpServerTool) -> tuple[Any, ...]:
    return (
        t.id, t.mcp_server_id, t.integration_name, t.integration_alias, t.action_name,
        t.connection_id, t.display_name, t.description, _json(t.input_defaults),
        _json(t.partial_ids), t.sort_order, t.source_workspace_integration_id,
    )  # fmt: skip


def token_row(row: Sequence[Any], revoked: bool = False) -> StoredToken:
    token = McpToken(
        id=row[0], token_prefix=row[3], scopes=_strings.decode(row[5]), end_user_id=row[4],
        auth_method="bearer", token_type="mcp_bearer", expires_at=row[6], created_at=row[7],
    )  # fmt: skip
    return StoredToken(token=token, server_id=row[1], kind=row[2], revoked=revoked)


def token_values(t: StoredToken, token_hash: str) -> tuple[Any, ...]:
    tok = t.token
    return (
        tok.id, t.server_id, t.kind, tok.token_prefix, tok.end_user_id, _json(tok.scopes),
        tok.expires_at, tok.created_at, token_hash,
    )  # fmt: skip


def tool_conflict(alias: str, action: str) -> Conflict:
    return Conflict(
        f"this server already has a tool for {alias}__{action}",
        details={"field": "actionName", "integrationAlias": alias, "actionName": action},
    )
