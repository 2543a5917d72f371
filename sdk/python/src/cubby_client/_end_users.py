"""``client.end_users``: the end users of a workspace, what each stores, and erasing it.

The method names are the Weavz client's (``create``, ``list``, ``get``, ``update``, ``delete``);
``usage`` and ``erase`` are cubby's. ``externalId`` is the ``end_user_id`` that data calls take.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact, segment
from cubby_client._types import (
    EndUserDataErased,
    EndUserDeleted,
    EndUserEnvelope,
    EndUserList,
    EndUserUsage,
)

__all__ = ["AsyncEndUsers", "EndUsers"]

_ROOT = "/api/v1/end-users"


def _one(end_user_id: str) -> str:
    return f"{_ROOT}/{segment(end_user_id)}"


def _profile(
    display_name: str | None, email: str | None, metadata: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The fields create and update share (None: not sent)."""
    return {
        "displayName": display_name,
        "email": email,
        "metadata": dict(metadata) if metadata is not None else None,
    }


def create_request(
    workspace_id: str,
    external_id: str,
    display_name: str | None,
    email: str | None,
    metadata: Mapping[str, Any] | None,
) -> APIRequest[EndUserEnvelope]:
    body = compact({
        "workspaceId": workspace_id,
        "externalId": external_id,
        **_profile(display_name, email, metadata),
    })  # fmt: skip
    return APIRequest("POST", _ROOT, json=body)


def list_request(
    workspace_id: str, limit: int | None, offset: int | None
) -> APIRequest[EndUserList]:
    params = compact({"workspaceId": workspace_id, "limit": limit, "offset": offset})
    return APIRequest("GET", _ROOT, params=params)


def get_request(end_user_id: str) -> APIRequest[EndUserEnvelope]:
    return APIRequest("GET", _one(end_user_id))


def update_request(
    end_user_id: str,
    display_name: str | None,
    email: str | None,
    metadata: Mapping[str, Any] | None,
) -> APIRequest[EndUserEnvelope]:
    body = compact(_profile(display_name, email, metadata))
    return APIRequest("PATCH", _one(end_user_id), json=body)


def delete_request(end_user_id: str, erase_data: bool) -> APIRequest[EndUserDeleted]:
    params = {"eraseData": "true"} if erase_data else None
    return APIRequest("DELETE", _one(end_user_id), params=params)


def erase_request(workspace_id: str, end_user_id: str) -> APIRequest[EndUserDataErased]:
    path = f"/api/v1/workspaces/{segment(workspace_id)}/erase-end-user-data"
    return APIRequest("POST", path, json={"endUserId": end_user_id})


def usage_request(end_user_id: str) -> APIRequest[EndUserUsage]:
    return APIRequest("GET", f"{_one(end_user_id)}/usage")


class EndUsers:
    """End users of a workspace. Registering one is optional: data calls take any
    ``end_user_id``; a record adds a name, an email and metadata, and usage by record id."""

    def __init__(self, client: SyncSender) -> None:
        self._client = client

    def create(
        self,
        *,
        workspace_id: str,
        external_id: str,
        display_name: str | None = None,
        email: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> EndUserEnvelope:
        """Register an end user; ``external_id`` is unique per workspace (409 otherwise)."""
        return self._client._send(
            create_request(workspace_id, external_id, display_name, email, metadata)
        )

    def list(
        self, workspace_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> EndUserList:
        """One page of a workspace's end users (server default 50, max 100) and the total."""
        return self._client._send(list_request(workspace_id, limit, offset))

    def get(self, end_user_id: str) -> EndUserEnvelope:
        """One end user by its record id."""
        return self._client._send(get_request(end_user_id))

    def update(
        self,
        end_user_id: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> EndUserEnvelope:
        """Change the given fields (``metadata`` replaces the whole object)."""
        return self._client._send(update_request(end_user_id, display_name, email, metadata))

    def delete(self, end_user_id: str, *, erase_data: bool = False) -> EndUserDeleted:
        """Delete the record; with ``erase_data=True`` also every key and file of this end
        user in the workspace (the answer's ``erased`` says how many)."""
        return self._client._send(delete_request(end_user_id, erase_data))

    def erase(self, workspace_id: str, end_user_id: str) -> EndUserDataErased:
        """Erase every key and file of ``end_user_id`` (the data calls' id, registered or not)
        in a workspace: one call for a deletion request."""
        return self._client._send(erase_request(workspace_id, end_user_id))

    def usage(self, end_user_id: str) -> EndUserUsage:
        """Keys, files and file bytes a registered end user stores (by record id)."""
        return self._client._send(usage_request(end_user_id))


class AsyncEndUsers:
    """End users of a workspace; see :class:`EndUsers`."""

    def __init__(self, client: AsyncSender) -> None:
        self._client = client

    async def create(
        self,
        *,
        workspace_id: str,
        external_id: str,
        display_name: str | None = None,
        email: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> EndUserEnvelope:
        """Register an end user; ``external_id`` is unique per workspace (409 otherwise)."""
        return await self._client._send(
            create_request(workspace_id, external_id, display_name, email, metadata)
        )

    async def list(
        self, workspace_id: str, *, limit: int | None = None, offset: int | None = None
    ) -> EndUserList:
        """One page of a workspace's end users (server default 50, max 100) and the total."""
        return await self._client._send(list_request(workspace_id, limit, offset))

    async def get(self, end_user_id: str) -> EndUserEnvelope:
        """One end user by its record id."""
        return await self._client._send(get_request(end_user_id))

    async def update(
        self,
        end_user_id: str,
        *,
        display_name: str | None = None,
        email: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> EndUserEnvelope:
        """Change the given fields (``metadata`` replaces the whole object)."""
        return await self._client._send(
            update_request(end_user_id, display_name, email, metadata)
        )

    async def delete(self, end_user_id: str, *, erase_data: bool = False) -> EndUserDeleted:
        """Delete the record; with ``erase_data=True`` also all of this end user's data."""
        return await self._client._send(delete_request(end_user_id, erase_data))

    async def erase(self, workspace_id: str, end_user_id: str) -> EndUserDataErased:
        """Erase every key and file of ``end_user_id`` (registered or not) in a workspace."""
        return await self._client._send(erase_request(workspace_id, end_user_id))

    async def usage(self, end_user_id: str) -> EndUserUsage:
        """Keys, files and file bytes a registered end user stores (by record id)."""
        return await self._client._send(usage_request(end_user_id))
