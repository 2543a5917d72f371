"""``client.api_keys``: create, list and revoke API keys (needs an organisation-wide key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact, segment
from cubby_client._types import ApiKeyCreated, ApiKeyList, Deleted

__all__ = ["ApiKeys", "AsyncApiKeys"]

_ROOT = "/api/v1/api-keys"


def permissions_body(
    permissions: Mapping[str, Any] | None, workspace_ids: Sequence[str] | None
) -> dict[str, Any] | None:
    """``permissions`` as sent: given as-is, or built from ``workspace_ids``."""
    if permissions is not None and workspace_ids is not None:
        raise ValueError("pass permissions or workspace_ids, not both")
    if workspace_ids is not None:
        return {"scope": "workspace", "workspaceIds": list(workspace_ids)}
    return dict(permissions) if permissions is not None else None


def create_request(
    name: str, expires_at: str | None, permissions: dict[str, Any] | None
) -> APIRequest[ApiKeyCreated]:
    body = compact({"name": name, "expiresAt": expires_at, "permissions": permissions})
    return APIRequest("POST", _ROOT, json=body)


def list_request() -> APIRequest[ApiKeyList]:
    return APIRequest("GET", _ROOT)


def delete_request(key_id: str) -> APIRequest[Deleted]:
    return APIRequest("DELETE", f"{_ROOT}/{segment(key_id)}")


class ApiKeys:
    """API keys. The plain key is returned once, by ``create`` (``["plainKey"]``)."""

    def __init__(self, client: SyncSender) -> None:
        self._client = client

    def create(
        self,
        *,
        name: str,
        expires_at: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ApiKeyCreated:
        """Create a key; ``workspace_ids`` (or ``permissions``) restricts it to workspaces."""
        body = permissions_body(permissions, workspace_ids)
        return self._client._send(create_request(name, expires_at, body))

    def list(self) -> ApiKeyList:
        """Active keys (never their secret part)."""
        return self._client._send(list_request())

    def delete(self, key_id: str) -> Deleted:
        """Revoke a key by id."""
        return self._client._send(delete_request(key_id))


class AsyncApiKeys:
    """API keys. The plain key is returned once, by ``create`` (``["plainKey"]``)."""

    def __init__(self, client: AsyncSender) -> None:
        self._client = client

    async def create(
        self,
        *,
        name: str,
        expires_at: str | None = None,
        permissions: Mapping[str, Any] | None = None,
        workspace_ids: Sequence[str] | None = None,
    ) -> ApiKeyCreated:
        """Create a key; ``workspace_ids`` (or ``permissions``) restricts it to workspaces."""
        body = permissions_body(permissions, workspace_ids)
        return await self._client._send(create_request(name, expires_at, body))

    async def list(self) -> ApiKeyList:
        """Active keys (never their secret part)."""
        return await self._client._send(list_request())

    async def delete(self, key_id: str) -> Deleted:
        """Revoke a key by id."""
        return await self._client._send(delete_request(key_id))
