"""``Cubby`` and ``AsyncCubby``: the entry points. They differ only in how a call is sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from cubby_client._actions import Actions, AsyncActions
from cubby_client._api_keys import ApiKeys, AsyncApiKeys
from cubby_client._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    BaseClient,
    NotGiven,
)
from cubby_client._end_users import AsyncEndUsers, EndUsers
from cubby_client._exceptions import transport_error
from cubby_client._integrations import AsyncIntegrations, Integrations
from cubby_client._kv import KV, AsyncKV
from cubby_client._memory import AsyncMemory, Memory
from cubby_client._request import APIRequest, compact
from cubby_client._scratchpad import AsyncScratchpad, Scratchpad
from cubby_client._storage import AsyncStorage, Storage
from cubby_client._target import Target
from cubby_client._thinking import AsyncThinking, Thinking
from cubby_client._workspaces import AsyncWorkspaces, Workspaces

__all__ = ["AsyncCubby", "Cubby"]

T = TypeVar("T")
SyncClientT = TypeVar("SyncClientT", bound="Cubby")
AsyncClientT = TypeVar("AsyncClientT", bound="AsyncCubby")


def _raw_request(
    method: str, path: str, json: Any, params: Mapping[str, str | int] | None
) -> APIRequest[Any]:
    if not path.startswith("/"):
        raise ValueError("path must start with '/', e.g. '/api/v1/workspaces'")
    return APIRequest(method.upper(), path, params=params, json=json)


class Cubby(BaseClient):
    """The synchronous client.

    ``api_key`` defaults to ``$CUBBY_API_KEY``, ``base_url`` to ``$CUBBY_BASE_URL`` (else
    ``http://127.0.0.1:8080``). ``timeout`` is in seconds (or an ``httpx.Timeout``; ``None``
    waits forever). ``max_retries`` bounds retries of 429s, and of 5xx and network errors on
    idempotent requests. Pass ``http_client`` to bring your own ``httpx.Client`` (proxies,
    transports, tests); the client then leaves closing it to you.
    """

    workspaces: Workspaces
    api_keys: ApiKeys
    integrations: Integrations
    actions: Actions
    end_users: EndUsers

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client()
        self._sleep: Callable[[float], None] = time.sleep
        self.workspaces = Workspaces(self)
        self.api_keys = ApiKeys(self)
        self.integrations = Integrations(self)
        self.actions = Actions(self)
        self.end_users = EndUsers(self)

    def storage(
        self, workspace_id: str, alias: str | None = "files", end_user_id: str | None = None
    ) -> Storage:
        """Files of the storage integration ``alias`` in a workspace (``None``: the only one)."""
        return Storage(self, Target("storage", workspace_id, alias, end_user_id))

    def kv(
        self, workspace_id: str, alias: str | None = "state", end_user_id: str | None = None
    ) -> KV:
        """Keys of the kv-store integration ``alias`` in a workspace (``None``: the only one)."""
        return KV(self, Target("kv-store", workspace_id, alias, end_user_id))

    def memory(
        self, workspace_id: str, alias: str | None = "memory", end_user_id: str | None = None
    ) -> Memory:
        """The knowledge graph of the agent-memory integration ``alias`` in a workspace."""
        return Memory(self, Target("agent-memory", workspace_id, alias, end_user_id))

    def scratchpad(
        self, workspace_id: str, alias: str | None = "scratchpad", end_user_id: str | None = None
    ) -> Scratchpad:
        """Pages of the agent-scratchpad integration ``alias`` in a workspace."""
        return Scratchpad(self, Target("agent-scratchpad", workspace_id, alias, end_user_id))

    def thinking(
        self, workspace_id: str, alias: str | None = "thinking", end_user_id: str | None = None
    ) -> Thinking:
        """Thought chains of the sequential-thinking integration ``alias`` in a workspace."""
        return Thinking(self, Target("sequential-thinking", workspace_id, alias, end_user_id))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """Call any route (``path`` like ``/api/v1/...``) with auth, retries and errors."""
        return self._send(_raw_request(method, path, json, compact(params or {})))

    def with_options(
        self: SyncClientT,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> SyncClientT:
        """A client like this one (sharing its connections) with other timeout/retries."""
        return type(self)(http_client=self._http, **self._options(timeout, max_retries))

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self: SyncClientT) -> SyncClientT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, req: APIRequest[T]) -> T:
        request = self._build(self._http, req)
        attempt = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._retry.after_error(request.method, exc, attempt, req.retry_safe)
                if delay is None:
                    raise transport_error(exc, request) from exc
            else:
                delay = self._retry.after_response(
                    request.method, response, attempt, req.retry_safe
                )
                if delay is None:
                    return self._finish(req, response)
                response.close()
            self._sleep(delay)
            attempt += 1


class AsyncCubby(BaseClient):
    """The asyncio client: ``Cubby`` with ``await`` (and ``async for`` over file listings).

    Takes the same options; ``http_client`` is an ``httpx.AsyncClient``.
    """

    workspaces: AsyncWorkspaces
    api_keys: AsyncApiKeys
    integrations: AsyncIntegrations
    actions: AsyncActions
    end_users: AsyncEndUsers

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        default_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
        )
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.AsyncClient()
        self._sleep: Callable[[float], Any] = asyncio.sleep
        self.workspaces = AsyncWorkspaces(self)
        self.api_keys = AsyncApiKeys(self)
        self.integrations = AsyncIntegrations(self)
        self.actions = AsyncActions(self)
        self.end_users = AsyncEndUsers(self)

    def storage(
        self, workspace_id: str, alias: str | None = "files", end_user_id: str | None = None
    ) -> AsyncStorage:
        """Files of the storage integration ``alias`` in a workspace (``None``: the only one)."""
        return AsyncStorage(self, Target("storage", workspace_id, alias, end_user_id))

    def kv(
        self, workspace_id: str, alias: str | None = "state", end_user_id: str | None = None
    ) -> AsyncKV:
        """Keys of the kv-store integration ``alias`` in a workspace (``None``: the only one)."""
        return AsyncKV(self, Target("kv-store", workspace_id, alias, end_user_id))

    def memory(
        self, workspace_id: str, alias: str | None = "memory", end_user_id: str | None = None
    ) -> AsyncMemory:
        """The knowledge graph of the agent-memory integration ``alias`` in a workspace."""
        return AsyncMemory(self, Target("agent-memory", workspace_id, alias, end_user_id))

    def scratchpad(
        self, workspace_id: str, alias: str | None = "scratchpad", end_user_id: str | None = None
    ) -> AsyncScratchpad:
        """Pages of the agent-scratchpad integration ``alias`` in a workspace."""
        return AsyncScratchpad(self, Target("agent-scratchpad", workspace_id, alias, end_user_id))

    def thinking(
        self, workspace_id: str, alias: str | None = "thinking", end_user_id: str | None = None
    ) -> AsyncThinking:
        """Thought chains of the sequential-thinking integration ``alias`` in a workspace."""
        return AsyncThinking(self, Target("sequential-thinking", workspace_id, alias, end_user_id))

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """Call any route (``path`` like ``/api/v1/...``) with auth, retries and errors."""
        return await self._send(_raw_request(method, path, json, compact(params or {})))

    def with_options(
        self: AsyncClientT,
        *,
        timeout: float | httpx.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncClientT:
        """A client like this one (sharing its connections) with other timeout/retries."""
        return type(self)(http_client=self._http, **self._options(timeout, max_retries))

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: AsyncClientT) -> AsyncClientT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _send(self, req: APIRequest[T]) -> T:
        request = self._build(self._http, req)
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._retry.after_error(request.method, exc, attempt, req.retry_safe)
                if delay is None:
                    raise transport_error(exc, request) from exc
            else:
                delay = self._retry.after_response(
                    request.method, response, attempt, req.retry_safe
                )
                if delay is None:
                    return self._finish(req, response)
                await response.aclose()
            await self._sleep(delay)
            attempt += 1
