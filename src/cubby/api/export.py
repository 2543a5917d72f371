"""``POST /api/v1/workspaces/{wsId}/export`` and ``.../import``: one scope's data as a tar
(:mod:`cubby.core.export`). Same access rules as execute: a workspace-scoped key reaches only
its workspaces."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, cast

import msgspec
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from cubby.api.endpoint import Call, Endpoint, QueryParam, too_large
from cubby.core import export
from cubby.core.archive import Archive, ArchiveError
from cubby.core.inputs import Body
from cubby.core.mcp_records import OwnerId
from cubby.errors import ValidationError

_TAG = "Export and import"


OnlyEndUser = Annotated[
    OwnerId,
    msgspec.Meta(description="only this end user's data: their `end_user` namespaces, every alias"),
]
OnlyAlias = Annotated[
    str,
    msgspec.Meta(
        description="only this integration's namespace (an `end_user`-scoped one: every end "
        "user's part, or with `endUserId` only theirs)"
    ),
]


class ExportRequest(Body):
    end_user_id: OnlyEndUser | None = None
    integration_alias: OnlyAlias | None = None


class Imported(msgspec.Struct, rename="camel"):
    workspace_id: str
    mode: str
    rows: dict[str, int]
    bodies: int


async def export_scope(call: Call) -> FileResponse:
    body: ExportRequest = call.body if call.body is not None else ExportRequest()
    selection = await export.selection_for(
        call.services, call.user, call.path("wsId"), body.end_user_id, body.integration_alias
    )
    path = await export.export_to_file(call.services, selection)
    name = selection.label.replace(":", "-")
    return FileResponse(
        path,
        media_type="application/x-tar",
        filename=f"cubby-export-{name}.tar"
        if name.isascii() and name.replace("-", "").isalnum()
        else "cubby-export.tar",
        background=BackgroundTask(os.unlink, path),
    )


async def import_scope(call: Call) -> Imported:
    ws_id = call.path("wsId")
    mode = call.request.query_params.get("mode", "merge")
    if mode not in ("merge", "replace"):
        raise ValidationError.for_field("mode", "mode must be merge or replace")
    await export.check_access(call.services, call.user, ws_id)
    limit = call.services.settings.max_body_bytes
    fd, path = tempfile.mkstemp(prefix="cubby-import-", suffix=".tar")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in call.request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
        if size == 0:  # nothing sent: nothing to import (the archive is the body)
            return Imported(workspace_id=ws_id, mode=mode, rows={}, bodies=0)
        try:
            archive = Archive(Path(path))
        except ArchiveError as exc:
            raise ValidationError(f"not a cubby export archive: {exc}") from None
        try:
            done = await export.import_archive(
                call.services, ws_id, archive, cast(export.Mode, mode)
            )
        except ArchiveError as exc:
            raise ValidationError(str(exc)) from None
        finally:
            archive.close()
    finally:
        os.unlink(path)
    return Imported(workspace_id=ws_id, mode=mode, rows=done.rows, bodies=done.bodies)


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/workspaces/{wsId}/export",
        export_scope,
        "Export one end user's, one integration's or the whole workspace's data as a .tar",
        _TAG,
        body=ExportRequest,
        errors=(400, 401, 403, 404),
        media_type="application/x-tar",
        description="With endUserId: every kind of that end user's data (all their aliases); "
        "with integrationAlias: that integration's namespace (with endUserId too: that end "
        "user's part of it); with neither: the whole workspace. The tar holds manifest.json, "
        "one JSON Lines file per table of each kind and the file bodies under files/.",
    ),
    Endpoint(
        "POST",
        "/api/v1/workspaces/{wsId}/import",
        import_scope,
        "Import an export .tar (the request body) into the workspace",
        _TAG,
        response=Imported,
        query=[
            QueryParam(
                "mode",
                {"type": "string", "enum": ["merge", "replace"], "default": "merge"},
                "merge: upsert over what is there; replace: first delete the scope's data",
            )
        ],
        # the body is read by the route itself; the rows it loads count against quotas
        errors=(400, 401, 403, 404, 413, "REQUEST_TIMEOUT", "QUOTA_EXCEEDED"),
        description="The body is the .tar an export returned (Content-Type "
        "application/x-tar), at most CUBBY_MAX_BODY_BYTES; an empty body imports nothing. "
        "The whole archive is checked "
        "first (row counts, SHA-256 of every member); each kind then loads in one "
        "transaction, so a kind is imported whole or not at all.",
    ),
]
