"""``client.actions.execute``: run one action of one integration in a workspace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact
from cubby_client._types import ExecuteResult

__all__ = ["Actions", "AsyncActions", "execute_request"]


def execute_request(
    integration_name: str,
    action_name: str,
    *,
    workspace_id: str,
    input: Mapping[str, Any] | None = None,
    integration_alias: str | None = None,
    workspace_integration_id: str | None = None,
    end_user_id: str | None = None,
    idempotency_key: str | None = None,
    partial_ids: Sequence[str] | None = None,
    connection_external_id: str | None = None,
) -> APIRequest[ExecuteResult]:
    """The ``POST /api/v1/actions/execute`` call (also the base of ``storage()`` and ``kv()``)."""
    body: dict[str, Any] = {
        "integrationName": integration_name,
        "actionName": action_name,
        "workspaceId": workspace_id,
        "input": dict(input) if input is not None else {},
        **compact(
            {
                "integrationAlias": integration_alias,
                "workspaceIntegrationId": workspace_integration_id,
                "endUserId": end_user_id,
                "idempotencyKey": idempotency_key,
                "partialIds": list(partial_ids) if partial_ids is not None else None,
                "connectionExternalId": connection_external_id,
            }
        ),
    }
    # With an idempotency key the server runs the action at most once, so a retry after a 5xx
    # or a lost connection is safe (the second call gets the first one's answer).
    return APIRequest(
        "POST", "/api/v1/actions/execute", json=body, retry_safe=idempotency_key is not None
    )


class Actions:
    """Action execution."""

    def __init__(self, client: SyncSender) -> None:
        self._client = client

    def execute(
        self,
        integration_name: str,
        action_name: str,
        *,
        workspace_id: str,
        input: Mapping[str, Any] | None = None,
        integration_alias: str | None = None,
        workspace_integration_id: str | None = None,
        end_user_id: str | None = None,
        idempotency_key: str | None = None,
        partial_ids: Sequence[str] | None = None,
        connection_external_id: str | None = None,
    ) -> ExecuteResult:
        """Run an action; the result's ``["output"]`` is what the action returned.

        The workspace integration that runs is ``workspace_integration_id`` if given, else
        ``integration_alias``, else the only one of ``integration_name`` in the workspace.
        ``end_user_id`` picks the end user's data when the scope is ``end_user``. A failed
        action raises ``BadRequestError`` with ``.code == "ACTION_FAILED"`` and ``.reason``.
        With ``idempotency_key`` (1 to 255 characters) a write action runs at most once per
        workspace and key for 24 hours, and the call is retried on 5xx and network errors.
        """
        return self._client._send(
            execute_request(
                integration_name,
                action_name,
                workspace_id=workspace_id,
                input=input,
                integration_alias=integration_alias,
                workspace_integration_id=workspace_integration_id,
                end_user_id=end_user_id,
                idempotency_key=idempotency_key,
                partial_ids=partial_ids,
                connection_external_id=connection_external_id,
            )
        )


class AsyncActions:
    """Action execution."""

    def __init__(self, client: AsyncSender) -> None:
        self._client = client

    async def execute(
        self,
        integration_name: str,
        action_name: str,
        *,
        workspace_id: str,
        input: Mapping[str, Any] | None = None,
        integration_alias: str | None = None,
        workspace_integration_id: str | None = None,
        end_user_id: str | None = None,
        idempotency_key: str | None = None,
        partial_ids: Sequence[str] | None = None,
        connection_external_id: str | None = None,
    ) -> ExecuteResult:
        """Run an action; the result's ``["output"]`` is what the action returned."""
        return await self._client._send(
            execute_request(
                integration_name,
                action_name,
                workspace_id=workspace_id,
                input=input,
                integration_alias=integration_alias,
                workspace_integration_id=workspace_integration_id,
                end_user_id=end_user_id,
                idempotency_key=idempotency_key,
                partial_ids=partial_ids,
                connection_external_id=connection_external_id,
            )
        )
