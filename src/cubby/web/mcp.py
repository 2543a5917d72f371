"""The dashboard's MCP part: a workspace's MCP servers (a section of the workspace page),
creating one, and each server's page: its endpoint, its tools, client configurations to copy,
regenerating its token and issuing end-user tokens. A new token is shown once, on the page the
form redirects to (POST-redirect-GET, :mod:`cubby.web.reveal`). Handlers call
:mod:`cubby.mcp.manage`, as the JSON API does."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cubby.command import cubby_command
from cubby.core import workspaces
from cubby.core.models import Workspace, WorkspaceIntegration
from cubby.errors import NotFound, ValidationError
from cubby.mcp import manage
from cubby.mcp.models import CreateAccessToken, CreateServer
from cubby.web.pager import Pages, offset_of, offset_pager
from cubby.web.pages import Ctx, page

PAGE_SIZE = 50
TOKEN_PLACEHOLDER = "<the server token>"
# How long an end-user token works, as the form offers it (seconds).
TOKEN_LIFETIMES = [
    (3600, "1 hour"),
    (86400, "1 day"),
    (7 * 86400, "7 days"),
    (30 * 86400, "30 days"),
]


def client_configs(ws: Workspace, endpoint: str, token: str, base_url: str) -> dict[str, str]:
    """What to paste into an MCP client: the HTTP endpoint with its bearer token (Cursor and
    other clients that take a URL), and ``cubby mcp`` over stdio (Claude Desktop)."""
    name = f"cubby-{ws.slug}"
    http = {"mcpServers": {name: {"url": endpoint,
                                  "headers": {"Authorization": f"Bearer {token}"}}}}  # fmt: skip
    command, *first_args = cubby_command()
    stdio = {"mcpServers": {name: {
        "command": command, "args": [*first_args, "mcp", "--workspace", ws.slug],
        "env": {"CUBBY_BASE_URL": base_url, "CUBBY_API_KEY": "<an API key for this workspace>"},
    }}}  # fmt: skip
    return {"http": json.dumps(http, indent=2), "stdio": json.dumps(stdio, indent=2)}


async def load(ctx: Ctx, ws: Workspace, items: list[WorkspaceIntegration]) -> dict[str, Any]:
    start = offset_of(ctx)
    servers, total = await manage.list_servers(ctx.services, ctx.principal, ws.id, PAGE_SIZE, start)
    return {
        "mcp_servers": servers,
        "pager": offset_pager(start, PAGE_SIZE, len(servers), total),
        "pages": Pages("/ui/workspaces", "mcp-servers"),
    }


@page
async def create_server(ctx: Ctx) -> Response:
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    body = CreateServer(
        name=ctx.field("name"),
        workspace_id=ws.id,
        description=ctx.field("description") or None,
        end_user_id=ctx.field("endUserId") or None,
    )
    server, token = await manage.create_server(ctx.services, ctx.principal, body)
    return ctx.redirect_revealing(
        _server_path(ws.id, server.id), {"token": token}, f"Created MCP server {server.name}"
    )


def _server_path(ws_id: str, server_id: str) -> str:
    return f"/ui/workspaces/{ws_id}/mcp-servers/{server_id}"


async def _server_in(ctx: Ctx) -> tuple[Workspace, Any]:
    """The path's workspace and its MCP server (404 for a server of another workspace)."""
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    server = await manage.get_server(ctx.services, ctx.principal, ctx.path("id"))
    if server.workspace_id != ws.id:
        raise NotFound("MCP server not found", details={"id": ctx.path("id")})
    return ws, server


@page
async def server_page(ctx: Ctx) -> Response:
    ws, server = await _server_in(ctx)
    tools = await manage.list_tools(ctx.services, ctx.principal, server.id)
    tokens = await manage.list_tokens(ctx.services, ctx.principal, server.id)
    revealed = ctx.revealed()
    token = revealed.get("token", TOKEN_PLACEHOLDER)
    configs = client_configs(ws, server.mcp_endpoint, token, ctx.services.settings.base_url)
    return ctx.render_revealing(
        "mcp_server.html",
        revealed,
        ws=ws,
        server=server,
        tools=tools,
        tokens=[t for t in tokens if t.end_user_id is not None],
        configs=configs,
        lifetimes=TOKEN_LIFETIMES,
    )


@page
async def regenerate_token(ctx: Ctx) -> Response:
    ws, server = await _server_in(ctx)
    token, _ = await manage.regenerate_token(ctx.services, ctx.principal, server.id)
    return ctx.redirect_revealing(
        _server_path(ws.id, server.id), {"token": token}, "Made a new server token"
    )


@page
async def issue_end_user_token(ctx: Ctx) -> Response:
    ws, server = await _server_in(ctx)
    lifetime = ctx.field("expiresIn", str(TOKEN_LIFETIMES[-1][0]))
    if lifetime not in {str(seconds) for seconds, _ in TOKEN_LIFETIMES}:
        raise ValidationError.for_field("expiresIn", "pick one of the offered lifetimes")
    end_user = ctx.field("endUserId").strip()
    body = CreateAccessToken(end_user_id=end_user, expires_in=int(lifetime))
    _, token, plain = await manage.create_access_token(ctx.services, ctx.principal, server.id, body)
    return ctx.redirect_revealing(
        _server_path(ws.id, server.id),
        {"endUserToken": plain, "endUserId": end_user, "expiresAt": token.expires_at or ""},
        f"Issued a token for end user {end_user}",
    )


@page
async def revoke_end_user_token(ctx: Ctx) -> Response:
    ws, server = await _server_in(ctx)
    await manage.revoke_token(ctx.services, ctx.principal, server.id, ctx.path("token"))
    return ctx.redirect(_server_path(ws.id, server.id), "Revoked the token")


@page
async def servers_index(ctx: Ctx) -> Response:
    """GET of the create form's URL (a reload after an old POST): the workspace's section."""
    return RedirectResponse(f"/ui/workspaces/{ctx.path('ws')}#mcp-servers", 303)


@page
async def delete_server(ctx: Ctx) -> Response:
    ws_id = ctx.path("ws")
    server = await manage.get_server(ctx.services, ctx.principal, ctx.path("id"))
    if server.workspace_id != ws_id:
        return ctx.redirect(f"/ui/workspaces/{ws_id}", "That MCP server is not in this workspace")
    await manage.delete_server(ctx.services, ctx.principal, server.id)
    return ctx.redirect(f"/ui/workspaces/{ws_id}", f"Deleted MCP server {server.name}")


def routes(ws: str) -> list[BaseRoute]:
    one = ws + "/mcp-servers/{id}"
    return [
        Route(ws + "/mcp-servers", servers_index, methods=["GET"]),
        Route(ws + "/mcp-servers", create_server, methods=["POST"]),
        Route(one, server_page, methods=["GET"]),
        Route(one + "/delete", delete_server, methods=["POST"]),
        Route(one + "/regenerate-token", regenerate_token, methods=["POST"]),
        Route(one + "/tokens", issue_end_user_token, methods=["POST"]),
        Route(one + "/tokens/{token}/revoke", revoke_end_user_token, methods=["POST"]),
    ]
