"""Request and response bodies of the MCP servers resource (API.md, "MCP servers").

The stored records they carry live in :mod:`cubby.core.mcp_records`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
Mode = Annotated[
    Literal["TOOLS"],
    msgspec.Meta(
        description="`TOOLS` (the default, the only mode served): the workspace integrations' "
        "actions are the server's tools; Code Mode (`CODE`) is refused"
    ),
]
ServerSettings = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="free-form settings of the Weavz clients, stored and returned as sent; "
        "cubby's tools do not read them"
    ),
]
AuthMode = Annotated[
    Literal["bearer"],
    msgspec.Meta(
        description="`bearer` (the default, the only one served): clients send the server "
        "token or an end-user access token as `Authorization: Bearer`"
    ),
]
Access = Annotated[
    EndUserAccess,
    msgspec.Meta(
        description="which tools end-user access tokens reach: `full` (or `null`, the default) "
        "every tool, `restricted` only those of `end_user`-scoped integrations, `none` no "
        "end-user tokens at all"
    ),
]
ServerWorkspace = Annotated[
    str,
    msgspec.Meta(description="the id of the workspace whose integrations the server serves"),
]
Scopes = Annotated[
    list[TokenScope],
    msgspec.Meta(
        description="what the token's agent may do, the union of: `read` (read-only tools), "
        "`write` (tools that change data), `mcp:tools` (every tool), `mcp:code` (Code Mode: "
        "no tool here); absent or empty: every tool"
    ),
]
InputDefaults = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="arguments merged under the caller's own; the ones given become optional "
        "in the tool's input schema"
    ),
]
PartialIds = Annotated[
    list[ShortText],
    msgspec.Meta(
        description="input partial ids of the Weavz clients, stored and sent to execute as "
        "`partialIds` with each call (the built-in integrations do not use them)"
    ),
]
ToolType = Annotated[
    Literal["ACTION"],
    msgspec.Meta(description="`ACTION`, the only kind: the tool runs one integration action"),
]


class ServerFields(Body, kw_only=True):
    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    created_by: ShortText | UnsetType | None = UNSET
    mode: Mode | UnsetType = UNSET
    settings: ServerSettings | UnsetType | None = UNSET
    auth_mode: AuthMode | UnsetType = UNSET
    end_user_access: Access | UnsetType | None = UNSET
    end_user_id: OwnerId | UnsetType | None = UNSET


class CreateServer(ServerFields, kw_only=True):
    name: Name
    workspace_id: ServerWorkspace


class UpdateServer(ServerFields, Patch):
    pass


class CreateAccessToken(Body):
    end_user_id: OwnerId
    scopes: Scopes | None = None
    expires_in: ExpiresIn | None = None


class ToolFields(Body, kw_only=True):
    integration_alias: Alias | UnsetType | None = UNSET
    connection_id: ShortText | UnsetType | None = UNSET
    display_name: ShortText | UnsetType | None = UNSET
    description: Text | UnsetType | None = UNSET
    input_defaults: InputDefaults | UnsetType | None = UNSET
    partial_ids: PartialIds | UnsetType | None = UNSET
    sort_order: SortOrder | UnsetType = UNSET


class CreateTool(ToolFields, kw_only=True):
    integration_name: ShortText
    action_name: ShortText
    tool_type: ToolType = "ACTION"


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
