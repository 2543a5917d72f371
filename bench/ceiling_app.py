"""The Python ceiling (issue 6 baseline a): a bare Starlette + msgspec app that parses the same
execute body cubby parses and returns a constant JSON answer. Served by the same uvicorn
settings as cubby, it shows how fast any Python handler on this stack can be.

    uvicorn --factory bench.ceiling_app:create_app
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
