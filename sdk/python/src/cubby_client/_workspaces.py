"""``client.workspaces``: workspaces and the integrations configured in them.

Methods return the API's JSON body unchanged (``{"workspace": {...}}``, ``{"integrations": [...],
"total": n}``, ...). Keyword arguments are snake_case and sent camelCase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact, segment
from cubby_client._types import (
    Deleted,
    WorkspaceEnvelope,
    WorkspaceIntegrationEnvelope,
    WorkspaceIntegrationList,
    WorkspaceList,
)

__all__ = ["AsyncWorkspaces", "Workspaces"]

_ROOT = "/api/v1/workspaces"


def _ws(workspace_id: str) -> str:
    return f"{_ROOT}/{segment(workspace_id)}"


def _wi(workspace_id: str, integration_id: str | None = None) -> str:
    path = f"{_ws(workspace_id)}/integrations"
    return path if integration_id is None else f"{path}/{segment(integration_id)}"


def integration_fields(
    alias: str | None,
    integration_alias: str | None,
    display_name: str | None,
    enabled_actions: Sequence[str] | None,
    settings: Mapping[str, Any] | None,
    sort_order: int | None,
    connection_strategy: str | None,
    connection_id: str | None,
    auth_method_key: str | None,
    oauth_app_mode: str | None,
    oauth_app_id: str | None,
) -> dict[str, Any]:
    """The camelCase body fields of add/update_integration that were given."""
    if alias is not None and integration_alias is not None and alias != integration_alias:
        raise ValueError("alias and integration_alias name the same field; pass one")
    return compact(
        {
            "alias": alias if alias is not None else integration_alias,
            "displayName": display_name,
            "enabledActions": list(enabled_actions) if enabled_actions is not None else None,
            "settings": dict(settings) if settings is not None else None,
            "sortOrder": sort_order,
            "connectionStrategy": connection_strategy,
            "connectionId": connection_id,
            "authMethodKey": auth_method_key,
            "oauthAppMode": oauth_app_mode,
            "oauthAppId": oauth_app_id,
        }
    )


def create_request(name: str, slug: str) -> APIRequest[WorkspaceEnvelope]:
    return APIRequest("POST", _ROOT, json={"name": name, "slug": slug})


def list_request(limit: int | None, offset: int | None) -> APIRequest[WorkspaceList]:
    return APIRequest("GET", _ROOT, params=compact({"limit": limit, "offset": offset}))


def get_request(workspace_id: str) -> APIRequest[WorkspaceEnvelope]:
    return APIRequest("GET", _ws(workspace_id))


def update_request(
    workspace_id: str, name: str | None, slug: str | None
) -> APIRequest[WorkspaceEnvelope]:
    return APIRequest("PATCH", _ws(workspace_id), json=compact({"name": name, "slug": slug}))


def delete_request(workspace_id: str) -> APIRequest[Deleted]:
    return APIRequest("DELETE", _ws(workspace_id))


def add_integration_request(
    workspace_id: str, integration_name: str, fields: dict[str, Any]
) -> APIRequest[WorkspaceIntegrationEnvelope]:
    body = {"integrationName": integration_name, **fields}
    return APIRequest("POST", _wi(workspace_id), json=body)


def list_integrations_request(workspace_id: str) -> APIRequest[WorkspaceIntegrationList]:
    return APIRequest("GET", _wi(workspace_id))


def get_integration_request(
    workspace_id: str, integration_id: str
) -> APIRequest[WorkspaceIntegrationEnvelope]:
    return APIRequest("GET", _wi(workspace_id, integration_id))


def update_integration_request(
    workspace_id: str, integration_id: str, fields: dict[str, Any]
) -> APIRequest[WorkspaceIntegrationEnvelope]:
    return APIRequest("PATCH", _wi(workspace_id, integration_id), json=fields)


def remove_integration_request(workspace_id: str, integration_id: str) -> APIRequest[Deleted]:
    return APIRequest("DELETE", _wi(workspace_id, integration_id))


def usage_request(workspace_id: str) -> APIRequest[dict[str, Any]]:
    return APIRequest("GET", f"{_ws(workspace_id)}/usage")


def get_limits_request(workspace_id: str) -> APIRequest[dict[str, Any]]:
    return APIRequest("GET", f"{_ws(workspace_id)}/limits")


def set_limits_request(workspace_id: str, limits: Mapping[str, Any]) -> APIRequest[dict[str, Any]]:
    return APIRequest("PUT", f"{_ws(workspace_id)}/limits", json=dict(limits))


class Workspaces:
    """Workspaces: create, list, get, update, delete; and their integrations."""

    def __init__(self, client: SyncSender) -> None:
        self._client = client

    def create(self, *, name: str, slug: str) -> WorkspaceEnvelope:
        """Create a workspace; ``slug`` is lowercase ``[a-z0-9][a-z0-9-]*`` and unique."""
        return self._client._send(create_request(name, slug))

    def list(self, *, limit: int | None = None, offset: int | None = None) -> WorkspaceList:
        """One page of workspaces (server default 50, max 100) and the ``total``."""
        return self._client._send(list_request(limit, offset))

    def get(self, workspace_id: str) -> WorkspaceEnvelope:
        """One workspace by id."""
        return self._client._send(get_request(workspace_id))

    def usage(self, workspace_id: str) -> dict[str, Any]:
        """Live usage: ``{"usage": {"bytes", "files", "keys", "items", "endUsers"}}``."""
        return self._client._send(usage_request(workspace_id))

    def get_limits(self, workspace_id: str) -> dict[str, Any]:
        """The limits that apply (``{"limits": {...}}``; needs an organisation-wide key)."""
        return self._client._send(get_limits_request(workspace_id))

    def set_limits(self, workspace_id: str, limits: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the workspace's own limits, given as the API's camelCase object
        (``{"maxBytes": 2**30, "perEndUser": {"maxKeys": 100}, "requestsPerSecond": 50}``);
        a field left out falls back to the server default."""
        return self._client._send(set_limits_request(workspace_id, limits))

    def update(
        self, workspace_id: str, *, name: str | None = None, slug: str | None = None
    ) -> WorkspaceEnvelope:
        """Rename a workspace or change its slug."""
        return self._client._send(update_request(workspace_id, name, slug))

    def delete(self, workspace_id: str) -> Deleted:
        """Delete a workspace with all its integrations, files and keys."""
        return self._client._send(delete_request(workspace_id))

    def add_integration(
        self,
        workspace_id: str,
        *,
        integration_name: str,
        alias: str | None = None,
        display_name: str | None = None,
        enabled_actions: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        sort_order: int | None = None,
        connection_strategy: str | None = None,
        connection_id: str | None = None,
        auth_method_key: str | None = None,
        oauth_app_mode: str | None = None,
        oauth_app_id: str | None = None,
        integration_alias: str | None = None,
    ) -> WorkspaceIntegrationEnvelope:
        """Add an integration under ``alias`` (default: its name).

        ``settings={"persistence": {"scope": "workspace"}}`` decides whose data its actions
        see. ``integration_alias`` is accepted as another spelling of ``alias``.
        """
        fields = integration_fields(
            alias, integration_alias, display_name, enabled_actions, settings, sort_order,
            connection_strategy, connection_id, auth_method_key, oauth_app_mode, oauth_app_id,
        )  # fmt: skip
        return self._client._send(add_integration_request(workspace_id, integration_name, fields))

    def list_integrations(self, workspace_id: str) -> WorkspaceIntegrationList:
        """The integrations configured in a workspace."""
        return self._client._send(list_integrations_request(workspace_id))

    def get_integration(
        self, workspace_id: str, integration_id: str
    ) -> WorkspaceIntegrationEnvelope:
        """One workspace integration by id."""
        return self._client._send(get_integration_request(workspace_id, integration_id))

    def update_integration(
        self,
        workspace_id: str,
        integration_id: str,
        *,
        alias: str | None = None,
        display_name: str | None = None,
        enabled_actions: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        sort_order: int | None = None,
        connection_strategy: str | None = None,
        connection_id: str | None = None,
        auth_method_key: str | None = None,
        oauth_app_mode: str | None = None,
        oauth_app_id: str | None = None,
        integration_alias: str | None = None,
    ) -> WorkspaceIntegrationEnvelope:
        """Change the given fields of a workspace integration (not its integration name)."""
        fields = integration_fields(
            alias, integration_alias, display_name, enabled_actions, settings, sort_order,
            connection_strategy, connection_id, auth_method_key, oauth_app_mode, oauth_app_id,
        )  # fmt: skip
        return self._client._send(update_integration_request(workspace_id, integration_id, fields))

    def remove_integration(self, workspace_id: str, integration_id: str) -> Deleted:
        """Remove a workspace integration; the data in its scope stays."""
        return self._client._send(remove_integration_request(workspace_id, integration_id))


