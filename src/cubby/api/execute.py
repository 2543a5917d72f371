"""``POST /api/v1/actions/execute``: run one action of one integration."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint
from cubby.core.execute import ExecuteRequest, ExecuteResponse, execute


async def execute_action(call: Call) -> ExecuteResponse:
    return await execute(call.services, call.user, call.body)


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/actions/execute",
        execute_action,
        "Execute an action",
        "Actions",
        body=ExecuteRequest,
        response=ExecuteResponse,
        errors=(400, 401, 403, 404, 413),
        description="Resolves the workspace integration (workspaceIntegrationId, else "
        "integrationAlias, else the only one of integrationName, else the built-in "
        "default with end_user scope), applies its persistence scope and runs the action. "
        "See the catalog for each action's input.",
    ),
]
