"""The dashboard's limits part (issue 25): a section of the workspace page showing the live
usage against each limit (bars), and, for an organisation-wide key, the form that sets them.
Handlers call :mod:`cubby.core.limits`, as the JSON API does."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cubby.core import limits, workspaces
from cubby.core.limit_values import Limits
from cubby.core.models import Workspace, WorkspaceIntegration
from cubby.errors import ValidationError
from cubby.web.pages import Ctx, page

# (form field, label, whether it is a number of bytes); the form's names are the API's.
FIELDS = [
    ("maxBytes", "Bytes", True),
    ("maxFiles", "Files", False),
    ("maxKeys", "Keys", False),
    ("maxItems", "Agent items", False),
]
RATE_FIELDS = [("requestsPerSecond", "Requests per second"), ("burst", "Burst")]


async def load(ctx: Ctx, ws: Workspace, items: list[WorkspaceIntegration]) -> dict[str, Any]:
    figures = await limits.usage(ctx.services, ctx.principal, ws.id)
    applied = await ctx.services.effective_limits(ws.id)
    own = await ctx.services.meta.limits.get_limits(ws.id) if ctx.principal.org_wide else None
    used = msgspec.to_builtins(figures)
    bars = []
    for field, label, is_bytes in FIELDS:
        resource = field.removeprefix("max").lower()
        limit = getattr(applied, "max_" + resource)
        bars.append({"label": label, "used": used[resource], "limit": limit, "bytes": is_bytes})
    return {
        "limit_bars": bars,
        "limits": msgspec.to_builtins(applied),
        "own_limits": msgspec.to_builtins(own) if own is not None else None,
        "end_users": figures.end_users,
        "limit_fields": FIELDS,
        "rate_fields": RATE_FIELDS,
    }


def _number(ctx: Ctx, name: str) -> float | None:
    text = (ctx.field(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValidationError.for_field(name, f"{name} must be a number, or empty") from None
    return int(value) if value.is_integer() and name != "requestsPerSecond" else value


@page
async def set_limits(ctx: Ctx) -> Response:
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    body: dict[str, Any] = {}
    per_end_user: dict[str, Any] = {}
    for field, _, _ in FIELDS:
        body[field] = _number(ctx, field)
        per_end_user[field] = _number(ctx, "perEndUser." + field)
    for field, _ in RATE_FIELDS:
        body[field] = _number(ctx, field)
    if any(v is not None for v in per_end_user.values()):
        body["perEndUser"] = per_end_user
    try:
        wanted = msgspec.convert(body, Limits)
    except msgspec.ValidationError as exc:
        raise ValidationError(f"invalid limits: {exc}") from None
    await limits.set_limits(ctx.services, ctx.principal, ws.id, wanted)
    return ctx.redirect(f"/ui/workspaces/{ws.id}#limits", "Limits saved")


def routes(ws: str) -> list[BaseRoute]:
    return [Route(ws + "/limits", set_limits, methods=["POST"])]
