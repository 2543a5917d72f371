"""A direct ASGI path for ``POST /api/v1/actions/execute``, the hot path.

It does exactly what the declared execute Endpoint does (auth, body limit, UTF-8 and JSON
decoding, :func:`cubby.core.execute.execute`, JSON answer or JSON error) without Starlette's
router, Request and Response objects, which cost more per call than a warm KV read. Every other
request, including other methods on this path, goes on to the app unchanged.
"""

from __future__ import annotations

import logging

import msgspec
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from cubby.api import observe
from cubby.api.endpoint import read_body
from cubby.core import heavy
from cubby.core.disk_full import insufficient_storage, is_disk_full
from cubby.core.execute import ExecuteRequest, execute, response_headers
from cubby.core.validation import decode_body_off_loop
from cubby.errors import CubbyError
from cubby.services import Services

log = logging.getLogger(__name__)
PATH = "/api/v1/actions/execute"
MCP_PREFIX = "/mcp/srv_"  # only server paths; anything else under /mcp/ goes to the router
MCP_ROUTE = "/mcp/{server}"
_decoder = msgspec.json.Decoder(ExecuteRequest)
_encoder = msgspec.json.Encoder()
_JSON = (b"content-type", b"application/json")


def is_mcp_server_path(path: str) -> bool:
    """``/mcp/srv_<id>``: one MCP server's endpoint."""
    return path.startswith(MCP_PREFIX) and "/" not in path[len(MCP_PREFIX) :]


class ExecuteFastPath:
    """Also hands ``POST /mcp/srv_<id>`` straight to the MCP endpoint (``mcp``), past the
    router, exactly as its route would (same path parameter and metrics route label)."""

    def __init__(self, app: ASGIApp, services: Services, mcp: ASGIApp | None = None) -> None:
        self.app = app
        self.services = services
        self.mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            path = scope.get("path", "")
            if (
                self.mcp is not None
                and scope["type"] == "http"
                and scope["method"] == "POST"
                and is_mcp_server_path(path)
            ):
                scope["cubby.route"] = MCP_ROUTE
                scope["path_params"] = {"server": path[len("/mcp/") :]}
                await self.mcp(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        scope["cubby.route"] = PATH  # the metrics label: no Starlette route matched this
        authorization: str | None = None
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        services = self.services
        extra: dict[str, str] | None
        try:
            principal = await services.auth.authenticate(authorization)
            raw = await read_body(receive, declared, services.settings.max_body_bytes)
            async with heavy.turn(len(raw)):
                request = await decode_body_off_loop(_decoder, raw)
                scope["cubby.workspace"] = request.workspace_id  # for the request log
                scope["cubby.action"] = (request.integration_name, request.action_name)
                result = await execute(services, principal, request)
            payload = _encoder.encode(result)
            status, extra = 200, response_headers(result)
            code = ""
        except CubbyError as exc:
            payload = _encoder.encode(exc.to_body())
            status, extra = exc.status, exc.headers
            code = exc.code
        except ClientDisconnect:  # gone before sending its whole body: nobody to answer
            return
        except Exception as exc:
            if not is_disk_full(exc):
                raise  # the app's error handler answers (a JSON 500) and logs it
            log.warning("storage full on execute: %s", exc)
            full = insufficient_storage()
            payload = _encoder.encode(full.to_body())
            status, extra, code = full.status, None, full.code
        headers = [_JSON, (b"content-length", str(len(payload)).encode())]
        answer = scope.get(observe.ANSWER)  # the request log's, see api/observe.py
        if answer is not None:
            answer[:] = [status, len(payload), code]
            headers.append((b"x-request-id", scope[observe.REQUEST_ID]))
        for name, value in (extra or {}).items():
            headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
