"""The integration a data page shows: workspace, workspace integration and, for an ``end_user``
integration, the picked end user; and how a page runs one of its actions.

Shared by the file and key browsers (:mod:`cubby.web.data`) and the agent-tool pages
(:mod:`cubby.web.agent`). Every action runs through :mod:`cubby.web.actions` (so
``core.execute``) with the session's principal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from cubby.core import usage, workspaces
from cubby.core import workspace_integrations as wis
from cubby.core.models import Workspace, WorkspaceIntegration
from cubby.core.scopes import Namespace, namespace_for
from cubby.errors import NotFound
from cubby.web import actions
from cubby.web.pager import COUNT_CAP, page_url
from cubby.web.pages import Ctx

PICKER_SIZE = 100


@dataclass
class Target:
    ws: Workspace
    wi: WorkspaceIntegration
    end_user: str | None
    needs_end_user: bool

    @property
    def base(self) -> str:
        return f"/ui/workspaces/{self.ws.id}/integrations/{self.wi.id}"

    @property
    def namespace(self) -> Namespace:
        return namespace_for(self.wi.workspace_id, self.wi.settings, self.end_user)

    def url(self, page_name: str, **params: str | None) -> str:
        if self.end_user:
            params["endUser"] = self.end_user
        return page_url(f"{self.base}/{page_name}", params)


async def load(ctx: Ctx, kind: str) -> Target:
    """The page's target; 404 when the integration is not of ``kind``."""
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    wi = await wis.get(ctx.services, ctx.principal, ws.id, ctx.path("wi"))
    if wi.integration_name != kind:
        raise NotFound(f"integration {wi.alias!r} is not a {kind} integration")
    needs = usage.scope_of(wi) == "end_user"
    end_user = (ctx.arg("endUser") or ctx.field("endUser")).strip() or None
    return Target(ws, wi, end_user if needs else None, needs)


async def picker(ctx: Ctx, target: Target, template: str) -> Response | None:
    """For an end_user integration without a picked end user: the page with only the picker."""
    if not target.needs_end_user or target.end_user:
        return None
    found = await end_users(ctx, target)
    return ctx.render(template, t=target, end_users=found, picking=True)


async def end_users(ctx: Ctx, target: Target) -> list[str]:
    if not target.needs_end_user:
        return []
    return await usage.end_users_with_data(
        ctx.services, ctx.principal, target.wi, None, PICKER_SIZE
    )


async def count(ctx: Ctx, t: Target, prefix: str) -> int | None:
    """The target's items named ``prefix``..., for a pager (None: not counted)."""
    return await usage.count_names(
        ctx.services, ctx.principal, t.wi, t.namespace, prefix, COUNT_CAP + 1
    )


async def run(ctx: Ctx, t: Target, action: str, params: dict[str, Any]) -> Any:
    return await actions.run(ctx.services, ctx.principal, t.wi, action, params, t.end_user)
