"""Dashboard pages: sign-in (the landing page), workspaces, a workspace with its integrations
and usage, and organisation API keys. Handlers are thin: they call the same ``core`` functions
as the JSON API with the session's principal. Files, keys and the playground live in
:mod:`cubby.web.data` and :mod:`cubby.web.playground`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from cubby.core import keys, usage, workspaces
from cubby.core import workspace_integrations as wis
from cubby.core.inputs import CreateIntegration, UpdateIntegration
from cubby.core.models import KeyPermissions, Workspace, WorkspaceIntegration
from cubby.errors import CubbyError, NotFound, ValidationError
from cubby.services import Services
from cubby.web import agent, data, mcp, playground
from cubby.web import export as export_page
from cubby.web import limits as limits_web
from cubby.web import session as sessions
from cubby.web.pager import Pages, offset_of, offset_pager
from cubby.web.pages import Ctx, error_page, page, read_form, render, safe_next
from cubby.web.session import SIGNIN_COOKIE

SCOPE_CHOICES = [
    ("end_user", "Current end user"),
    ("workspace", "Shared workspace"),
    ("external", "Custom namespace"),
]
SCOPE_LABELS = dict(SCOPE_CHOICES)
WORKSPACE_PAGE_SIZE = 100


# -- sign-in / landing ----------------------------------------------------------------------
async def home(request: Request) -> Response:
    services: Services = request.app.state.services
    web_session = await sessions.current(request, services)
    if web_session is None:
        return _signin_page(request, services)
    ctx = Ctx(request, services, web_session, None)
    try:
        return await workspaces_page(ctx)
    except CubbyError as exc:
        return error_page(request, exc, web_session)


def _signin_page(
    request: Request, services: Services, error: str | None = None, status: int = 200
) -> Response:
    token = sessions.new_signin_token()
    response = render(
        request,
        "signin.html",
        status,
        signin_token=token,
        error=error,
        next=safe_next(request.query_params.get("next")),
        base_url=str(request.base_url).rstrip("/"),
    )
    sessions.set_cookie(response, request, services, SIGNIN_COOKIE, token, 3600)
    return response


async def sign_in(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        form = await read_form(request, max_files=0)  # no session yet: no uploads either
        given = form.get(sessions.CSRF_FIELD)
        sessions.check_token(
            request.cookies.get(SIGNIN_COOKIE), given if isinstance(given, str) else None
        )
        key = form.get("key")
        session_id, age = await sessions.sign_in(services, key if isinstance(key, str) else "")
    except CubbyError as exc:
        return _signin_page(request, services, exc.message, exc.status)
    nxt = form.get("next")
    response = RedirectResponse(safe_next(nxt if isinstance(nxt, str) else None), 303)
    sessions.set_cookie(response, request, services, sessions.COOKIE, session_id, age)
    sessions.clear_cookie(response, request, services, SIGNIN_COOKIE)
    return response


@page
async def sign_out(ctx: Ctx) -> Response:
    await sessions.sign_out(ctx.services, ctx.session)
    response = RedirectResponse("/", 303)
    sessions.clear_cookie(response, ctx.request, ctx.services, sessions.COOKIE)
    return response


# -- workspaces -----------------------------------------------------------------------------
async def workspaces_page(ctx: Ctx) -> Response:
    start = offset_of(ctx)
    items, total = await workspaces.page(
        ctx.services.meta, ctx.principal, WORKSPACE_PAGE_SIZE, start
    )
    return ctx.render(
        "workspaces.html",
        workspaces=items,
        pager=offset_pager(start, WORKSPACE_PAGE_SIZE, len(items), total),
        pages=Pages(""),
    )


async def to_home(request: Request) -> Response:
    """GET of a form's URL (a reload after an old POST): the page the form was on."""
    return RedirectResponse("/", 303)


@page
async def create_workspace(ctx: Ctx) -> Response:
    ws = await workspaces.create_as(
        ctx.principal, ctx.services.meta, ctx.field("name"), ctx.field("slug")
    )
    return ctx.redirect(f"/ui/workspaces/{ws.id}", f"Created workspace {ws.slug}")


@page
async def rename_workspace(ctx: Ctx) -> Response:
    ws = await workspaces.update(
        ctx.services.meta,
        ctx.principal,
        ctx.path("ws"),
        ctx.field("name") or UNSET,
        ctx.field("slug") or UNSET,
    )
    return ctx.redirect(f"/ui/workspaces/{ws.id}", "Saved")


