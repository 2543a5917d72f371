"""Adding, changing and removing integrations of a workspace."""

from __future__ import annotations

from typing import Any, get_args

import msgspec
from msgspec import UNSET

from cubby.auth import Principal
from cubby.core import workspaces
from cubby.core.inputs import ConnectionStrategy, CreateIntegration, IntegrationFields
from cubby.core.models import WorkspaceIntegration, is_uuid, new_id, utc_now
from cubby.core.registry import Integration
from cubby.core.scopes import parse_settings
from cubby.core.validators import check_alias, has_control_chars
from cubby.errors import IntegrationNotFound, NotFound, ValidationError
from cubby.services import Services

_OPTIONAL_TEXT = (
    "display_name",
    "connection_strategy",
    "connection_id",
    "auth_method_key",
    "oauth_app_mode",
    "oauth_app_id",
)
MAX_TEXT = 500
CONNECTION_STRATEGIES: tuple[str, ...] = get_args(ConnectionStrategy)  # declared in core.inputs
BUILTIN_STRATEGY = "fixed"


def present(services: Services, wi: WorkspaceIntegration) -> WorkspaceIntegration:
    """A workspace integration as the API answers it (API.md, "Client compatibility
    details"): what was stored, with the defaults the clients' models need filled in —
    ``displayName`` the catalog's, ``connectionStrategy`` "fixed", ``enabledActions`` every
    action when unrestricted. The stored record keeps None (unrestricted stays unrestricted
    when actions are added), so execution and PATCH semantics do not change."""
    integration = services.registry.get(wi.integration_name)
    display = integration.display_name if integration is not None else wi.integration_name
    every = list(integration.actions) if integration is not None else []
    return msgspec.structs.replace(
        wi,
        display_name=wi.display_name if wi.display_name is not None else display,
        connection_strategy=wi.connection_strategy or BUILTIN_STRATEGY,
        enabled_actions=wi.enabled_actions if wi.enabled_actions is not None else every,
    )


def _integration(services: Services, name: str) -> Integration:
    integration = services.registry.get(name)
    if integration is None:
        raise IntegrationNotFound(
            f"no integration named {name!r}",
            details={"field": "integrationName", "registered": services.registry.names()},
        )
    return integration


def _check_enabled(integration: Integration, enabled: list[str] | None) -> list[str] | None:
    if enabled is None:
        return None
    unknown = [a for a in enabled if a not in integration.actions]
    if unknown:
        raise ValidationError.for_field(
            "enabledActions",
            f"{integration.name!r} has no action {unknown[0]!r}",
            actions=list(integration.actions),
        )
    return list(dict.fromkeys(enabled))


def _apply(wi: WorkspaceIntegration, fields: IntegrationFields, integration: Integration) -> None:
    """Copy every field the caller sent onto ``wi``, validating each."""
    if fields.alias is not UNSET:
        wi.alias = check_alias(fields.alias)
    if fields.settings is not UNSET:
        wi.settings = parse_settings(fields.settings)
    if fields.enabled_actions is not UNSET:
        wi.enabled_actions = _check_enabled(integration, fields.enabled_actions)
    if fields.sort_order is not UNSET:
        wi.sort_order = fields.sort_order
    for name in _OPTIONAL_TEXT:
        value: Any = getattr(fields, name)
        if value is UNSET:
            continue
        if value is not None:
            camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
            if len(value) > MAX_TEXT:
                raise ValidationError.for_field(
                    camel, f"{camel} is longer than {MAX_TEXT} characters", limit=MAX_TEXT
                )
            if has_control_chars(value):
                raise ValidationError.for_field(
                    camel, f"{camel} must not contain control characters"
                )
            if name == "connection_strategy" and value not in CONNECTION_STRATEGIES:
                raise ValidationError.for_field(
                    camel, f"{camel} must be one of {', '.join(CONNECTION_STRATEGIES)} or null"
                )
        setattr(wi, name, value)


async def create(
    services: Services, principal: Principal, workspace_id: str, body: CreateIntegration
) -> WorkspaceIntegration:
    await workspaces.get(services.meta, principal, workspace_id)
    integration = _integration(services, body.integration_name)
    now = utc_now()
    wi = WorkspaceIntegration(
        id=new_id(),
        workspace_id=workspace_id,
        integration_name=integration.name,
        alias=integration.name,
        display_name=None,
        connection_strategy=None,
        connection_id=None,
        auth_method_key=None,
        oauth_app_mode=None,
        oauth_app_id=None,
        enabled_actions=None,
        settings=parse_settings(None),
        sort_order=0,
        created_at=now,
        updated_at=now,
    )
    _apply(wi, body, integration)
    await services.meta.integrations.create(wi)
    services.integrations.invalidate(wi.workspace_id)
    return wi


async def in_workspace(
    services: Services, principal: Principal, workspace_id: str
) -> list[WorkspaceIntegration]:
    """A workspace's integrations, after checking the caller may see the workspace."""
    ws = await workspaces.get(services.meta, principal, workspace_id)
    return await services.meta.integrations.in_workspace(ws.id)


async def get(
    services: Services, principal: Principal, workspace_id: str, integration_id: str
) -> WorkspaceIntegration:
    principal.check_workspace(workspace_id)
    wi = None
    if is_uuid(workspace_id) and is_uuid(integration_id):
        wi = await services.meta.integrations.get(workspace_id, integration_id)
    if wi is None:
        raise NotFound("workspace integration not found", details={"id": integration_id})
    return wi


async def update(
    services: Services,
    principal: Principal,
    workspace_id: str,
    integration_id: str,
    body: IntegrationFields,
) -> WorkspaceIntegration:
    wi = await get(services, principal, workspace_id, integration_id)
    integration = _integration(services, wi.integration_name)
    _apply(wi, body, integration)
    wi.updated_at = utc_now()
    await services.meta.integrations.update(wi)
    services.integrations.invalidate(wi.workspace_id)
    return wi


async def remove(
    services: Services, principal: Principal, workspace_id: str, integration_id: str
) -> None:
    await get(services, principal, workspace_id, integration_id)
    await services.meta.integrations.delete(workspace_id, integration_id)
    services.integrations.invalidate(workspace_id)
