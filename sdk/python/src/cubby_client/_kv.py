"""``client.kv(workspace_id)``: JSON values and lists by key, without spelling out actions."""

from __future__ import annotations

from typing import Any, TypeVar

from cubby_client._request import APIRequest, AsyncSender, SyncSender
from cubby_client._target import Target

__all__ = ["KV", "AsyncKV"]

D = TypeVar("D")


def get_request(target: Target, key: str, default: D) -> APIRequest[Any | D]:
    def value(output: Any) -> Any:
        found = output["value"]
        return default if found is None else found

    return target.action("get", {"key": key}).then(value)


def put_request(target: Target, key: str, value: Any) -> APIRequest[None]:
    return target.action("put", {"key": key, "value": value}).then(lambda _: None)


def delete_request(target: Target, key: str) -> APIRequest[bool]:
    return target.action("delete", {"key": key}).then(lambda output: bool(output["deleted"]))


def append_request(target: Target, key: str, value: Any) -> APIRequest[int]:
    call = target.action("add_to_list", {"key": key, "value": value})
    return call.then(lambda output: int(output["length"]))


def remove_request(target: Target, key: str, value: Any) -> APIRequest[int]:
    call = target.action("remove_from_list", {"key": key, "value": value})
    return call.then(lambda output: int(output["removed"]))


class KV:
    """Keys in one kv-store integration of one workspace (see ``Cubby.kv``).

    Values are any JSON. A missing key reads as ``default`` (the API cannot tell a missing key
    from one holding ``null``).
    """

    def __init__(self, client: SyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"KV({self._target.describe()})"

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` when there is none."""
        return self._client._send(get_request(self._target, key, default))

    def put(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` (any JSON)."""
        self._client._send(put_request(self._target, key, value))

    def delete(self, key: str) -> bool:
        """Delete ``key``; False if it did not exist."""
        return self._client._send(delete_request(self._target, key))

    def append(self, key: str, value: Any) -> int:
        """Append to the list at ``key`` (created if missing); returns the new length."""
        return self._client._send(append_request(self._target, key, value))

    def remove(self, key: str, value: Any) -> int:
        """Remove every element equal to ``value`` from the list; returns how many went."""
        return self._client._send(remove_request(self._target, key, value))


class AsyncKV:
    """Keys in one kv-store integration of one workspace (see ``AsyncCubby.kv``)."""

    def __init__(self, client: AsyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncKV({self._target.describe()})"

    async def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``, or ``default`` when there is none."""
        return await self._client._send(get_request(self._target, key, default))

    async def put(self, key: str, value: Any) -> None:
        """Set ``key`` to ``value`` (any JSON)."""
        await self._client._send(put_request(self._target, key, value))

    async def delete(self, key: str) -> bool:
        """Delete ``key``; False if it did not exist."""
        return await self._client._send(delete_request(self._target, key))

    async def append(self, key: str, value: Any) -> int:
        """Append to the list at ``key`` (created if missing); returns the new length."""
        return await self._client._send(append_request(self._target, key, value))

    async def remove(self, key: str, value: Any) -> int:
        """Remove every element equal to ``value`` from the list; returns how many went."""
        return await self._client._send(remove_request(self._target, key, value))
