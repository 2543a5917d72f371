"""MCP server management rules: servers, their tokens and tool overrides (no HTTP, no SQL).

Every operation checks the caller's API key against the server's workspace first (403 before
404, as for workspaces). Token changes drop this process's token cache for the server at once;
other processes refuse a revoked token within ``CUBBY_KEY_CACHE_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from cubby.auth import Principal, hash_key
from cubby.core import clock, workspaces
from cubby.core.mcp_records import (
    ENDPOINT_PREFIX,
    McpAuth,
    McpServer,
    McpServerTool,
    McpToken,
    StoredToken,
)
from cubby.core.models import is_uuid, new_id, utc_now
from cubby.core.registry import Action, Integration
from cubby.core.scopes import _check_owner_id
from cubby.core.validators import check_alias, check_name
from cubby.errors import (
    ActionNotFound,
    AmbiguousIntegration,
    IntegrationNotFound,
    NotFound,
    ValidationError,
)
from cubby.mcp import access
from cubby.mcp.models import (
    CreateAccessToken,
    CreateServer,
    CreateTool,
    ServerFields,
    ToolFields,
    UpdateTool,
)
from cubby.mcp.tokens import generate_token
from cubby.mcp.tools import server_tools
from cubby.services import Services

DEFAULT_ACCESS_TOKEN_SECONDS = 30 * 86400


def endpoint_url(services: Services, server_id: str) -> str:
    return f"{services.settings.base_url}/mcp/{ENDPOINT_PREFIX}{server_id}"


def _shown(services: Services, server: McpServer) -> McpServer:
    server.mcp_endpoint = endpoint_url(services, server.id)
    return server


def _check_text(field: str, value: str | None) -> None:
    if value is not None and any(ord(ch) < 0x20 and ch not in "\n\t" for ch in value):
        raise ValidationError.for_field(field, f"{field} must not contain control characters")


def _apply(server: McpServer, fields: ServerFields) -> None:
    if fields.name is not UNSET:
        server.name = check_name(fields.name)
    if fields.description is not UNSET:
        _check_text("description", fields.description)
        server.description = fields.description
    if fields.created_by is not UNSET:
        _check_text("createdBy", fields.created_by)
        server.created_by = fields.created_by
    if fields.mode is not UNSET:  # the body's Literal["TOOLS"]: the decoder refused the rest
        server.mode = fields.mode
    if fields.auth_mode is not UNSET:  # Literal["bearer"], likewise
        server.auth_mode = fields.auth_mode
    if fields.settings is not UNSET:
        server.settings = fields.settings or {}
    if fields.end_user_access is not UNSET:
        server.end_user_access = access.check_end_user_access(fields.end_user_access)
    if fields.end_user_id is not UNSET:
        if fields.end_user_id is not None:
            _check_owner_id(fields.end_user_id, "endUserId")
        server.end_user_id = fields.end_user_id


def _static_token(server_id: str, plain: str) -> StoredToken:
    token = McpToken(
        id=new_id(), token_prefix=plain[:8], scopes=[], end_user_id=None, auth_method="bearer",
        token_type="mcp_bearer", expires_at=None, created_at=utc_now(),
    )  # fmt: skip
    return StoredToken(token=token, server_id=server_id, kind="static", revoked=False)


async def create_server(
    services: Services, principal: Principal, body: CreateServer
) -> tuple[McpServer, str]:
    """Store a server with its static token; returns the server and the token (shown once)."""
    await workspaces.get(services.meta, principal, body.workspace_id)
    now = utc_now()
    server = McpServer(
        id=new_id(), org_id=services.meta.org_id, workspace_id=body.workspace_id, name="",
        description=None, mode="TOOLS", settings={}, auth_mode="bearer", end_user_access=None,
        auth=McpAuth(), created_by=None, end_user_id=None, created_at=now, updated_at=now,
    )  # fmt: skip
    _apply(server, body)
    plain = generate_token()
    await services.meta.mcp.create_server(server, _static_token(server.id, plain), hash_key(plain))
    return _shown(services, server), plain


def _server_id(ref: str) -> str | None:
    """Path ids are the UUID; the endpoint's ``srv_<uuid>`` form is accepted too."""
    ref = ref.removeprefix(ENDPOINT_PREFIX)
    return ref if is_uuid(ref) else None


async def get_server(services: Services, principal: Principal, ref: str) -> McpServer:
    server_id = _server_id(ref)
    server = await services.meta.mcp.get_server(server_id) if server_id else None
    if server is None:
        raise NotFound("MCP server not found", details={"id": ref})
    principal.check_workspace(server.workspace_id)
    return _shown(services, server)


