"""The dashboard's "Export" (issue 24): the workspace's data, or one end user's, as the same
.tar the export API answers, downloaded from the workspace page."""

from __future__ import annotations

import os

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from cubby.core import export
from cubby.web.pages import Ctx, page


@page
async def export_data(ctx: Ctx) -> Response:
    ws_id = ctx.path("ws")
    end_user = ctx.field("endUser").strip() or None
    selection = await export.selection_for(ctx.services, ctx.principal, ws_id, end_user, None)
    path = await export.export_to_file(ctx.services, selection)
    name = "end-user" if end_user else "workspace"
    return FileResponse(
        path,
        media_type="application/x-tar",
        filename=f"cubby-{name}-export.tar",
        background=BackgroundTask(os.unlink, path),
    )


def routes(ws: str) -> list[BaseRoute]:
    return [Route(ws + "/export", export_data, methods=["POST"])]
