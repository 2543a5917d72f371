"""``GET /downloads/<token>``: serve a file through a signed URL from ``get_download_url``.

No API key: the HMAC-signed token is the credential (see :mod:`cubby.core.signing`). The route
lives outside ``/api/v1`` because every ``/api/v1`` route requires a key (API.md, "Auth").
Errors are raised as :class:`cubby.errors.CubbyError`, so the app's handler answers JSON: 403
for a tampered, malformed or expired URL, 404 when the path holds no file any more.

Bodies stream from the blob store in chunks with ``Content-Length`` set up front, so memory stays
flat whatever the file size. User content is served from cubby's own origin, so the response is
sandboxed (CSP ``sandbox``, ``nosniff``): an uploaded HTML or SVG file cannot run script with the
origin's privileges.
"""

from __future__ import annotations

import time
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cubby.backends.base import FileRecord
from cubby.core import files, signing
from cubby.core.scopes import Namespace
from cubby.errors import NotFound
from cubby.services import Services


def _headers(record: FileRecord) -> dict[str, str]:
    name = record.path.rsplit("/", 1)[-1]
    modified = datetime.fromisoformat(record.updated_at.replace("Z", "+00:00"))
    return {
        "content-type": record.content_type,
        "content-length": str(record.size),
        "etag": f'"{record.etag}"',
        "last-modified": format_datetime(modified, usegmt=True),
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


async def download(request: Request) -> Response:
    services: Services = request.app.state.services
    key = signing.signing_key(services.settings)
    grant = signing.verify(key, request.path_params["token"], time.time())
    ns = Namespace(grant.workspace_id, grant.ns)
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
    opened = await files.open_file(services, ns, grant.path)
    if opened is None:
        raise _gone(grant.path)
    headers = _headers(opened.record)
    if opened.inline is not None:
        return Response(opened.inline, headers=headers)
    return StreamingResponse(opened.chunks(), headers=headers)


def _gone(path: str) -> NotFound:
    return NotFound("this download URL's file no longer exists", details={"path": path})


ROUTES = [Route(signing.URL_PREFIX + "{token}", download, methods=["GET", "HEAD"])]
