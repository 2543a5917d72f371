"""``client.storage(workspace_id)``: files by path, without spelling out action calls.

Text goes over the wire as UTF-8 and bytes as base64, so ``write`` takes either and ``read``
always returns exactly the bytes that were written.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact
from cubby_client._target import Target
from cubby_client._types import FileInfo, FileMoved

__all__ = ["AsyncStorage", "Storage"]

Page = tuple[list[FileInfo], str | None]


def write_request(
    target: Target,
    path: str,
    content: str | bytes,
    content_type: str | None,
    expires_in: int | None = None,
    if_match: str | None = None,
    if_none_match: bool = False,
) -> APIRequest[FileInfo]:
    if isinstance(content, str):
        body: dict[str, Any] = {"path": path, "content": content}
    elif isinstance(content, bytes | bytearray | memoryview):
        encoded = base64.b64encode(bytes(content)).decode("ascii")
        body = {"path": path, "content": encoded, "contentEncoding": "base64"}
    else:
        raise TypeError(f"content must be str or bytes, not {type(content).__name__}")
    extra = {
        "contentType": content_type,
        "expiresInSeconds": expires_in,
        "ifMatch": if_match,
        "ifNoneMatch": "*" if if_none_match else None,
    }
    return target.action("write_file", compact({**body, **extra}))


def _content_bytes(output: Any) -> bytes:
    content = output["content"]
    if output.get("encoding") == "utf8":
        return str(content).encode("utf-8")
    return base64.b64decode(content)


def read_request(target: Target, path: str) -> APIRequest[bytes]:
    return target.action("read_file", {"path": path, "outputEncoding": "base64"}).then(
        _content_bytes
    )


def read_text_request(target: Target, path: str, encoding: str) -> APIRequest[str]:
    if encoding.lower().replace("-", "").replace("_", "") == "utf8":
        call = target.action("read_file", {"path": path, "outputEncoding": "utf8"})
        return call.then(lambda output: str(output["content"]))
    return read_request(target, path).then(lambda data: data.decode(encoding))


def list_page_request(
    target: Target, prefix: str, cursor: str | None, page_size: int | None
) -> APIRequest[Page]:
    body = compact({"prefix": prefix or None, "cursor": cursor, "limit": page_size})
    return target.action("list_files", body).then(
        lambda output: (list(output["files"]), output.get("nextCursor") or None)
    )


def delete_request(target: Target, path: str, if_match: str | None = None) -> APIRequest[bool]:
    body = compact({"path": path, "ifMatch": if_match})
    return target.action("delete_file", body).then(lambda o: bool(o["deleted"]))


def move_request(target: Target, src: str, dst: str, overwrite: bool) -> APIRequest[FileMoved]:
    body: dict[str, Any] = {"from": src, "to": dst}
    if overwrite:
        body["overwrite"] = True
    return target.action("move_file", body)


def delete_folder_request(target: Target, prefix: str) -> APIRequest[int]:
    call = target.action("delete_folder", {"prefix": prefix})
    return call.then(lambda output: int(output["deleted"]))


def download_url_request(target: Target, path: str, expires_in: int) -> APIRequest[str]:
    body = {"path": path, "expiresInSeconds": expires_in}
    return target.action("get_download_url", body).then(lambda output: str(output["url"]))


class Storage:
    """Files in one storage integration of one workspace (see ``Cubby.storage``)."""

    def __init__(self, client: SyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"Storage({self._target.describe()})"

    def write(
        self,
        path: str,
        content: str | bytes,
        content_type: str | None = None,
        *,
        expires_in: int | None = None,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Create or replace ``path``; returns its ``path, size, contentType, etag, updatedAt,
        expiresAt``. ``expires_in`` (seconds) makes it expire; ``if_match`` (an etag) or
        ``if_none_match`` make the write conditional (``BadRequestError`` with ``.reason ==
        "CONFLICT"`` when the file changed meanwhile; nothing is written)."""
        return self._client._send(
            write_request(
                self._target, path, content, content_type, expires_in, if_match, if_none_match
            )
        )

    def read(self, path: str) -> bytes:
        """The file's bytes (``BadRequestError`` with ``.reason == "FILE_NOT_FOUND"`` if none)."""
        return self._client._send(read_request(self._target, path))

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The file decoded as text."""
        return self._client._send(read_text_request(self._target, path, encoding))

    def list(self, prefix: str = "", *, page_size: int | None = None) -> Iterator[FileInfo]:
        """Every file under ``prefix``, sorted by path, fetching pages as you iterate."""
        cursor: str | None = None
        while True:
            files, cursor = self._client._send(
                list_page_request(self._target, prefix, cursor, page_size)
            )
            yield from files
            if cursor is None:
                return

    def delete(self, path: str, *, if_match: str | None = None) -> bool:
        """Delete ``path``; False if it did not exist (``if_match``: only that version)."""
        return self._client._send(delete_request(self._target, path, if_match))

    def move(self, src: str, dst: str, *, overwrite: bool = False) -> FileMoved:
        """Rename ``src`` to ``dst`` atomically (no copy). A file at ``dst`` is a ``CONFLICT``
        unless ``overwrite``; a missing ``src`` is ``FILE_NOT_FOUND``."""
        return self._client._send(move_request(self._target, src, dst, overwrite))

    def delete_folder(self, prefix: str) -> int:
        """Delete every file under ``prefix`` (which must end with '/'); returns how many."""
        return self._client._send(delete_folder_request(self._target, prefix))

    def download_url(self, path: str, expires_in: int = 900) -> str:
        """A URL that serves the file without an API key for ``expires_in`` (60..3600) s."""
        return self._client._send(download_url_request(self._target, path, expires_in))


class AsyncStorage:
    """Files in one storage integration of one workspace (see ``AsyncCubby.storage``)."""

    def __init__(self, client: AsyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncStorage({self._target.describe()})"

    async def write(
        self,
        path: str,
        content: str | bytes,
        content_type: str | None = None,
        *,
        expires_in: int | None = None,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> FileInfo:
        """Create or replace ``path`` (options as for ``Storage.write``)."""
        return await self._client._send(
            write_request(
                self._target, path, content, content_type, expires_in, if_match, if_none_match
            )
        )

    async def read(self, path: str) -> bytes:
        """The file's bytes (``BadRequestError`` with ``.reason == "FILE_NOT_FOUND"`` if none)."""
        return await self._client._send(read_request(self._target, path))

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The file decoded as text."""
        return await self._client._send(read_text_request(self._target, path, encoding))

    async def list(
        self, prefix: str = "", *, page_size: int | None = None
    ) -> AsyncIterator[FileInfo]:
        """Every file under ``prefix``, sorted by path (``async for``), page by page."""
        cursor: str | None = None
        while True:
            files, cursor = await self._client._send(
                list_page_request(self._target, prefix, cursor, page_size)
            )
            for info in files:
                yield info
            if cursor is None:
                return

    async def delete(self, path: str, *, if_match: str | None = None) -> bool:
        """Delete ``path``; False if it did not exist (``if_match``: only that version)."""
        return await self._client._send(delete_request(self._target, path, if_match))

    async def move(self, src: str, dst: str, *, overwrite: bool = False) -> FileMoved:
        """Rename ``src`` to ``dst`` atomically (see ``Storage.move``)."""
        return await self._client._send(move_request(self._target, src, dst, overwrite))

    async def delete_folder(self, prefix: str) -> int:
        """Delete every file under ``prefix`` (ending with '/'); returns how many."""
        return await self._client._send(delete_folder_request(self._target, prefix))

    async def download_url(self, path: str, expires_in: int = 900) -> str:
        """A URL that serves the file without an API key for ``expires_in`` (60..3600) s."""
        return await self._client._send(download_url_request(self._target, path, expires_in))
