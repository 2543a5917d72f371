"""Request and response bodies of the MCP servers resource (API.md, "MCP servers").

The stored records they carry live in :mod:`cubby.core.mcp_records`.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from cubby.core.inputs import Alias, Body, Name, Patch, SortOrder
from cubby.core.mcp_records import (
    ExpiresIn,
    McpServer,
    McpServerTool,
    McpToken,
    OwnerId,
    ShortText,
    Text,
)
from cubby.mcp.access import EndUserAccess, TokenScope


# -- request bodies -----------------------------------------------------------------------
class ServerFields(Body, kw_only=True):
    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    created_by: ShortText | UnsetType | None = UNSET
    mode: Literal["TOOLS"] | UnsetType = UNSET  # Code Mode is not served
    settings: dict[str, Any] | UnsetType | None = UNSET
    auth_mode: Literal["bearer"] | UnsetType = UNSET
    end_user_access: EndUserAccess | UnsetType | None = UNSET
    end_user_id: OwnerId | UnsetType | None = UNSET


class CreateServer(ServerFields, kw_only=True):
    name: Name
    workspace_id: str


class UpdateServer(ServerFields, Patch):
    pass


class CreateAccessToken(Body):
    end_user_id: OwnerId
    scopes: list[TokenScope] | None = None
    expires_in: ExpiresIn | None = None


class ToolFields(Body, kw_only=True):
    integration_alias: Alias | UnsetType | None = UNSET
    connection_id: ShortText | UnsetType | None = UNSET
    display_name: ShortText | UnsetType | None = UNSET
    description: Text | UnsetType | None = UNSET
    input_defaults: dict[str, Any] | UnsetType | None = UNSET
    partial_ids: list[ShortText] | UnsetType | None = UNSET
    sort_order: SortOrder | UnsetType = UNSET


class CreateTool(ToolFields, kw_only=True):
    integration_name: ShortText
    action_name: ShortText
    tool_type: Literal["ACTION"] = "ACTION"


class UpdateTool(ToolFields):
    pass


# -- responses ------------------------------------------------------------------------------
class ServerCreated(msgspec.Struct, rename="camel"):
    server: McpServer
    bearer_token: str
    mcp_endpoint: str


class ServerList(msgspec.Struct):
    servers: list[McpServer]
    total: int


class ServerEnvelope(msgspec.Struct):
    server: McpServer


class ServerWithTools(msgspec.Struct):
    server: McpServer
    tools: list[McpServerTool]


class TokenRegenerated(msgspec.Struct, rename="camel"):
    bearer_token: str
    mcp_endpoint: str


class AccessTokenCreated(msgspec.Struct, rename="camel"):
    access_token: str
    bearer_token: str
    token: McpToken
    mcp_endpoint: str


class TokenList(msgspec.Struct):
    tokens: list[McpToken]
    total: int


class ToolEnvelope(msgspec.Struct):
    tool: McpServerTool