async def list_servers(
    services: Services, principal: Principal, workspace_id: str | None, limit: int, offset: int
) -> tuple[list[McpServer], int]:
    if workspace_id is not None:
        principal.check_workspace(workspace_id)
        if not is_uuid(workspace_id):  # no workspace has such an id (and NUL breaks PostgreSQL)
            return [], 0
        only: list[str] | None = [workspace_id]
    else:
        perms = principal.key.permissions
        only = None if perms is None else list(perms.workspace_ids)
    found, total = await services.meta.mcp.page_servers(only, limit, offset)
    return [_shown(services, s) for s in found], total


async def update_server(
    services: Services, principal: Principal, ref: str, body: ServerFields
) -> McpServer:
    server = await get_server(services, principal, ref)
    if all(getattr(body, f) is UNSET for f in body.__struct_fields__):
        raise ValidationError("send at least one field to change", details={"field": None})
    _apply(server, body)
    server.updated_at = utc_now()
    await services.meta.mcp.update_server(server)
    services.mcp_tokens.forget(server.id)  # cached callers carry the server's endUserId
    services.mcp_tools.forget_server(server.id)
    return server


async def delete_server(services: Services, principal: Principal, ref: str) -> str:
    server = await get_server(services, principal, ref)
    await services.meta.mcp.delete_server(server.id)
    services.mcp_tokens.forget(server.id)
    services.mcp_tools.forget_server(server.id)
    return server.id


async def regenerate_token(services: Services, principal: Principal, ref: str) -> tuple[str, str]:
    server = await get_server(services, principal, ref)
    plain = generate_token()
    await services.meta.mcp.add_token(_static_token(server.id, plain), hash_key(plain), utc_now())
    services.mcp_tokens.forget(server.id)
    return plain, server.mcp_endpoint


async def create_access_token(
    services: Services, principal: Principal, ref: str, body: CreateAccessToken
) -> tuple[McpServer, McpToken, str]:
    server = await get_server(services, principal, ref)
    _check_owner_id(body.end_user_id, "endUserId")
    scopes = access.check_scopes(body.scopes)
    if server.end_user_access == access.NONE:
        raise access.end_user_tokens_refused(server.id)
    seconds = body.expires_in if body.expires_in is not None else DEFAULT_ACCESS_TOKEN_SECONDS
    plain = generate_token()
    token = McpToken(
        id=new_id(), token_prefix=plain[:8], scopes=scopes,
        end_user_id=body.end_user_id, auth_method="bearer", token_type="mcp_bearer",
        expires_at=clock.iso(clock.now() + seconds), created_at=utc_now(),
    )  # fmt: skip
    stored = StoredToken(token=token, server_id=server.id, kind="end_user", revoked=False)
    await services.meta.mcp.add_token(stored, hash_key(plain), utc_now())
    return server, token, plain


async def list_tokens(services: Services, principal: Principal, ref: str) -> list[McpToken]:
    server = await get_server(services, principal, ref)
    return [t.token for t in await services.meta.mcp.tokens(server.id)]


async def revoke_token(services: Services, principal: Principal, ref: str, token_id: str) -> None:
    server = await get_server(services, principal, ref)
    if not is_uuid(token_id) or not await services.meta.mcp.revoke_token(
        server.id, token_id, utc_now()
    ):
        raise NotFound("MCP token not found", details={"id": token_id})
    services.mcp_tokens.forget(server.id)


# -- tools ------------------------------------------------------------------------------------
async def list_tools(services: Services, principal: Principal, ref: str) -> list[McpServerTool]:
    server = await get_server(services, principal, ref)
    return [s.record for s in await server_tools(services, server.id, server.workspace_id)]


def _lookup(services: Services, name: str, action_name: str) -> tuple[Integration, Action]:
    integration = services.registry.get(name)
    if integration is None:
        raise IntegrationNotFound(
            f"no integration named {name!r}",
            details={"field": "integrationName", "registered": services.registry.names()},
        )
    action = integration.actions.get(action_name)
    if action is None:
        raise ActionNotFound(
            f"integration {name!r} has no action {action_name!r}",
            details={"field": "actionName", "actions": list(integration.actions)},
        )
    return integration, action


