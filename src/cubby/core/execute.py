"""Action execution: resolve the workspace integration, fix the namespace, run the action.

Resolution (API.md, "Action execution"): ``workspaceIntegrationId`` if given, else
``integrationAlias``, else the only integration of ``integrationName`` in the workspace; several
is ambiguous; none means the built-in default with ``end_user`` scope. With warm caches the only
database round trip here is :meth:`IntegrationStore.for_execute`.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec

from cubby.auth import Principal
from cubby.core import idempotency
from cubby.core.fields import Id
from cubby.core.mcp_records import OwnerId
from cubby.core.models import WorkspaceIntegration, is_uuid
from cubby.core.registry import Action, ActionContext, Integration
from cubby.core.scopes import namespace_for
from cubby.core.validation import off_loop
from cubby.errors import (
    ActionNotAllowed,
    ActionNotFound,
    AmbiguousIntegration,
    IntegrationNotFound,
    NotFound,
    ValidationError,
)
from cubby.services import Services

IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=idempotency.MAX_KEY_LENGTH)]
DEFAULT_SETTINGS: dict[str, Any] = {"persistence": {"scope": "end_user"}}
EMPTY_INPUT = msgspec.Raw(b"{}")


class ExecuteRequest(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    integration_name: str
    action_name: str
    workspace_id: Id
    input: msgspec.Raw = msgspec.field(default_factory=lambda: EMPTY_INPUT)
    integration_alias: str | None = None
    workspace_integration_id: str | None = None
    end_user_id: OwnerId | None = None
    idempotency_key: IdempotencyKey | None = None
    partial_ids: list[str] | None = None
    connection_external_id: str | None = None
    # Sent by the Weavz clients for integrations that need a connection; built-ins ignore them.
    auth_method_key: str | None = None
    oauth_app_mode: str | None = None
    oauth_app_id: str | None = None


class ExecuteResponse(msgspec.Struct):
    success: bool
    output: Any
    duration: float


class ReplayedResponse(ExecuteResponse):
    """The first answer to an earlier call with the same idempotencyKey (routes add the
    ``Idempotent-Replayed: true`` header)."""


def _lookup(services: Services, request: ExecuteRequest) -> tuple[Integration, Action]:
    integration = services.registry.get(request.integration_name)
    if integration is None:
        raise IntegrationNotFound(
            f"no integration named {request.integration_name!r}",
            details={"field": "integrationName", "registered": services.registry.names()},
        )
    action = integration.actions.get(request.action_name)
    if action is None:
        raise ActionNotFound(
            f"integration {integration.name!r} has no action {request.action_name!r}",
            details={"field": "actionName", "actions": list(integration.actions)},
        )
    return integration, action


async def _explain_missing(
    services: Services, request: ExecuteRequest, field: str, value: str
) -> Exception:
    """The integration named by id/alias is not of this type: say whether it exists at all."""
    for other in await services.meta.integrations.in_workspace(request.workspace_id):
        if other.id == value or other.alias == value:
            return ValidationError.for_field(
                field,
                f"{field} {value!r} is a {other.integration_name!r} integration, "
                f"not {request.integration_name!r}",
            )
    return IntegrationNotFound(
        f"this workspace has no integration with {field} {value!r}",
        details={"field": field},
    )


def _names_one(request: ExecuteRequest, candidates: list[WorkspaceIntegration]) -> bool:
    """Whether ``candidates`` hold the integration the request names by id or alias (if any)."""
    if request.workspace_integration_id is not None:
        return any(c.id == request.workspace_integration_id for c in candidates)
    if request.integration_alias is not None:
        return any(c.alias == request.integration_alias for c in candidates)
    return True


async def resolve_integration(
    services: Services, request: ExecuteRequest
) -> WorkspaceIntegration | None:
    """The workspace integration that runs, or None for the built-in default."""
    exists, candidates = await services.integrations.for_execute(
        request.workspace_id, request.integration_name, lambda found: _names_one(request, found)
    )
    if not exists:
        raise NotFound("workspace not found", details={"workspaceId": request.workspace_id})
    chosen: WorkspaceIntegration | None = None
    if request.workspace_integration_id is not None:
        chosen = next((c for c in candidates if c.id == request.workspace_integration_id), None)
        if chosen is None:
            raise await _explain_missing(
                services, request, "workspaceIntegrationId", request.workspace_integration_id
            )
        if request.integration_alias is not None and chosen.alias != request.integration_alias:
            raise ValidationError.for_field(
                "integrationAlias",
                "integrationAlias and workspaceIntegrationId name different integrations",
            )
        return chosen
    if request.integration_alias is not None:
        chosen = next((c for c in candidates if c.alias == request.integration_alias), None)
        if chosen is None:
            raise await _explain_missing(
                services, request, "integrationAlias", request.integration_alias
            )
        return chosen
    if len(candidates) > 1:
        aliases = sorted(c.alias for c in candidates)
        raise AmbiguousIntegration(
            f"this workspace has {len(candidates)} {request.integration_name!r} integrations; "
            "pass integrationAlias or workspaceIntegrationId",
            details={"aliases": aliases},
        )
    return candidates[0] if candidates else None


async def execute(
    services: Services, principal: Principal, request: ExecuteRequest
) -> ExecuteResponse:
    started = time.perf_counter()
    principal.check_workspace(request.workspace_id)
    if request.idempotency_key is not None:
        idempotency.check_key(request.idempotency_key)
    integration, action = _lookup(services, request)
    if not is_uuid(request.workspace_id):
        raise NotFound("workspace not found", details={"workspaceId": request.workspace_id})
    # The workspace's request rate (429 RATE_LIMITED): every caller of execute (both HTTP
    # routes, MCP tool calls, the dashboard) passes here; usually no database round trip.
    await services.rate_limiter.admit(request.workspace_id)
    raw_input = request.input
    # Clients that send "input": null mean no input (the length test first: a 27 MB input is
    # not copied on the event loop to find out).
    if len(raw_input) < 64 and bytes(raw_input).strip() == b"null":
        raw_input = EMPTY_INPUT
    params = await off_loop(action.decode, raw_input, size=len(raw_input))
    chosen = await resolve_integration(services, request)
    enabled = chosen.enabled_actions if chosen is not None else None
    if enabled is not None and action.name not in enabled:
        assert chosen is not None
        raise ActionNotAllowed(
            f"action {action.name!r} is not enabled on integration {chosen.alias!r}",
            details={"alias": chosen.alias, "enabledActions": enabled},
        )
    settings = chosen.settings if chosen is not None else DEFAULT_SETTINGS
    namespace = namespace_for(request.workspace_id, settings, request.end_user_id)
    ctx = ActionContext(
        namespace=namespace,
        services=services,
        integration_alias=chosen.alias if chosen is not None else integration.name,
    )
    if request.idempotency_key is None or action.read_only:
        output = await action.handler(ctx, params)
        return ExecuteResponse(success=True, output=output, duration=_since(started))
    target = [
        integration.name,
        action.name,
        chosen.id if chosen is not None else None,
        request.end_user_id,
    ]
    output, replayed = await idempotency.run_once(
        services.meta,
        request.workspace_id,
        request.idempotency_key,
        idempotency.fingerprint(target, bytes(raw_input)),
        lambda: action.handler(ctx, params),
    )
    kind = ReplayedResponse if replayed else ExecuteResponse
    return kind(success=True, output=output, duration=_since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def response_headers(response: ExecuteResponse) -> dict[str, str] | None:
    """Extra headers of an execute answer (both routes send the same)."""
    if isinstance(response, ReplayedResponse):
        return {idempotency.REPLAY_HEADER: "true"}
    return None
