"""The stored records of MCP servers, tools and tokens (API.md, "MCP servers").

The backends store them and the MCP layer serves them, so they live on the floor both stand on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from cubby.core.fields import NOT_BLANK_NO_CONTROL, TEXT
from cubby.core.models import Record

TOKEN_PREFIX = "cbm_"
ENDPOINT_PREFIX = "srv_"
Text = Annotated[str, msgspec.Meta(max_length=2000, pattern=TEXT)]
ShortText = Annotated[str, msgspec.Meta(max_length=200, pattern=TEXT)]
# an endUserId: at most 256 bytes of UTF-8 (core.scopes checks the bytes)
OwnerId = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=NOT_BLANK_NO_CONTROL)]
# Seconds; at most ten years, so an expiry always fits a timestamp.
ExpiresIn = Annotated[int, msgspec.Meta(ge=60, le=10 * 365 * 86400)]


class McpAuth(msgspec.Struct, rename="camel"):
    """Which credentials the endpoint takes: cubby serves bearer tokens only."""

    oauth_enabled: bool = False
    bearer_enabled: bool = True
    static_bearer_enabled: bool = True
    end_user_bearer_tokens_enabled: bool = True
    access_tokens_enabled: bool = True


class McpServer(Record):
    id: str
    org_id: str
    workspace_id: str
    name: str
    description: str | None
    mode: str
    settings: dict[str, Any]
    auth_mode: str
    end_user_access: str | None
    auth: McpAuth
    created_by: str | None
    end_user_id: str | None
    created_at: str
    updated_at: str
    mcp_endpoint: str = ""


class McpServerTool(Record):
    id: str
    mcp_server_id: str
    integration_name: str
    integration_alias: str
    action_name: str
    tool_type: str
    connection_id: str | None
    display_name: str | None
    description: str | None
    input_defaults: dict[str, Any] | None
    partial_ids: list[str] | None
    sort_order: int
    source_workspace_integration_id: str | None


class McpToken(Record):
    """A token as the API shows it (never its secret part)."""

    id: str
    token_prefix: str
    scopes: list[str]
    end_user_id: str | None
    auth_method: str
    token_type: str
    expires_at: str | None
    created_at: str


class StoredToken(msgspec.Struct, frozen=True, kw_only=True):
    """A token as the endpoint needs it: the record, its server and revocation state."""

    token: McpToken
    server_id: str
    kind: Literal["static", "end_user"]
    revoked: bool