async def _resolve_alias(
    services: Services, server: McpServer, integration: Integration, alias: str | None
) -> tuple[str, str | None]:
    """(alias, workspace integration id) as execute would resolve them; the built-in default
    (no integration of that kind in the workspace) is named by the integration's name."""
    found = await services.meta.integrations.in_workspace(server.workspace_id)
    kind = [wi for wi in found if wi.integration_name == integration.name]
    if alias is None:
        if len(kind) > 1:
            raise AmbiguousIntegration(
                f"this workspace has {len(kind)} {integration.name!r} integrations; "
                "pass integrationAlias",
                details={"aliases": sorted(wi.alias for wi in kind)},
            )
        return (kind[0].alias, kind[0].id) if kind else (integration.name, None)
    chosen = next((wi for wi in found if wi.alias == alias), None)
    if chosen is not None:
        if chosen.integration_name != integration.name:
            raise ValidationError.for_field(
                "integrationAlias",
                f"integrationAlias {alias!r} is a {chosen.integration_name!r} integration, "
                f"not {integration.name!r}",
            )
        return alias, chosen.id
    if alias == integration.name and not kind:
        return alias, None
    raise IntegrationNotFound(
        f"this workspace has no integration with integrationAlias {alias!r}",
        details={"field": "integrationAlias"},
    )


def _check_defaults(action: Action, defaults: dict[str, Any] | None) -> dict[str, Any] | None:
    if not defaults:
        return None
    fields = action.props()
    for name in defaults:
        if name not in fields:
            raise ValidationError.for_field(
                f"inputDefaults.{name}",
                f"action {action.name!r} has no input field {name!r}",
                fields=list(fields),
            )
    return defaults


def _apply_tool(tool: McpServerTool, fields: ToolFields, action: Action) -> None:
    wire = dict(zip(fields.__struct_fields__, fields.__struct_encode_fields__, strict=True))
    for name in ("connection_id", "display_name", "description", "partial_ids", "sort_order"):
        value = getattr(fields, name)
        if value is not UNSET:
            if isinstance(value, str):
                _check_text(wire[name], value)  # errors name the wire field (displayName)
            setattr(tool, name, value)
    if fields.input_defaults is not UNSET:
        tool.input_defaults = _check_defaults(action, fields.input_defaults)


async def add_tool(
    services: Services, principal: Principal, ref: str, body: CreateTool
) -> McpServerTool:
    server = await get_server(services, principal, ref)
    integration, action = _lookup(services, body.integration_name, body.action_name)
    alias = body.integration_alias if body.integration_alias is not UNSET else None
    if alias is not None:
        check_alias(alias)
    alias, source = await _resolve_alias(services, server, integration, alias)
    tool = McpServerTool(
        id=new_id(), mcp_server_id=server.id, integration_name=integration.name,
        integration_alias=alias, action_name=action.name, tool_type="ACTION",
        connection_id=None, display_name=None, description=None, input_defaults=None,
        partial_ids=None, sort_order=0, source_workspace_integration_id=source,
    )  # fmt: skip
    _apply_tool(tool, body, action)
    await services.meta.mcp.put_tool(tool, create=True)
    services.mcp_tools.forget_server(server.id)
    return tool


async def _find_tool(
    services: Services, server: McpServer, tool_id: str
) -> tuple[McpServerTool, bool]:
    """The tool with this id and whether it is stored (else: a synced tool not overridden)."""
    stored = {t.id: t for t in await services.meta.mcp.tools(server.id)}
    if tool_id in stored:
        return stored[tool_id], True
    for spec in await server_tools(services, server.id, server.workspace_id):
        if spec.record.id == tool_id:
            return spec.record, False
    raise NotFound("MCP server tool not found", details={"id": tool_id})


async def update_tool(
    services: Services, principal: Principal, ref: str, tool_id: str, body: UpdateTool
) -> McpServerTool:
    server = await get_server(services, principal, ref)
    tool, stored = await _find_tool(services, server, tool_id)
    integration, action = _lookup(services, tool.integration_name, tool.action_name)
    if body.integration_alias is not UNSET and body.integration_alias is not None:
        check_alias(body.integration_alias)
        tool.integration_alias, tool.source_workspace_integration_id = await _resolve_alias(
            services, server, integration, body.integration_alias
        )
    _apply_tool(tool, body, action)
    await services.meta.mcp.put_tool(tool, create=not stored)  # overriding a synced tool
    services.mcp_tools.forget_server(server.id)
    return tool


async def delete_tool(services: Services, principal: Principal, ref: str, tool_id: str) -> None:
    server = await get_server(services, principal, ref)
    _, stored = await _find_tool(services, server, tool_id)
    if not stored:
        raise ValidationError.for_field(
            "toolId",
            "this tool comes from a workspace integration and has no override to delete; "
            "to hide it, leave the action out of the integration's enabledActions",
        )
    await services.meta.mcp.delete_tool(server.id, tool_id)
    services.mcp_tools.forget_server(server.id)
