"""``client.integrations``: the catalog of integrations, their actions and each action's props."""

from __future__ import annotations

from cubby_client._request import APIRequest, AsyncSender, SyncSender
from cubby_client._types import IntegrationCatalog, IntegrationEnvelope, IntegrationSummaryList

__all__ = ["AsyncIntegrations", "Integrations"]

_ROOT = "/api/v1/integrations"


def list_request() -> APIRequest[IntegrationCatalog]:
    return APIRequest("GET", _ROOT)


def summary_request() -> APIRequest[IntegrationSummaryList]:
    return APIRequest("GET", _ROOT, params={"summary": "true"})


def get_request(name: str) -> APIRequest[IntegrationEnvelope]:
    return APIRequest("GET", _ROOT, params={"name": name})


class Integrations:
    """The integration catalog (``storage``, ``kv-store``, ...)."""

    def __init__(self, client: SyncSender) -> None:
        self._client = client

    def list(self) -> IntegrationCatalog:
        """Every integration with its actions."""
        return self._client._send(list_request())

    def list_summary(self) -> IntegrationSummaryList:
        """Every integration in brief: name, logo, categories and counts of actions."""
        return self._client._send(summary_request())

    def get(self, name: str) -> IntegrationEnvelope:
        """One integration by name (``NotFoundError`` if unknown)."""
        return self._client._send(get_request(name))


class AsyncIntegrations:
    """The integration catalog (``storage``, ``kv-store``, ...)."""

    def __init__(self, client: AsyncSender) -> None:
        self._client = client

    async def list(self) -> IntegrationCatalog:
        """Every integration with its actions."""
        return await self._client._send(list_request())

    async def list_summary(self) -> IntegrationSummaryList:
        """Every integration in brief: name, logo, categories and counts of actions."""
        return await self._client._send(summary_request())

    async def get(self, name: str) -> IntegrationEnvelope:
        """One integration by name (``NotFoundError`` if unknown)."""
        return await self._client._send(get_request(name))
