"""One declaration per route: it builds the Starlette route *and* its OpenAPI operation.

A handler receives ``Call`` (request, services, principal, decoded body) and returns a msgspec
Struct or plain data; the wrapper does auth, body limits, decoding and encoding, so handlers
hold no plumbing and no route can forget authentication.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive

from cubby.auth import Principal
from cubby.core import heavy
from cubby.core.validation import decode_body_off_loop
from cubby.core.validators import ascii_digits
from cubby.errors import PayloadTooLarge, Unauthenticated, ValidationError
from cubby.errors import statuses as error_statuses
from cubby.services import Services

_encoder = msgspec.json.Encoder()


@dataclass
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False  # the route answers 400 without it (checked before the handler)


@dataclass
class Call:
    request: Request
    services: Services
    principal: Principal | None
    body: Any

    @property
    def user(self) -> Principal:
        if self.principal is None:  # only reachable on an endpoint declared auth=False
            raise Unauthenticated("this route needs an API key")
        return self.principal

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Call], Awaitable[Any]]

# The code a status means in ``Endpoint.errors`` when the route names no other; the rest
# (ACTION_FAILED, SLUG_EXISTS, INTEGRATION_NOT_FOUND, QUOTA_EXCEEDED, ...) are named by code.
STATUS_CODES: dict[int, tuple[str, ...]] = {
    400: ("VALIDATION_ERROR",),
    401: ("UNAUTHENTICATED",),
    403: ("SCOPE_DENIED",),
    404: ("NOT_FOUND",),
    409: ("DUPLICATE",),
    413: ("PAYLOAD_TOO_LARGE",),
}


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type | None = None
    response: Any = None
    status: int = 200
    auth: bool = True
    query: list[QueryParam] = field(default_factory=list)
    # What the route can answer besides its success: a status (its usual code, see
    # STATUS_CODES) or an error code (e.g. "SLUG_EXISTS"). :meth:`error_codes` adds what the
    # wrapper itself answers; the OpenAPI responses and /docs are made from it.
    errors: tuple[int | str, ...] = ()
    description: str = ""
    media_type: str = "application/json"  # of the success answer; others return a Response

    def error_codes(self) -> dict[int, list[str]]:
        """Every error code this route can answer, by status."""
        codes: list[str] = ["INTERNAL_ERROR"]
        if self.auth:  # the key is looked up in the database
            codes += ["UNAUTHENTICATED", "UNAVAILABLE"]
        if self.body is not None or self.query:
            codes.append("VALIDATION_ERROR")
        if self.body is not None:  # read and decoded here (read_body, decode_body_off_loop)
            codes += ["INVALID_JSON", "PAYLOAD_TOO_LARGE", "REQUEST_TIMEOUT"]
        if self.method != "GET":
            codes.append("INSUFFICIENT_STORAGE")  # a write can meet a full disk
        for entry in self.errors:
            codes += STATUS_CODES.get(entry, ()) if isinstance(entry, int) else [entry]
        statuses = error_statuses()
        by_status: dict[int, list[str]] = {}
        for code in dict.fromkeys(codes):
            by_status.setdefault(statuses[code], []).append(code)
        return dict(sorted(by_status.items()))

    def route(self) -> Route:
        decoder: msgspec.json.Decoder[Any] | None = (
            msgspec.json.Decoder(self.body) if self.body is not None else None
        )
        required = [q for q in self.query if q.required]

        async def endpoint(request: Request) -> Response:
            services: Services = request.app.state.services
            principal = None
            if self.auth:
                principal = await services.auth.authenticate(request.headers.get("authorization"))
            body = None
            raw = b""
            if decoder is not None:
                raw = await read_body(
                    request.receive,
                    request.headers.get("content-length"),
                    services.settings.max_body_bytes,
                )
            for q in required:
                if not request.query_params.get(q.name):
                    raise ValidationError.for_field(q.name, f"pass ?{q.name}=<{q.description}>")
            async with heavy.turn(len(raw)):
                if decoder is not None:
                    body = await decode_body_off_loop(decoder, raw)
                workspace_id = getattr(body, "workspace_id", None)
                if isinstance(workspace_id, str):  # for the request log (cubby.api.observe)
                    request.scope["cubby.workspace"] = workspace_id
                result = await self.handler(Call(request, services, principal, body))
            if isinstance(result, Response):  # a handler that sets headers of its own
                return result
            return json_response(result, self.status)

        return Route(self.path, endpoint, methods=[self.method], name=self.handler.__name__)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encoder.encode(data), status, headers, media_type="application/json")


async def read_body(receive: Receive, declared: str | bytes | None, limit: int) -> bytes:
    """The whole body from ASGI ``receive``, refusing (413) anything over ``limit`` before
    reading it all (``declared`` is the Content-Length header, if any)."""
    if declared is not None and _declared_over(declared, limit):
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _declared_over(declared: str | bytes, limit: int) -> bool:
    """A Content-Length of ASCII digits above ``limit`` (a huge one without parsing it all)."""
    text = declared.decode("latin-1") if isinstance(declared, bytes) else declared
    if not ascii_digits(text):
        return False  # not a length: the server's framing rejects it, or the stream decides
    digits = text.lstrip("0")
    return len(digits) > len(str(limit)) or int(digits or "0") > limit


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than {limit} bytes", details={"limit": limit}
    )
