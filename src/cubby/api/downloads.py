"""``GET /downloads/<token>``: serve a file through a signed URL from ``get_download_url``.

No API key: the HMAC-signed token is the credential (see :mod:`cubby.core.signing`). The route
lives outside ``/api/v1`` because every ``/api/v1`` route requires a key (API.md, "Auth").
Errors are raised as :class:`cubby.errors.CubbyError`, so the app's handler answers JSON: 403
for a tampered, malformed or expired URL, 404 when the path holds no file any more.

Bodies stream from the blob store in chunks with ``Content-Length`` set up front, so memory stays
flat whatever the file size. A body in the local folder goes to the socket with ``sendfile``
instead, when the server offers the ASGI zero-copy extension (``cubby serve`` does, see
:mod:`cubby.server.zerocopy`). A single byte range (``Range: bytes=first-last``, ``first-`` or
``-suffix``) is answered with 206 and only those bytes, so downloads can resume and media can
seek; ``If-Range`` with the current ETag guards a resume against a changed file. Several ranges
in one header, another unit or a malformed header get the whole file (RFC 9110 lets a server
ignore them); a range that starts past the end gets 416.

User content is served from cubby's own origin, so the response is sandboxed (CSP ``sandbox``,
``nosniff``): an uploaded HTML or SVG file cannot run script with the origin's privileges.
"""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import format_datetime
from typing import Any, BinaryIO
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cubby.backends.base import FileRecord
from cubby.backends.blobs import Span
from cubby.core import files, signing
from cubby.core.scopes import Namespace
from cubby.core.validators import ascii_digits
from cubby.errors import NotFound, RangeNotSatisfiable
from cubby.services import Services


def _headers(record: FileRecord) -> dict[str, str]:
    name = record.path.rsplit("/", 1)[-1]
    modified = datetime.fromisoformat(record.updated_at.replace("Z", "+00:00"))
    return {
        "content-type": record.content_type,
        "content-length": str(record.size),
        "etag": f'"{record.etag}"',
        "last-modified": format_datetime(modified, usegmt=True),
        "accept-ranges": "bytes",
        "content-disposition": f"inline; filename*=UTF-8''{quote(name, safe='')}",
        "cache-control": "private, no-cache",
        "content-security-policy": "sandbox",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }


def _not_modified(request: Request, record: FileRecord) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return "*" in tags or f'"{record.etag}"' in tags


def requested_span(header: str | None, size: int) -> Span | None:
    """The bytes a ``Range`` header asks for, or None for the whole file.

    Raises :class:`RangeNotSatisfiable` when the one range asked for lies outside the file.
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text or last_text):
        return None
    first_text, last_text = first_text.strip(), last_text.strip()
    if not all(ascii_digits(part) for part in (first_text, last_text) if part):
        return None  # not a byte range (e.g. Unicode digits): ignore it, as RFC 9110 allows
    if not first_text:  # "-N": the last N bytes
        suffix = _position(last_text)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable.for_size(size)
        return max(0, size - suffix), size - 1
    first = _position(first_text)
    last = _position(last_text) if last_text else None
    if last is not None and last < first:
        return None  # malformed: ignore it
    if first >= size:
        raise RangeNotSatisfiable.for_size(size)
    return first, size - 1 if last is None else min(last, size - 1)


def _position(digits: str) -> int:
    """A byte position; any number of digits (a position past every file stays past it)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_POSITION_DIGITS else 10**_MAX_POSITION_DIGITS


_MAX_POSITION_DIGITS = 18


