"""File bodies in an object store through obstore: a local folder by default, S3 and friends
by URL. Keys are opaque (``<workspace>/<uuid>``): a user's path never reaches the store, so no
path trick can address a body outside its namespace.

Bodies are immutable: every write goes to a fresh key and a key is only ever deleted, never
rewritten. That is what lets the file index swap a file atomically (see :mod:`cubby.core.files`).

Every store call is obstore's *synchronous* API run on this store's own thread pool. Its
``*_async`` twins leave callbacks on obstore's runtime threads that intermittently abort the
interpreter at exit (SIGABRT, seen with obstore 0.12 on every store kind); a thread hop costs
microseconds next to a body transfer. The pool is sized for object stores, where each call
waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import LocalStore

from cubby import metrics
from cubby.backends.blob_hold import HoldCheck
from cubby.backends.config_error import BackendConfigError
from cubby.core.models import new_id
from cubby.private_files import private_dir

T = TypeVar("T")

STREAM_CHUNK_BYTES = 1024 * 1024
IO_THREADS = 32
_NOT_FOUND = (FileNotFoundError, NotFoundError)


class BlobNotFound(LookupError):
    """The key holds no body (never written, or deleted since its index row was read)."""


# An inclusive byte span (first, last), as in an HTTP Range header.
Span = tuple[int, int]


class BlobReader:
    """An opened body (or a span of it): ``size`` bytes, streamed in chunks on demand."""

    size: int

    def chunks(self) -> AsyncIterator[bytes]:
        raise NotImplementedError

    def local_file(self) -> tuple[BinaryIO, int] | None:
        """The open local file and the offset of the first byte to serve, for a zero-copy
        send; None when the body is not a local file. The caller then owns (closes) it."""
        return None


@dataclass
class _ObjectReader(BlobReader):
    size: int
    _chunks: Iterator[Any]
    _run: Callable[[Callable[[], Any]], Any]

    async def chunks(self) -> AsyncIterator[bytes]:
        chunks = self._chunks
        while (chunk := await self._run(lambda: next(chunks, None))) is not None:
            yield bytes(chunk)


@dataclass
class _FileReader(BlobReader):
    """A body in the local folder, read straight from an open file.

    obstore streams local files at a few hundred MB/s; plain 1 MiB reads run at disk or page
    cache speed, so downloads are limited by the socket, not by the read. The file is opened
    before streaming starts, so deleting its name meanwhile does not cut the stream.
    """

    size: int
    _file: BinaryIO
    _run: Callable[[Callable[[], Any]], Any]

    async def chunks(self) -> AsyncIterator[bytes]:
        read = self._file.read
        left = self.size  # stop at the end of the span, not of the file
        try:
            while left > 0:
                chunk = await self._run(partial(read, min(STREAM_CHUNK_BYTES, left)))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            self._file.close()

    def local_file(self) -> tuple[BinaryIO, int] | None:
        return self._file, self._file.tell()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_staging(root: Path, cutoff: float) -> int:
    removed = 0
    for path in root.rglob("*#*"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


class BlobStore:
    def __init__(self, store: Any, description: str, local_root: Path | None = None) -> None:
        self._store = store
        self.description = description
        self._local_root = local_root
        self._pool = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="cubby-blobs")
        self.holds = HoldCheck(store)  # a backup or copy reading a snapshot holds deletes

    @staticmethod
    def new_key(workspace_id: str) -> str:
        return f"{workspace_id}/{new_id()}"

    async def _run(self, fn: Callable[[], T], operation: str = "read") -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        except BlobNotFound:
            raise
        except Exception:
            metrics.BLOB_ERRORS.labels(operation).inc()
            raise

    def _put(self, key: str, body: bytes) -> None:
        obstore.put(self._store, key, body)
        if self._local_root is not None:
            # obstore's local store writes a staging file and renames it (never torn) but does
            # not fsync: without this a power cut right after the index commit could leave a
            # row pointing at a body that never reached the disk.
            path = self._local_root / key
            _fsync(path)
            _fsync(path.parent)

    async def put(self, key: str, body: bytes) -> None:
        """Store ``body`` durably: once this returns, a committed index row may point at it."""
        await self._run(lambda: self._put(key, body), "put")

    def _open(self, key: str, span: Span | None) -> BlobReader:
        try:
            if self._local_root is not None:
                file = open(self._local_root / key, "rb", buffering=0)  # noqa: SIM115
                size = os.fstat(file.fileno()).st_size
                if span is None:
                    return _FileReader(size, file, self._run)
                file.seek(span[0])
                return _FileReader(span[1] - span[0] + 1, file, self._run)
            if span is None:
                result = obstore.get(self._store, key)
            else:  # obstore's range end is exclusive
                result = obstore.get(self._store, key, options={"range": (span[0], span[1] + 1)})
        except _NOT_FOUND:
            raise BlobNotFound(key) from None
        size = int(result.meta["size"]) if span is None else span[1] - span[0] + 1
        stream = iter(result.stream(min_chunk_size=STREAM_CHUNK_BYTES))
        return _ObjectReader(size, stream, self._run)

    async def open(self, key: str, span: Span | None = None) -> BlobReader:
        """Open ``key`` (or only the bytes of ``span``, which must lie inside the body) for
        streaming. Once open, a concurrent delete does not cut the stream on the local store
        (the open file outlives its name); object stores finish a started GET."""
        return await self._run(lambda: self._open(key, span))

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        reader = await self.open(key)
        async for chunk in reader.chunks():
            yield chunk

    def _delete(self, key: str) -> None:
        if self.holds.held():
            return  # a snapshot may still name it; the orphan sweep drops it after the hold
        with contextlib.suppress(*_NOT_FOUND):
            obstore.delete(self._store, key)

    async def delete(self, key: str) -> None:
        await self._run(lambda: self._delete(key), "delete")

    async def sweep_staging(self, cutoff: float) -> int:
        """Delete staging files of local writes that never finished (modified before ``cutoff``).

        obstore's local store writes ``<key>#<n>`` and renames it into place; a crash in between
        leaves the staging file, which listings do not show. Object stores need nothing here
        (an unfinished single PUT stores nothing).
        """
        root = self._local_root
        if root is None:
            return 0
        return await self._run(lambda: _remove_staging(root, cutoff))

    async def list_keys(self, prefix: str = "") -> AsyncIterator[tuple[str, float]]:
        """Every key under ``prefix`` with its last-modified time (epoch seconds)."""
        batches = iter(obstore.list(self._store, prefix=prefix or None))
        while (batch := await self._run(lambda: next(batches, None), "list")) is not None:
            for meta in batch:
                yield meta["path"], meta["last_modified"].timestamp()

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def open_blob_store(url: str) -> BlobStore:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = Path(unquote(parts.path))
        try:
            private_dir(path, "files folder")  # bodies 0600 in folders 0700
            store = LocalStore(path, mkdir=True)
        except OSError as exc:
            raise BackendConfigError(f"cannot use file store {path}: {exc}") from None
        return BlobStore(store, f"local folder {path}", local_root=path)
    if scheme == "memory":
        from obstore.store import MemoryStore

        return BlobStore(MemoryStore(), "memory")
    if scheme == "s3":
        return _open_s3(url)
    raise BackendConfigError(
        f"unknown files URL scheme {scheme!r} in CUBBY_FILES_URL; "
        "use file:///path/to/folder or s3://bucket/prefix?endpoint=http://host:9000"
    )


def _open_s3(url: str) -> BlobStore:
    from obstore.store import S3Store

    parts = urlsplit(url)
    bucket = parts.netloc
    if not bucket:
        raise BackendConfigError(f"CUBBY_FILES_URL names no S3 bucket: {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    prefix = parts.path.strip("/") or None
    config: dict[str, Any] = {}
    if "endpoint" in query:
        config["endpoint"] = query["endpoint"]
        if query["endpoint"].startswith("http://"):
            config["allow_http"] = True
    if "region" in query:
        config["region"] = query["region"]
    # Bounded waits: obstore's defaults retry for up to 3 minutes, which would hold a request
    # (and its client) hostage to an unreachable S3. Fail in seconds with a clear error instead.
    client_options: dict[str, Any] = {
        "connect_timeout": timedelta(seconds=5),
        "timeout": timedelta(seconds=60),
    }
    if config.get("allow_http"):
        client_options["allow_http"] = True
    try:
        store = S3Store(
            bucket,
            prefix=prefix,
            config=config or None,  # type: ignore[arg-type]
            client_options=client_options,  # type: ignore[arg-type]
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=15)},
        )
    except Exception as exc:  # obstore raises its own config errors
        raise BackendConfigError(f"cannot configure S3 store from {url!r}: {exc}") from None
    return BlobStore(store, f"s3 bucket {bucket}")