@page
async def delete_workspace(ctx: Ctx) -> Response:
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    if ctx.field("confirm") != ws.slug:
        raise ValidationError.for_field(
            "confirm", f"type the slug {ws.slug!r} to confirm deleting the workspace"
        )
    await workspaces.delete(ctx.services, ctx.principal, ws.id)
    return ctx.redirect("/", f"Deleted workspace {ws.slug} with all its files and keys")


# -- a workspace: sections that other features can extend ------------------------------------
Loader = Callable[[Ctx, Workspace, list[WorkspaceIntegration]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Section:
    """One part of the workspace page: a template included with what ``load`` returns."""

    template: str
    load: Loader


async def _no_data(ctx: Ctx, ws: Workspace, items: list[WorkspaceIntegration]) -> dict[str, Any]:
    return {}


async def _usage(ctx: Ctx, ws: Workspace, items: list[WorkspaceIntegration]) -> dict[str, Any]:
    rows = []
    for wi in items:
        found = await usage.integration_usage(ctx.services, ctx.principal, wi)
        if found is not None:
            rows.append((wi, found))
    return {"usage_rows": rows}


# Append a Section here to add a part to every workspace page (e.g. MCP servers).
WORKSPACE_SECTIONS: list[Section] = [
    Section("workspace/integrations.html", _no_data),
    Section("workspace/usage.html", _usage),
    Section("workspace/limits.html", limits_web.load),
    Section("workspace/mcp.html", mcp.load),
    Section("workspace/settings.html", _no_data),
]


@page
async def workspace_page(ctx: Ctx) -> Response:
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    items = await wis.in_workspace(ctx.services, ctx.principal, ws.id)
    sections = [(s.template, await s.load(ctx, ws, items)) for s in WORKSPACE_SECTIONS]
    return ctx.render(
        "workspace.html",
        ws=ws,
        integrations=items,
        sections=sections,
        scope_labels=SCOPE_LABELS,
        scope_of=usage.scope_of,
        catalog=ctx.services.registry.all(),
    )


# -- integrations ---------------------------------------------------------------------------
def _settings_from(ctx: Ctx) -> dict[str, Any]:
    scope = ctx.field("scope", "end_user")
    persistence: dict[str, Any] = {"scope": scope}
    if scope == "external":
        persistence["externalId"] = ctx.field("namespaceKey")
    return {"persistence": persistence}


def _enabled_from(ctx: Ctx, integration_name: str) -> list[str] | None:
    """The ticked actions of this integration (the add form names them ``kind:action``);
    every one ticked means unrestricted (None), as the API shows an unrestricted one."""
    assert ctx.form is not None
    chosen = []
    for value in ctx.form.getlist("enabledActions"):
        if not isinstance(value, str):
            continue
        kind, _, action = value.rpartition(":")
        if not kind or kind == integration_name:
            chosen.append(action)
    integration = ctx.services.registry.get(integration_name)
    if integration is not None and set(chosen) >= set(integration.actions):
        return None
    return chosen


@page
async def add_integration(ctx: Ctx) -> Response:
    name = ctx.field("integrationName")
    body = CreateIntegration(
        integration_name=name,
        alias=ctx.field("alias") or UNSET,
        display_name=ctx.field("displayName") or None,
        settings=_settings_from(ctx),
        enabled_actions=_enabled_from(ctx, name),
    )
    wi = await wis.create(ctx.services, ctx.principal, ctx.path("ws"), body)
    return ctx.redirect(f"/ui/workspaces/{wi.workspace_id}", f"Added integration {wi.alias}")


@page
async def integration_page(ctx: Ctx) -> Response:
    ws = await workspaces.get(ctx.services.meta, ctx.principal, ctx.path("ws"))
    wi = await wis.get(ctx.services, ctx.principal, ws.id, ctx.path("wi"))
    return ctx.render(
        "integration.html",
        ws=ws,
        wi=wi,
        integration=ctx.services.registry.get(wi.integration_name),
        scope_choices=SCOPE_CHOICES,
        scope=usage.scope_of(wi),
    )


@page
async def update_integration(ctx: Ctx) -> Response:
    ws_id = ctx.path("ws")
    current = await wis.get(ctx.services, ctx.principal, ws_id, ctx.path("wi"))
    body = UpdateIntegration(
        alias=ctx.field("alias") or UNSET,
        display_name=ctx.field("displayName") or None,
        settings=_settings_from(ctx),
        enabled_actions=_enabled_from(ctx, current.integration_name),
    )
    wi = await wis.update(ctx.services, ctx.principal, ws_id, current.id, body)
    return ctx.redirect(f"/ui/workspaces/{ws_id}", f"Saved integration {wi.alias}")


@page
async def remove_integration(ctx: Ctx) -> Response:
    ws_id = ctx.path("ws")
    wi = await wis.get(ctx.services, ctx.principal, ws_id, ctx.path("wi"))
    await wis.remove(ctx.services, ctx.principal, ws_id, wi.id)
    return ctx.redirect(
        f"/ui/workspaces/{ws_id}", f"Removed integration {wi.alias} (its data stays in its scope)"
    )


# -- API keys (organisation-wide keys only) ---------------------------------------------------
@page
async def api_keys_page(ctx: Ctx) -> Response:
    ctx.principal.require_org_wide()
    items = await ctx.services.meta.api_keys.all()
    for item in items:
        item.last_used_at = ctx.services.auth.last_used(item.id) or item.last_used_at
    all_ws, _ = await workspaces.page(ctx.services.meta, ctx.principal, WORKSPACE_PAGE_SIZE, 0)
    names = {ws.id: ws.slug for ws in all_ws}
    org_wide = sum(
        1 for k in items if (k.permissions is None or k.permissions.org_wide) and keys.usable(k)
    )
    return ctx.render(
        "api_keys.html", keys=items, workspaces=all_ws, ws_names=names, org_wide_count=org_wide
    )


@page
async def create_api_key(ctx: Ctx) -> Response:
    ctx.principal.require_org_wide()
    assert ctx.form is not None
    chosen = [v for v in ctx.form.getlist("workspaceIds") if isinstance(v, str)]
    permissions = KeyPermissions("workspace", chosen) if chosen else None
    key, plain = await keys.create_key(
        ctx.services.meta, ctx.field("name"), ctx.field("expiresAt") or None, permissions
    )
    return ctx.redirect_revealing(f"/ui/api-keys/{key.id}", {"key": plain})


@page
async def api_key_page(ctx: Ctx) -> Response:
    """One key: its access and times, and its secret the one time after it was created."""
    ctx.principal.require_org_wide()
    key_id = ctx.path("id")
    key = next((k for k in await ctx.services.meta.api_keys.all() if k.id == key_id), None)
    if key is None:
        raise NotFound("API key not found (it may have been revoked)", details={"id": key_id})
    key.last_used_at = ctx.services.auth.last_used(key.id) or key.last_used_at
    all_ws, _ = await workspaces.page(ctx.services.meta, ctx.principal, WORKSPACE_PAGE_SIZE, 0)
    names = {ws.id: ws.slug for ws in all_ws}
    return ctx.render_revealing("api_key.html", key=key, ws_names=names)


@page
async def revoke_api_key(ctx: Ctx) -> Response:
    ctx.principal.require_org_wide()
    key_id = ctx.path("id")
    if not await keys.revoke_key(ctx.services.meta, key_id):
        raise NotFound("API key not found", details={"id": key_id})
    ctx.services.auth.forget(key_id)
    return ctx.redirect("/ui/api-keys", "Revoked the key; its dashboard sessions have ended")


def web_routes() -> list[BaseRoute]:
    ws = "/ui/workspaces/{ws}"
    wi = ws + "/integrations/{wi}"
    return [
        Route("/", home, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/ui/workspaces", to_home, methods=["GET"]),
        Route("/ui/workspaces", create_workspace, methods=["POST"]),
        Route(ws, workspace_page, methods=["GET"]),
        Route(ws + "/rename", rename_workspace, methods=["POST"]),
        Route(ws + "/delete", delete_workspace, methods=["POST"]),
        Route(ws + "/integrations", add_integration, methods=["POST"]),
        Route(wi, integration_page, methods=["GET"]),
        Route(wi, update_integration, methods=["POST"]),
        Route(wi + "/delete", remove_integration, methods=["POST"]),
        *mcp.routes(ws),
        *limits_web.routes(ws),
        *export_page.routes(ws),
        *data.routes(wi),
        *agent.routes(wi),
        Route("/ui/api-keys", api_keys_page, methods=["GET"]),
        Route("/ui/api-keys", create_api_key, methods=["POST"]),
        Route("/ui/api-keys/{id}", api_key_page, methods=["GET"]),
        Route("/ui/api-keys/{id}/revoke", revoke_api_key, methods=["POST"]),
        *playground.routes(),
        Mount("/static", StaticFiles(packages=[("cubby.web", "static")]), name="static"),
    ]