def _range_applies(request: Request, record: FileRecord) -> bool:
    """No ``If-Range``, or one naming the current ETag (a date or another tag: send it all)."""
    condition = request.headers.get("if-range")
    return condition is None or condition.strip() == f'"{record.etag}"'


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    key = signing.signing_key(services.settings)
    grant = signing.verify(key, request.path_params["token"], time.time())
    ns = Namespace(grant.workspace_id, grant.ns)
    request.scope["cubby.workspace"] = grant.workspace_id  # for the request log
    if request.method == "HEAD" or "if-none-match" in request.headers:
        record = await services.meta.files.get(ns, grant.path)
        if record is None:
            raise _gone(grant.path)
        headers = _headers(record)
        if _not_modified(request, record):
            del headers["content-length"], headers["content-type"]
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(status_code=200, headers=headers)
    range_header = request.headers.get("range")

    def choose_span(record: FileRecord) -> Span | None:
        if range_header is None or not _range_applies(request, record):
            return None
        return requested_span(range_header, record.size)

    opened = await files.open_file(services, ns, grant.path, choose_span)
    if opened is None:
        raise _gone(grant.path)
    headers = _headers(opened.record)
    status = 200
    if opened.span is not None:
        first, last = opened.span
        status = 206
        headers["content-range"] = f"bytes {first}-{last}/{opened.record.size}"
        headers["content-length"] = str(last - first + 1)
    if opened.inline is not None:
        return Response(opened.inline, status, headers=headers)
    local = opened.reader.local_file() if opened.reader is not None else None
    if local is not None and ZERO_COPY in request.scope.get("extensions", {}):
        file, offset = local
        return _ZeroCopyResponse(file, offset, int(headers["content-length"]), status, headers)
    return StreamingResponse(opened.chunks(), status, headers=headers)


ZERO_COPY = "http.response.zerocopysend"


class _ZeroCopyResponse(Response):
    """``count`` bytes of an open local file from ``offset``, sent by the server with sendfile."""

    def __init__(
        self, file: BinaryIO, offset: int, count: int, status: int, headers: dict[str, str]
    ) -> None:
        super().__init__(status_code=status, headers=headers)
        self._file, self._offset, self._count = file, offset, count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            await send(
                {
                    "type": ZERO_COPY,
                    "file": self._file,
                    "offset": self._offset,
                    "count": self._count,
                    "more_body": False,
                }
            )
        finally:
            self._file.close()


def _gone(path: str) -> NotFound:
    return NotFound("this download URL's file no longer exists", details={"path": path})


ROUTES = [Route(signing.URL_PREFIX + "{token}", download, methods=["GET", "HEAD"])]


def _download_operation(method: str) -> dict[str, Any]:
    body = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {
        "operationId": f"download_{method}",
        "summary": "Download a file through a signed URL"
        + (" (headers only)" if method == "head" else ""),
        "tags": ["Storage"],
        "description": "The URL comes from the storage action `get_download_url` and works "
        "without an API key until it expires (the signed token is the credential). The "
        "answer has the file's `Content-Type`, `ETag` and `Last-Modified`; `Range: "
        "bytes=first-last` (or `first-`, `-suffix`) gets 206 with those bytes, so downloads "
        "resume and media can seek; `If-Range` guards a resume, `If-None-Match` gets 304.",
        "parameters": [
            {
                "name": "token",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The signed token of the download URL.",
            },
            {
                "name": "Range",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "One byte range, e.g. `bytes=0-1023`.",
            },
        ],
        "responses": {
            "200": {"description": "The whole file.", "content": body},
            "206": {
                "description": "The requested range (`Content-Range` says which).",
                "content": body,
            },
            "304": {"description": "Not modified (the `If-None-Match` ETag is current)."},
            # error answers: the codes of each status (cubby.api.openapi.build_openapi)
            "400": {"content": "error", "x-codes": ["VALIDATION_ERROR"]},
            "403": {"content": "error", "x-codes": ["FORBIDDEN"]},
            "404": {"content": "error", "x-codes": ["NOT_FOUND"]},
            "416": {"content": "error", "x-codes": ["RANGE_NOT_SATISFIABLE"]},
            "500": {"content": "error", "x-codes": ["INTERNAL_ERROR"]},
            "503": {"content": "error", "x-codes": ["UNAVAILABLE"]},
        },
    }


# Its OpenAPI operations (the route is not an Endpoint: the answer is the file, not JSON).
OPENAPI = {signing.URL_PREFIX + "{token}": {m: _download_operation(m) for m in ("get", "head")}}
