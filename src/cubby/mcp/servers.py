"""``/api/v1/mcp/servers``: the MCP servers resource (servers, tokens, tool overrides).

Thin handlers over :mod:`cubby.mcp.manage`; every route needs an API key that reaches the
server's workspace. Tokens are shown once, in the answer that creates them.
"""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint, QueryParam
from cubby.api.paging import bool_param, page, page_query
from cubby.api.wire import Deleted
from cubby.mcp import manage
from cubby.mcp.models import (
    AccessTokenCreated,
    CreateAccessToken,
    CreateServer,
    CreateTool,
    ServerCreated,
    ServerEnvelope,
    ServerList,
    ServerWithTools,
    TokenList,
    TokenRegenerated,
    ToolEnvelope,
    UpdateServer,
    UpdateTool,
)

BASE = "/api/v1/mcp/servers"
MAX_LIMIT = 100
TAG = "MCP servers"


async def create_server(call: Call) -> ServerCreated:
    server, plain = await manage.create_server(call.services, call.user, call.body)
    return ServerCreated(server=server, bearer_token=plain, mcp_endpoint=server.mcp_endpoint)


async def list_servers(call: Call) -> ServerList:
    limit, offset = page(call, 50, MAX_LIMIT)
    bool_param(call, "includeSuspended")  # accepted (cubby never suspends a server)
    workspace_id = call.request.query_params.get("workspaceId") or None
    servers, total = await manage.list_servers(
        call.services, call.user, workspace_id, limit, offset
    )
    return ServerList(servers=servers, total=total)


async def get_server(call: Call) -> ServerWithTools:
    server = await manage.get_server(call.services, call.user, call.path("id"))
    tools = await manage.list_tools(call.services, call.user, server.id)
    return ServerWithTools(server=server, tools=tools)


async def update_server(call: Call) -> ServerEnvelope:
    server = await manage.update_server(call.services, call.user, call.path("id"), call.body)
    return ServerEnvelope(server=server)


async def delete_server(call: Call) -> Deleted:
    server_id = await manage.delete_server(call.services, call.user, call.path("id"))
    return Deleted(deleted=True, id=server_id)


async def regenerate_token(call: Call) -> TokenRegenerated:
    plain, endpoint = await manage.regenerate_token(call.services, call.user, call.path("id"))
    return TokenRegenerated(bearer_token=plain, mcp_endpoint=endpoint)


async def create_access_token(call: Call) -> AccessTokenCreated:
    server, token, plain = await manage.create_access_token(
        call.services, call.user, call.path("id"), call.body
    )
    return AccessTokenCreated(
        access_token=plain, bearer_token=plain, token=token, mcp_endpoint=server.mcp_endpoint
    )


async def create_oauth_token(call: Call) -> AccessTokenCreated:
    return await create_access_token(call)


async def list_access_tokens(call: Call) -> TokenList:
    tokens = await manage.list_tokens(call.services, call.user, call.path("id"))
    return TokenList(tokens=tokens, total=len(tokens))


async def revoke_access_token(call: Call) -> Deleted:
    token_id = call.path("tokenId")
    await manage.revoke_token(call.services, call.user, call.path("id"), token_id)
    return Deleted(deleted=True, id=token_id)


async def add_tool(call: Call) -> ToolEnvelope:
    tool = await manage.add_tool(call.services, call.user, call.path("id"), call.body)
    return ToolEnvelope(tool=tool)


async def update_tool(call: Call) -> ToolEnvelope:
    tool = await manage.update_tool(
        call.services, call.user, call.path("id"), call.path("toolId"), call.body
    )
    return ToolEnvelope(tool=tool)


async def delete_tool(call: Call) -> Deleted:
    tool_id = call.path("toolId")
    await manage.delete_tool(call.services, call.user, call.path("id"), tool_id)
    return Deleted(deleted=True, id=tool_id)


_ONE = f"{BASE}/{{id}}"
_TOKEN_BODY = (
    "Body {endUserId, scopes? (read, write, mcp:tools, mcp:code; none: every tool), expiresIn? "
    "(seconds, default 30 days)}. The token (shown once) acts as that end user on the server's "
    "endpoint until it expires or is revoked. 403 when the server's endUserAccess is 'none'."
)
ENDPOINTS = [
    Endpoint("POST", BASE, create_server, "Create an MCP server", TAG, body=CreateServer,
             response=ServerCreated, status=201, errors=(400, 401, 403, 404),
             description="mode TOOLS (default; CODE: 400) and authMode bearer (default; oauth "
             "modes: 400). bearerToken, the static server token, is shown only here."),
    Endpoint("GET", BASE, list_servers, "List MCP servers", TAG, response=ServerList,
             errors=(400, 401, 403),
             query=[QueryParam("workspaceId", {"type": "string"}, "only this workspace's"),
                    *page_query(50, MAX_LIMIT),
                    QueryParam("includeSuspended", {"type": "boolean"}, "accepted, ignored")]),
    Endpoint("GET", _ONE, get_server, "Get an MCP server with its tools", TAG,
             response=ServerWithTools, errors=(401, 403, 404)),
    Endpoint("PATCH", _ONE, update_server, "Update an MCP server", TAG, body=UpdateServer,
             response=ServerEnvelope, errors=(400, 401, 403, 404)),
    Endpoint("DELETE", _ONE, delete_server, "Delete an MCP server", TAG, response=Deleted,
             errors=(401, 403, 404)),
    Endpoint("POST", f"{_ONE}/regenerate-token", regenerate_token,
             "Regenerate the static server token", TAG, response=TokenRegenerated,
             errors=(401, 403, 404), description="The old static token stops working."),
    Endpoint("POST", f"{_ONE}/access-tokens", create_access_token,
             "Create an end-user access token", TAG, body=CreateAccessToken,
             response=AccessTokenCreated, status=201, errors=(400, 401, 403, "FORBIDDEN", 404),
             description=_TOKEN_BODY),
    Endpoint("POST", f"{_ONE}/oauth-tokens", create_oauth_token,
             "Create an end-user access token (alias of access-tokens)", TAG,
             body=CreateAccessToken, response=AccessTokenCreated, status=201,
             errors=(400, 401, 403, "FORBIDDEN", 404), description=_TOKEN_BODY),
    Endpoint("GET", f"{_ONE}/access-tokens", list_access_tokens,
             "List a server's live tokens (cubby)", TAG, response=TokenList,
             errors=(401, 403, 404)),
    Endpoint("DELETE", f"{_ONE}/access-tokens/{{tokenId}}", revoke_access_token,
             "Revoke a token (cubby)", TAG, response=Deleted, errors=(401, 403, 404)),
    Endpoint("POST", f"{_ONE}/tools", add_tool, "Add or override a tool", TAG, body=CreateTool,
             response=ToolEnvelope, status=201, errors=(400, 401, 403, 404, 409,
             "INTEGRATION_NOT_FOUND", "ACTION_NOT_FOUND", "AMBIGUOUS_INTEGRATION")),
    Endpoint("PATCH", f"{_ONE}/tools/{{toolId}}", update_tool, "Update a tool", TAG,
             body=UpdateTool, response=ToolEnvelope, errors=(400, 401, 403, 404, 409,
             "INTEGRATION_NOT_FOUND", "ACTION_NOT_FOUND", "AMBIGUOUS_INTEGRATION"),
             description="A synced tool's id creates an override of it."),
    Endpoint("DELETE", f"{_ONE}/tools/{{toolId}}", delete_tool, "Delete a tool override", TAG,
             response=Deleted, errors=(400, 401, 403, 404)),
]  # fmt: skip
