"""The dashboard's MCP part: a workspace's MCP servers (a section of the workspace page),
creating one, and the page that shows its endpoint, its token (once) and client
configurations to copy. Handlers call :mod:`cubby.mcp.manage`, as the JSON API does."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cubby.core import workspaces
from cubby.core.models import Workspace, WorkspaceIntegration
from cubby.mcp import manage
from cubby.mcp.models import CreateServer
from cubby.web.pages import Ctx, page

MAX_LISTED = 100


def client_configs(ws: Workspace, endpoint: str, token: str, base_url: str) -> dict[str, str]:
    """What to paste into an MCP client: the HTTP endpoint with its bearer token (Cursor and
    other clients that take a URL), and ``cubby mcp`` over stdio (Claude Desktop)."""
    name = f"cubby-{ws.slug}"
    http = {"mcpServers": {name: {"url": endpoint,
                                  "headers": {"Authorization": f"Bearer {token}"}}}}  # fmt: skip
    stdio = {"mcpServers": {name: {
        "command": "cubby", "args": ["mcp", "--workspace", ws.slug],
        "env": {"CUBBY_BASE_URL": base_url, "CUBBY_API_KEY": "<an API key for this workspace>"},
    }}}  # fmt: skip
    return {"http": json.dumps(http, indent=2), "stdio": json.dumps(stdio, indent=2)}


async def load(ctx: Ctx, ws: Workspace, items: list[WorkspaceIntegration]) -> dict[str, Any]:
    servers, total = await manage.list_servers(ctx.services, ctx.principal, ws.id, MAX_LISTED, 0)
    return {"mcp_servers": servers, "mcp_total": total}


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
    configs = client_configs(ws, server.mcp_endpoint, token, ctx.services.settings.base_url)
    return ctx.render("mcp_created.html", ws=ws, server=server, token=token, configs=configs)


@page
async def delete_server(ctx: Ctx) -> Response:
    ws_id = ctx.path("ws")
    server = await manage.get_server(ctx.services, ctx.principal, ctx.path("id"))
    if server.workspace_id != ws_id:
        return ctx.redirect(f"/ui/workspaces/{ws_id}", "That MCP server is not in this workspace")
    await manage.delete_server(ctx.services, ctx.principal, server.id)
    return ctx.redirect(f"/ui/workspaces/{ws_id}", f"Deleted MCP server {server.name}")


def routes(ws: str) -> list[BaseRoute]:
    return [
        Route(ws + "/mcp-servers", create_server, methods=["POST"]),
        Route(ws + "/mcp-servers/{id}/delete", delete_server, methods=["POST"]),
    ]
