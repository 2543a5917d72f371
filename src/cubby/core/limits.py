"""Limits and live usage of a workspace (API.md, "Limits and usage").

Usage is read from counters the database keeps in each write's own transaction
(migrations/0018), never by scanning data. Quotas are enforced there too: a write that would
take a counter past its limit fails with QUOTA_EXCEEDED and leaves nothing, whichever process
or replica sent it. Rate limits are checked before an action runs (:func:`admit`, called by
:func:`cubby.core.execute.execute`, which the HTTP routes, the fast path, MCP tool calls and
the dashboard all go through). Reading and setting limits needs an organisation-wide key.
"""

from __future__ import annotations

from cubby.auth import Principal
from cubby.core import workspaces
from cubby.core.limit_values import Limits, UsageFigures, defaults_from
from cubby.core.scopes import end_user_namespace
from cubby.errors import Forbidden
from cubby.services import Services


def _org_wide(principal: Principal) -> None:
    if not principal.org_wide:
        raise Forbidden("managing limits needs an organisation-wide key")


async def effective(services: Services, workspace_id: str) -> Limits:
    """What applies to the workspace: its own limits, else the server-wide defaults."""
    return await services.effective_limits(workspace_id)


async def get_limits(services: Services, principal: Principal, workspace_id: str) -> Limits:
    _org_wide(principal)
    ws = await workspaces.get(services.meta, principal, workspace_id)
    return await effective(services, ws.id)


async def set_limits(
    services: Services, principal: Principal, workspace_id: str, limits: Limits
) -> Limits:
    """Replace the workspace's own limits (a field left out or null: the server default)."""
    _org_wide(principal)
    ws = await workspaces.get(services.meta, principal, workspace_id)
    await services.meta.limits.set_limits(ws.id, limits)
    services.rate_limiter.forget(ws.id)
    return await effective(services, ws.id)


async def usage(services: Services, principal: Principal, workspace_id: str) -> UsageFigures:
    ws = await workspaces.get(services.meta, principal, workspace_id)
    return await services.meta.limits.usage(ws.id)


async def end_user_usage(services: Services, workspace_id: str, end_user_id: str) -> UsageFigures:
    """One end user's counters (the caller has checked access)."""
    ns = end_user_namespace(workspace_id, end_user_id, "endUserId")
    return await services.meta.limits.usage(ns.workspace_id, ns.ns)


async def apply_defaults(services: Services) -> None:
    """Store the server-wide defaults where the database's quota checks read them (at start;
    with several servers on one database the last one started wins, so give them the same
    settings)."""
    await services.meta.limits.set_limits("", defaults_from(services.settings))


async def admit(services: Services, workspace_id: str) -> None:
    """Raise RateLimited if the workspace is over its request rate (no database round trip
    for most requests: see core/rate_limit.py)."""
    await services.rate_limiter.admit(workspace_id)


async def recount(services: Services) -> int:
    """Rebuild every usage counter from the data (``cubby usage --recount``)."""
    return await services.meta.limits.recount()


TOP_WORKSPACES = 10  # workspaces given their own usage series in /metrics (by bytes)


async def usage_metrics(services: Services) -> bytes:
    """Prometheus text for ``cubby_workspace_usage``: the live counters of the
    :data:`TOP_WORKSPACES` workspaces using the most bytes (a bounded label set however many
    workspaces there are), read from the counter rows when /metrics is scraped."""
    lines = [
        "# HELP cubby_workspace_usage Live usage of the workspaces using the most bytes "
        f"(top {TOP_WORKSPACES}), by resource.",
        "# TYPE cubby_workspace_usage gauge",
    ]
    for workspace_id, figures in await services.meta.limits.top_usage(TOP_WORKSPACES):
        for resource in ("bytes", "files", "keys", "items", "end_users"):
            value = getattr(figures, resource)
            lines.append(
                f'cubby_workspace_usage{{workspace="{workspace_id}",resource="{resource}"}} {value}'
            )
    return ("\n".join(lines) + "\n").encode()
