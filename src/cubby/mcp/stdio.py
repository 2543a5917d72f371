"""``cubby mcp``: a workspace's tools over MCP on stdio, for local agents (Claude Desktop,
Cursor and the like) that start a command instead of calling a URL.

It talks to a running server like any client (``CUBBY_BASE_URL``, ``CUBBY_API_KEY``, through the
Python SDK): the workspace's integrations come from ``GET .../integrations`` on every
``tools/list``, so tools stay in sync as on the HTTP endpoint, and are turned into tools by the
same :func:`cubby.mcp.tools.build_tools`; ``tools/call`` is ``POST /api/v1/actions/execute``
with the tool's alias and ``--end-user``. Results and errors take the endpoint's exact shapes.
Nothing but MCP messages may reach stdout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mcp_types as types
import msgspec
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.stdio import stdio_server

from cubby import __version__
from cubby.core.models import WorkspaceIntegration
from cubby.core.registry import Registry
from cubby.errors import CubbyError
from cubby.integrations import register_builtins
from cubby.mcp.endpoint import INSTRUCTIONS
from cubby.mcp.tools import (
    ToolSpec,
    build_tools,
    error_result,
    find_tool,
    merge_arguments,
    ok_result,
)

if TYPE_CHECKING:
    from cubby_client import AsyncCubby

_integrations = msgspec.json.Decoder(list[WorkspaceIntegration])
_encoder = msgspec.json.Encoder()


class StdioTools:
    """The tool handlers of one workspace (and maybe one end user) over the HTTP API."""

    def __init__(self, client: AsyncCubby, workspace_id: str, end_user_id: str | None) -> None:
        self.client = client
        self.workspace_id = workspace_id
        self.end_user_id = end_user_id
        self.registry = Registry()
        register_builtins(self.registry)

    async def specs(self) -> list[ToolSpec]:
        page = await self.client.request(
            "GET", f"/api/v1/workspaces/{self.workspace_id}/integrations"
        )
        found = _integrations.decode(_encoder.encode(page["integrations"]))
        return build_tools(self.registry, f"stdio/{self.workspace_id}", found)

    async def list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[spec.to_mcp() for spec in await self.specs()])

    async def call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        import cubby_client

        try:
            spec = find_tool(await self.specs(), params.name)
            body: dict[str, Any] = {
                "integrationName": spec.integration.name,
                "actionName": spec.action.name,
                "workspaceId": self.workspace_id,
                "input": merge_arguments(spec, params.arguments),
            }
            if spec.configured:
                body["integrationAlias"] = spec.alias
            if self.end_user_id is not None:
                body["endUserId"] = self.end_user_id
            answer = await self.client.request("POST", "/api/v1/actions/execute", json=body)
            return ok_result(_encoder.encode(answer["output"]))
        except CubbyError as exc:
            return error_result(exc.to_body())
        except cubby_client.CubbyError as exc:
            error: dict[str, Any] = {"error": exc.message, "code": exc.code or "UNAVAILABLE"}
            if exc.details:
                error["details"] = exc.details
            if self.end_user_id is None and exc.details.get("field") == "endUserId":
                error["error"] = (
                    "this tool keeps data per end user (persistence scope 'end_user'): "
                    "start `cubby mcp` with --end-user ID"
                )
            return error_result(error)


async def serve(client: AsyncCubby, workspace_id: str, end_user_id: str | None) -> None:
    tools = StdioTools(client, workspace_id, end_user_id)
    server: Server[Any] = Server(
        "cubby",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=tools.list_tools,
        on_call_tool=tools.call_tool,
    )
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
