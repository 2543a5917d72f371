"""``/api/v1/workspaces/{wsId}/integrations``: configure aliases, settings and actions."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint
from cubby.api.wire import Deleted, IntegrationEnvelope, IntegrationList
from cubby.core import workspace_integrations as wis
from cubby.core.inputs import CreateIntegration, UpdateIntegration


async def list_integrations(call: Call) -> IntegrationList:
    items = await wis.in_workspace(call.services, call.user, call.path("wsId"))
    shown = [wis.present(call.services, wi) for wi in items]
    return IntegrationList(integrations=shown, total=len(shown))


async def add_integration(call: Call) -> IntegrationEnvelope:
    wi = await wis.create(call.services, call.user, call.path("wsId"), call.body)
    return IntegrationEnvelope(integration=wis.present(call.services, wi))


async def get_integration(call: Call) -> IntegrationEnvelope:
    wi = await wis.get(call.services, call.user, call.path("wsId"), call.path("id"))
    return IntegrationEnvelope(integration=wis.present(call.services, wi))


async def update_integration(call: Call) -> IntegrationEnvelope:
    wi = await wis.update(call.services, call.user, call.path("wsId"), call.path("id"), call.body)
    return IntegrationEnvelope(integration=wis.present(call.services, wi))


async def remove_integration(call: Call) -> Deleted:
    await wis.remove(call.services, call.user, call.path("wsId"), call.path("id"))
    return Deleted(deleted=True, id=call.path("id"))


_BASE = "/api/v1/workspaces/{wsId}/integrations"
_TAG = "Workspace integrations"

ENDPOINTS = [
    Endpoint(
        "GET",
        _BASE,
        list_integrations,
        "List a workspace's integrations",
        _TAG,
        response=IntegrationList,
        errors=(401, 403, 404),
    ),
    Endpoint(
        "POST",
        _BASE,
        add_integration,
        "Add an integration to a workspace",
        _TAG,
        body=CreateIntegration,
        response=IntegrationEnvelope,
        status=201,
        errors=(400, 401, 403, 404, "INTEGRATION_NOT_FOUND", "ALIAS_CONFLICT"),
    ),
    Endpoint(
        "GET",
        _BASE + "/{id}",
        get_integration,
        "Get a workspace integration",
        _TAG,
        response=IntegrationEnvelope,
        errors=(401, 403, 404),
    ),
    Endpoint(
        "PATCH",
        _BASE + "/{id}",
        update_integration,
        "Change a workspace integration (any field but integrationName)",
        _TAG,
        body=UpdateIntegration,
        response=IntegrationEnvelope,
        errors=(400, 401, 403, 404, "ALIAS_CONFLICT"),
    ),
    Endpoint(
        "DELETE",
        _BASE + "/{id}",
        remove_integration,
        "Remove a workspace integration (its data stays with its scope)",
        _TAG,
        response=Deleted,
        errors=(401, 403, 404),
    ),
]
