"""``client.kv(workspace_id)``: JSON values and lists by key, without spelling out actions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact
from cubby_client._target import Target
from cubby_client._types import KeyInfo, KVEntry

__all__ = ["KV", "AsyncKV"]

D = TypeVar("D")


def get_request(target: Target, key: str, default: D) -> APIRequest[Any | D]:
    def value(output: Any) -> Any:
        found = output["value"]
        return default if found is None else found

    return target.action("get", {"key": key}).then(value)


def entry_request(target: Target, key: str) -> APIRequest[KVEntry]:
    return target.action("get", {"key": key})


def put_request(
    target: Target,
    key: str,
    value: Any,
    expires_in: int | None = None,
    if_version: int | None = None,
) -> APIRequest[int]:
    body = {"key": key, "value": value}
    body.update(compact({"expiresInSeconds": expires_in, "ifVersion": if_version}))
    return target.action("put", body).then(lambda output: int(output["version"]))


def delete_request(target: Target, key: str) -> APIRequest[bool]:
    return target.action("delete", {"key": key}).then(lambda output: bool(output["deleted"]))


def append_request(
    target: Target, key: str, value: Any, expires_in: int | None = None
) -> APIRequest[int]:
    body = {"key": key, "value": value}
    body.update(compact({"expiresInSeconds": expires_in}))
    return target.action("add_to_list", body).then(lambda output: int(output["length"]))


def remove_request(target: Target, key: str, value: Any) -> APIRequest[int]:
    call = target.action("remove_from_list", {"key": key, "value": value})
    return call.then(lambda output: int(output["removed"]))


def increment_request(target: Target, key: str, by: int | float) -> APIRequest[int | float]:
    call = target.action("increment", {"key": key, "by": by})
    return call.then(lambda output: output["value"])


Page = tuple[list[KeyInfo], str | None]


def keys_page_request(
    target: Target, prefix: str, cursor: str | None, page_size: int | None
) -> APIRequest[Page]:
    body = compact({"prefix": prefix or None, "cursor": cursor, "limit": page_size})
    return target.action("list_keys", body).then(
        lambda output: (list(output["keys"]), output.get("nextCursor") or None)
    )


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

    def entry(self, key: str) -> KVEntry:
        """``{key, value, version, expiresAt}`` of ``key`` (``version`` 0 when missing), for a
        read-modify-write with ``put(..., if_version=entry["version"])``."""
        return self._client._send(entry_request(self._target, key))

    def put(
        self,
        key: str,
        value: Any,
        *,
        expires_in: int | None = None,
        if_version: int | None = None,
    ) -> int:
        """Set ``key`` to ``value`` (any JSON); returns the key's new version.

        ``expires_in`` (seconds, 1 to ten years) makes the key expire (without it a put
        clears any expiry). ``if_version`` writes only if the key is at that version (0: only
        if it does not exist), else ``BadRequestError`` with ``.reason == "CONFLICT"`` and
        ``details["currentVersion"]``; nothing is written."""
        return self._client._send(put_request(self._target, key, value, expires_in, if_version))

    def delete(self, key: str) -> bool:
        """Delete ``key``; False if it did not exist."""
        return self._client._send(delete_request(self._target, key))

    def append(self, key: str, value: Any, *, expires_in: int | None = None) -> int:
        """Append to the list at ``key`` (created if missing); returns the new length.
        ``expires_in`` (seconds) sets the list's expiry, else it keeps the one it has."""
        return self._client._send(append_request(self._target, key, value, expires_in))

    def remove(self, key: str, value: Any) -> int:
        """Remove every element equal to ``value`` from the list; returns how many went."""
        return self._client._send(remove_request(self._target, key, value))

    def increment(self, key: str, by: int | float = 1) -> int | float:
        """Add ``by`` to the number at ``key`` atomically (a missing key counts as 0); returns
        the new value. A key holding anything else: ``.reason == "NOT_A_NUMBER"``."""
        return self._client._send(increment_request(self._target, key, by))

    def keys(self, prefix: str = "", *, page_size: int | None = None) -> Iterator[KeyInfo]:
        """Every key starting with ``prefix``, in order, fetching pages as you iterate."""
        cursor: str | None = None
        while True:
            page, cursor = self._client._send(
                keys_page_request(self._target, prefix, cursor, page_size)
            )
            yield from page
            if cursor is None:
                return


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

    async def entry(self, key: str) -> KVEntry:
        """``{key, value, version, expiresAt}`` of ``key`` (see ``KV.entry``)."""
        return await self._client._send(entry_request(self._target, key))

    async def put(
        self,
        key: str,
        value: Any,
        *,
        expires_in: int | None = None,
        if_version: int | None = None,
    ) -> int:
        """Set ``key`` to ``value``; returns the new version (options as for ``KV.put``)."""
        return await self._client._send(
            put_request(self._target, key, value, expires_in, if_version)
        )

    async def delete(self, key: str) -> bool:
        """Delete ``key``; False if it did not exist."""
        return await self._client._send(delete_request(self._target, key))

    async def append(self, key: str, value: Any, *, expires_in: int | None = None) -> int:
        """Append to the list at ``key`` (created if missing); returns the new length."""
        return await self._client._send(append_request(self._target, key, value, expires_in))

    async def remove(self, key: str, value: Any) -> int:
        """Remove every element equal to ``value`` from the list; returns how many went."""
        return await self._client._send(remove_request(self._target, key, value))

    async def increment(self, key: str, by: int | float = 1) -> int | float:
        """Add ``by`` to the number at ``key`` atomically; returns the new value."""
        return await self._client._send(increment_request(self._target, key, by))

    async def keys(
        self, prefix: str = "", *, page_size: int | None = None
    ) -> AsyncIterator[KeyInfo]:
        """Every key starting with ``prefix``, in order (``async for``), page by page."""
        cursor: str | None = None
        while True:
            page, cursor = await self._client._send(
                keys_page_request(self._target, prefix, cursor, page_size)
            )
            for info in page:
                yield info
            if cursor is None:
                return
