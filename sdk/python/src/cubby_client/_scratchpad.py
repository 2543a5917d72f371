"""``client.scratchpad(workspace_id)``: agent-scratchpad's named text pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact
from cubby_client._target import Target
from cubby_client._types import PageContent, PageHit, PageInfo

__all__ = ["AsyncScratchpad", "Scratchpad"]

Listed = tuple[list[PageInfo], str | None]


def read_request(target: Target, name: str) -> APIRequest[PageContent]:
    return target.action("read_page", {"pageName": name})


def write_request(target: Target, action: str, name: str, content: str) -> APIRequest[PageInfo]:
    return target.action(action, {"pageName": name, "content": content})


def list_request(
    target: Target, prefix: str, cursor: str | None, page_size: int | None
) -> APIRequest[Listed]:
    body = compact({"prefix": prefix or None, "cursor": cursor, "limit": page_size})
    return target.action("list_pages", body).then(
        lambda output: (list(output["pages"]), output.get("nextCursor") or None)
    )


def search_request(target: Target, query: str, limit: int | None) -> APIRequest[list[PageHit]]:
    body = {"query": query, **compact({"limit": limit})}
    return target.action("search_pages", body).then(lambda output: list(output["results"]))


def delete_request(target: Target, name: str) -> APIRequest[bool]:
    call = target.action("delete_page", {"pageName": name})
    return call.then(lambda output: bool(output["deleted"]))


def clear_request(target: Target) -> APIRequest[int]:
    return target.action("clear_all", {}).then(lambda output: int(output["deleted"]))


class Scratchpad:
    """Pages of one agent-scratchpad integration of one workspace (see ``Cubby.scratchpad``).

    A missing page reads as ``BadRequestError`` with ``.reason == "PAGE_NOT_FOUND"``; a page
    over the server's limit (1 MiB by default) is a ``PayloadTooLargeError``."""

    def __init__(self, client: SyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"Scratchpad({self._target.describe()})"

    def read(self, name: str) -> str:
        """The page's text."""
        return self._client._send(read_request(self._target, name))["content"]

    def page(self, name: str) -> PageContent:
        """The page with its content, size and times."""
        return self._client._send(read_request(self._target, name))

    def write(self, name: str, content: str) -> PageInfo:
        """Create or replace the page; returns ``{pageName, size, createdAt, updatedAt}``."""
        return self._client._send(write_request(self._target, "write_page", name, content))

    def append(self, name: str, content: str) -> PageInfo:
        """Append to the page (created if missing); concurrent appends all land, each whole."""
        return self._client._send(write_request(self._target, "append_page", name, content))

    def pages(self, prefix: str = "", *, page_size: int | None = None) -> Iterator[PageInfo]:
        """Every page whose name starts with ``prefix``, by name, page by page."""
        cursor: str | None = None
        while True:
            found, cursor = self._client._send(
                list_request(self._target, prefix, cursor, page_size)
            )
            yield from found
            if cursor is None:
                return

    def search(self, query: str, *, limit: int | None = None) -> list[PageHit]:
        """Pages matching every word of ``query``, best first, with a snippet each."""
        return self._client._send(search_request(self._target, query, limit))

    def delete(self, name: str) -> bool:
        """Delete the page; False if it did not exist."""
        return self._client._send(delete_request(self._target, name))

    def clear(self) -> int:
        """Delete every page of this scratchpad; returns how many went."""
        return self._client._send(clear_request(self._target))


class AsyncScratchpad:
    """Pages of one agent-scratchpad integration (see ``AsyncCubby.scratchpad``)."""

    def __init__(self, client: AsyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncScratchpad({self._target.describe()})"

    async def read(self, name: str) -> str:
        """The page's text."""
        return (await self._client._send(read_request(self._target, name)))["content"]

    async def page(self, name: str) -> PageContent:
        """The page with its content, size and times."""
        return await self._client._send(read_request(self._target, name))

    async def write(self, name: str, content: str) -> PageInfo:
        """Create or replace the page."""
        return await self._client._send(write_request(self._target, "write_page", name, content))

    async def append(self, name: str, content: str) -> PageInfo:
        """Append to the page (created if missing)."""
        return await self._client._send(write_request(self._target, "append_page", name, content))

    async def pages(
        self, prefix: str = "", *, page_size: int | None = None
    ) -> AsyncIterator[PageInfo]:
        """Every page whose name starts with ``prefix`` (``async for``), page by page."""
        cursor: str | None = None
        while True:
            found, cursor = await self._client._send(
                list_request(self._target, prefix, cursor, page_size)
            )
            for info in found:
                yield info
            if cursor is None:
                return

    async def search(self, query: str, *, limit: int | None = None) -> list[PageHit]:
        """Pages matching every word of ``query``, best first."""
        return await self._client._send(search_request(self._target, query, limit))

    async def delete(self, name: str) -> bool:
        """Delete the page; False if it did not exist."""
        return await self._client._send(delete_request(self._target, name))

    async def clear(self) -> int:
        """Delete every page of this scratchpad; returns how many went."""
        return await self._client._send(clear_request(self._target))
