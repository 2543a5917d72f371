"""What an integration holds, for the dashboard: usage per integration and scope, and the end
users that have data in an integration kind. Queries are index range scans (backends)."""

from __future__ import annotations

from cubby.auth import Principal
from cubby.backends.base import DataKind, OwnerKind, Usage
from cubby.core import clock
from cubby.core.models import WorkspaceIntegration
from cubby.core.scopes import END_USER_PREFIX, Namespace, namespace_for
from cubby.services import Services

END_USER_NS = END_USER_PREFIX

# Which data table an integration kind keeps its data in (None: it keeps none of ours).
KINDS: dict[str, DataKind] = {"kv-store": "kv", "storage": "files"}
# Where each integration's rows are, for listing the end users with data (agent tools too).
OWNERS: dict[str, OwnerKind] = {
    **KINDS,
    "agent-memory": "memory",
    "agent-scratchpad": "scratchpad",
    "sequential-thinking": "thinking",
}


def scope_of(wi: WorkspaceIntegration) -> str:
    return str((wi.settings.get("persistence") or {}).get("scope", "end_user"))


def kind_of(wi: WorkspaceIntegration) -> DataKind | None:
    return KINDS.get(wi.integration_name)


async def integration_usage(
    services: Services, principal: Principal, wi: WorkspaceIntegration
) -> Usage | None:
    """Keys, files and bytes in the integration's scope (every end user together for an
    ``end_user`` integration); None for a kind without cubby data."""
    principal.check_workspace(wi.workspace_id)
    kind = kind_of(wi)
    if kind is None:
        return None
    if scope_of(wi) == "end_user":
        return await services.meta.usage.usage(kind, wi.workspace_id, END_USER_NS, True)
    ns = namespace_for(wi.workspace_id, wi.settings, None)
    return await services.meta.usage.usage(kind, wi.workspace_id, ns.ns, False)


async def end_users_with_data(
    services: Services,
    principal: Principal,
    wi: WorkspaceIntegration,
    after: str | None = None,
    limit: int = 100,
) -> list[str]:
    """End-user ids (sorted) that have data of this integration's kind in its workspace."""
    principal.check_workspace(wi.workspace_id)
    kind = OWNERS.get(wi.integration_name)
    if kind is None:
        return []
    found = await services.meta.usage.namespaces(
        kind,
        wi.workspace_id,
        END_USER_NS,
        END_USER_NS + after if after is not None else None,
        limit,
    )
    return [ns.removeprefix(END_USER_NS) for ns in found]


async def folder_usage(
    services: Services, principal: Principal, ns: Namespace, prefix: str
) -> Usage:
    principal.check_workspace(ns.workspace_id)
    return await services.meta.usage.folder_usage(ns, prefix)


async def count_names(
    services: Services,
    principal: Principal,
    wi: WorkspaceIntegration,
    ns: Namespace,
    prefix: str,
    cap: int,
) -> int | None:
    """How many of the integration's items in ``ns`` have a name starting with ``prefix``, up
    to ``cap``; None for an integration without rows of its own."""
    principal.check_workspace(ns.workspace_id)
    kind = OWNERS.get(wi.integration_name)
    if kind is None:
        return None
    return await services.meta.usage.count_names(kind, ns, prefix, clock.now(), cap)
