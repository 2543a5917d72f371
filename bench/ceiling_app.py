"""The Python ceiling (issue 6 baseline a): a bare Starlette + msgspec app that parses the same
execute body cubby parses and returns a constant JSON answer. Served by the same uvicorn
settings as cubby, it shows how fast any Python handler on this stack can be.

    uvicorn --factory bench.ceiling_app:create_app

``create_floor_app`` is lower still: a raw ASGI callable that reads the body and answers the same
constant, with no framework and no decoding. It is what uvicorn itself costs per request, the
floor under any Python handler (used by ``write_floor.py``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class ExecuteBody(msgspec.Struct, rename="camel"):
    integration_name: str
    action_name: str
    workspace_id: str
    input: Any = None
    integration_alias: str | None = None
    end_user_id: str | None = None


_decoder = msgspec.json.Decoder(ExecuteBody)
_ANSWER = msgspec.json.encode(
    {"success": True, "output": {"key": "hot", "value": {"cursor": "abc", "n": 42}},
     "duration": 0.1}
)


async def execute(request: Request) -> Response:
    _decoder.decode(await request.body())
    return Response(_ANSWER, media_type="application/json")


def create_app() -> Starlette:
    return Starlette(routes=[Route("/api/v1/actions/execute", execute, methods=["POST"])])


async def _floor(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(_ANSWER)).encode())]})
    await send({"type": "http.response.body", "body": _ANSWER})


def create_floor_app() -> Any:
    return _floor
