"""``/mcp/srv_<id>``: the MCP endpoint, Streamable HTTP as the official ``mcp`` package serves it.

The package's low-level ``Server`` answers ``initialize``, ``ping``, ``tools/list`` and
``tools/call`` (and the 2026 per-request protocol its clients try first); its session manager
runs in **stateless** mode with JSON answers: nothing about a client is kept between requests,
so any worker of any replica answers any request. This module only puts cubby in front:

1. the path names the server (``srv_<uuid>``), else 404; only POST is served (405);
2. a browser's ``Origin`` must be this server's own (``CUBBY_PUBLIC_URL`` / host and port) or a
   loopback origin, else 403: a web page cannot drive a local agent's tools (DNS rebinding);
3. ``Authorization: Bearer <static server token | end-user access token>``, else 401, resolved
   to a :class:`~cubby.mcp.tokens.Caller` that the handlers read from the ASGI scope (an
   end-user token of a server whose ``endUserAccess`` is ``none``: 403, see ``access``);
4. a plain ``tools/call`` or ``tools/list`` is answered by :mod:`cubby.mcp.fast_path`, with
   the same bytes the package would send; everything else goes to the package.

The session manager lives in the app's lifespan (:meth:`McpEndpoint.run`), one per process.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from cubby import __version__
from cubby.api.endpoint import json_response
from cubby.core.mcp_records import ENDPOINT_PREFIX
from cubby.core.models import is_uuid
from cubby.errors import CubbyError, Forbidden, MethodNotAllowed, NotFound, Unavailable
from cubby.mcp import access
from cubby.mcp.fast_path import McpFastPath
from cubby.mcp.tokens import Caller
from cubby.mcp.tools import cached_tools, call_tool, run_tool
from cubby.services import Services
from cubby.settings import Settings

SCOPE_KEY = "cubby.mcp.caller"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
INSTRUCTIONS = (
    "Tools of one cubby workspace: files (storage) and state (kv-store) integrations, each "
    "named {alias}__{action}. Data is isolated per workspace and, for end_user-scoped "
    "integrations, per end user."
)


def origin_allowed(origin: str | None, settings: Settings) -> bool:
    """No Origin (not a browser) or a loopback or this server's own origin."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname in LOOPBACK:
        return True
    own = urlsplit(settings.base_url)
    return (parts.scheme, parts.netloc.lower()) == (own.scheme, own.netloc.lower())


def _caller(ctx: ServerRequestContext[Any, Any]) -> Caller:
    request = ctx.request
    caller = request.scope.get(SCOPE_KEY) if request is not None else None
    if not isinstance(caller, Caller):  # only reachable if the transport lost the scope
        raise RuntimeError("MCP request without an authenticated caller")
    return caller


class McpEndpoint:
    """The ASGI app behind ``/mcp/{server}``, with the MCP server it dispatches to."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.manager: StreamableHTTPSessionManager | None = None
        self.server: Server[Any] = Server(
            "cubby",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            # Header validation (2026 protocol) would otherwise run tools/list before every
            # call; no cubby tool declares Mcp-Param headers, so there is nothing to check.
            get_tool_input_schema=lambda name: None,
        )
        # The SDK wraps every request in an OpenTelemetry span (a no-op without an exporter,
        # yet a measurable share of a warm tools/call); cubby has its own request log/metrics.
        self.server.middleware = []
        # Plain tools/call and tools/list, answered without the package's transport (same
        # bytes; tests/test_mcp_fast_path.py). None: everything goes through the package.
        self.fast_path: McpFastPath | None = McpFastPath(self.server)

    def routes(self) -> list[BaseRoute]:
        return [Route("/mcp/{server}", endpoint=self, name="mcp")]

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        """Run a fresh session manager for the app's lifetime (a manager runs only once)."""
        manager = StreamableHTTPSessionManager(
            app=self.server,
            stateless=True,
            json_response=True,
            max_request_body_size=self.services.settings.max_body_bytes,
        )
        async with manager.run():
            self.manager = manager
            try:
                yield
            finally:
                self.manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            ref = str(scope.get("path_params", {}).get("server", ""))
            server_id = ref.removeprefix(ENDPOINT_PREFIX)
            if not ref.startswith(ENDPOINT_PREFIX) or not is_uuid(server_id):
                raise NotFound(f"no MCP server at {scope['path']}; the endpoint is /mcp/srv_<id>")
            if scope["method"] != "POST":  # stateless: no GET stream, no session to DELETE
                raise MethodNotAllowed(
                    f"{scope['method']} is not allowed on the MCP endpoint (stateless: POST only)",
                    details={"allowed": ["POST"]},
                    headers={"Allow": "POST"},
                )
            headers = {
                k: v.decode("latin-1")
                for k, v in scope["headers"]
                if k in (b"origin", b"authorization")
            }
            origin = headers.get(b"origin")
            if not origin_allowed(origin, self.services.settings):
                raise Forbidden(
                    "this Origin may not use the MCP endpoint", details={"origin": origin}
                )
            caller = await self.services.mcp_tokens.authenticate(
                headers.get(b"authorization"), server_id
            )
            access.check_caller(caller)
            manager = self.manager
            if manager is None:
                raise Unavailable("the MCP endpoint is not running (app lifespan not started)")
        except CubbyError as exc:
            extra = dict(exc.headers or {})
            if exc.status == 401:
                extra["WWW-Authenticate"] = "Bearer"
            status = 503 if exc.code == "UNAVAILABLE" else exc.status
            await json_response(exc.to_body(), status, extra or None)(scope, receive, send)
            return
        if self.fast_path is not None:
            passed = await self.fast_path.answer(
                scope,
                receive,
                send,
                lambda: self.list_tools(caller),
                lambda name, arguments: run_tool(self.services, caller, name, arguments),
            )
            if passed is None:
                return
            receive = passed
        scope[SCOPE_KEY] = caller
        await manager.handle_request(scope, receive, send)

    async def list_tools(self, caller: Caller) -> types.ListToolsResult:
        specs = await cached_tools(self.services, caller.server.id, caller.server.workspace_id)
        return types.ListToolsResult(tools=[s.to_mcp() for s in access.visible(caller, specs)])

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return await self.list_tools(_caller(ctx))

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await call_tool(self.services, _caller(ctx), params.name, params.arguments)