class AsyncWorkspaces:
    """Workspaces: create, list, get, update, delete; and their integrations."""

    def __init__(self, client: AsyncSender) -> None:
        self._client = client

    async def create(self, *, name: str, slug: str) -> WorkspaceEnvelope:
        """Create a workspace; ``slug`` is lowercase ``[a-z0-9][a-z0-9-]*`` and unique."""
        return await self._client._send(create_request(name, slug))

    async def list(self, *, limit: int | None = None, offset: int | None = None) -> WorkspaceList:
        """One page of workspaces (server default 50, max 100) and the ``total``."""
        return await self._client._send(list_request(limit, offset))

    async def get(self, workspace_id: str) -> WorkspaceEnvelope:
        """One workspace by id."""
        return await self._client._send(get_request(workspace_id))

    async def usage(self, workspace_id: str) -> dict[str, Any]:
        """Live usage: ``{"usage": {"bytes", "files", "keys", "items", "endUsers"}}``."""
        return await self._client._send(usage_request(workspace_id))

    async def get_limits(self, workspace_id: str) -> dict[str, Any]:
        """The limits that apply (``{"limits": {...}}``; needs an organisation-wide key)."""
        return await self._client._send(get_limits_request(workspace_id))

    async def set_limits(self, workspace_id: str, limits: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the workspace's own limits, given as the API's camelCase object
        (``{"maxBytes": 2**30, "perEndUser": {"maxKeys": 100}, "requestsPerSecond": 50}``);
        a field left out falls back to the server default."""
        return await self._client._send(set_limits_request(workspace_id, limits))

    async def update(
        self, workspace_id: str, *, name: str | None = None, slug: str | None = None
    ) -> WorkspaceEnvelope:
        """Rename a workspace or change its slug."""
        return await self._client._send(update_request(workspace_id, name, slug))

    async def delete(self, workspace_id: str) -> Deleted:
        """Delete a workspace with all its integrations, files and keys."""
        return await self._client._send(delete_request(workspace_id))

    async def add_integration(
        self,
        workspace_id: str,
        *,
        integration_name: str,
        alias: str | None = None,
        display_name: str | None = None,
        enabled_actions: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        sort_order: int | None = None,
        connection_strategy: str | None = None,
        connection_id: str | None = None,
        auth_method_key: str | None = None,
        oauth_app_mode: str | None = None,
        oauth_app_id: str | None = None,
        integration_alias: str | None = None,
    ) -> WorkspaceIntegrationEnvelope:
        """Add an integration under ``alias`` (default: its name); see ``Workspaces``."""
        fields = integration_fields(
            alias, integration_alias, display_name, enabled_actions, settings, sort_order,
            connection_strategy, connection_id, auth_method_key, oauth_app_mode, oauth_app_id,
        )  # fmt: skip
        return await self._client._send(
            add_integration_request(workspace_id, integration_name, fields)
        )

    async def list_integrations(self, workspace_id: str) -> WorkspaceIntegrationList:
        """The integrations configured in a workspace."""
        return await self._client._send(list_integrations_request(workspace_id))

    async def get_integration(
        self, workspace_id: str, integration_id: str
    ) -> WorkspaceIntegrationEnvelope:
        """One workspace integration by id."""
        return await self._client._send(get_integration_request(workspace_id, integration_id))

    async def update_integration(
        self,
        workspace_id: str,
        integration_id: str,
        *,
        alias: str | None = None,
        display_name: str | None = None,
        enabled_actions: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        sort_order: int | None = None,
        connection_strategy: str | None = None,
        connection_id: str | None = None,
        auth_method_key: str | None = None,
        oauth_app_mode: str | None = None,
        oauth_app_id: str | None = None,
        integration_alias: str | None = None,
    ) -> WorkspaceIntegrationEnvelope:
        """Change the given fields of a workspace integration (not its integration name)."""
        fields = integration_fields(
            alias, integration_alias, display_name, enabled_actions, settings, sort_order,
            connection_strategy, connection_id, auth_method_key, oauth_app_mode, oauth_app_id,
        )  # fmt: skip
        return await self._client._send(
            update_integration_request(workspace_id, integration_id, fields)
        )

    async def remove_integration(self, workspace_id: str, integration_id: str) -> Deleted:
        """Remove a workspace integration; the data in its scope stays."""
        return await self._client._send(remove_integration_request(workspace_id, integration_id))
