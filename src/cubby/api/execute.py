"""``POST /api/v1/actions/execute``: run one action of one integration."""

from __future__ import annotations

from starlette.responses import Response

from cubby.api.endpoint import Call, Endpoint, json_response
from cubby.core.execute import ExecuteRequest, ExecuteResponse, execute, response_headers


async def execute_action(call: Call) -> Response:
    result = await execute(call.services, call.user, call.body)
    return json_response(result, 200, response_headers(result))


ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/actions/execute",
        execute_action,
        "Execute an action",
        "Actions",
        body=ExecuteRequest,
        response=ExecuteResponse,
        errors=(
            "AMBIGUOUS_INTEGRATION",
            "ACTION_FAILED",
            "SCOPE_DENIED",
            "ACTION_NOT_ALLOWED",
            "QUOTA_EXCEEDED",
            "NOT_FOUND",
            "INTEGRATION_NOT_FOUND",
            "ACTION_NOT_FOUND",
            "IDEMPOTENCY_CONFLICT",
            "IDEMPOTENCY_IN_PROGRESS",
            "RATE_LIMITED",
        ),
        description="Resolves the workspace integration (workspaceIntegrationId, else "
        "integrationAlias, else the only one of integrationName, else the built-in "
        "default with end_user scope), applies its persistence scope and runs the action. "
        "See the catalog for each action's input. With idempotencyKey (1 to 255 characters) "
        "a write action runs at most once per workspace and key for 24 hours: the same "
        "request again gets the first answer with header Idempotent-Replayed: true, another "
        "request 409 IDEMPOTENCY_CONFLICT, and while the first still runs a duplicate waits "
        "for it, then 409 IDEMPOTENCY_IN_PROGRESS.",
    ),
]
