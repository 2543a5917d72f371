"""Data pages run actions exactly as ``POST /api/v1/actions/execute`` does: same resolution,
same enabledActions check, same persistence scope, same validation, same principal."""

from __future__ import annotations

from typing import Any

import msgspec

from cubby.auth import Principal
from cubby.core.execute import ExecuteRequest, execute
from cubby.core.models import WorkspaceIntegration
from cubby.services import Services

_encoder = msgspec.json.Encoder()


def execute_request(
    wi: WorkspaceIntegration, action: str, params: dict[str, Any], end_user: str | None
) -> ExecuteRequest:
    return ExecuteRequest(
        integration_name=wi.integration_name,
        action_name=action,
        workspace_id=wi.workspace_id,
        input=msgspec.Raw(_encoder.encode(params)),
        workspace_integration_id=wi.id,
        end_user_id=end_user or None,
    )


async def run(
    services: Services,
    principal: Principal,
    wi: WorkspaceIntegration,
    action: str,
    params: dict[str, Any],
    end_user: str | None = None,
) -> Any:
    """The action's output as plain JSON data (dicts, lists, strings ...)."""
    result = await execute(services, principal, execute_request(wi, action, params, end_user))
    return msgspec.json.decode(_encoder.encode(result.output))


def has_action(services: Services, integration: str, action: str) -> bool:
    found = services.registry.get(integration)
    return found is not None and action in found.actions
