"""What the service needs from a metadata backend. SQLite and PostgreSQL implement it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import msgspec

from cubby.core.kv_values import ListItem
from cubby.core.models import ApiKey, Workspace, WorkspaceIntegration
from cubby.core.scopes import Namespace


class StoredKey(msgspec.Struct, frozen=True):
    """An API key as auth needs it: the public record plus revocation state."""

    key: ApiKey
    key_hash: str
    revoked: bool


class WorkspaceStore(Protocol):
    async def create(self, workspace: Workspace) -> None: ...
    async def page(
        self, limit: int, offset: int, only_ids: list[str] | None
    ) -> tuple[list[Workspace], int]: ...
    async def get(self, workspace_id: str) -> Workspace | None: ...
    async def update(self, workspace: Workspace) -> None: ...
    async def delete(self, workspace_id: str) -> list[str] | None:
        """Delete the workspace with all its data; returns the blob keys to drop, None if absent."""
        ...


class ApiKeyStore(Protocol):
    async def create(self, key: ApiKey, key_hash: str) -> None: ...
    async def all(self) -> list[ApiKey]: ...
    async def find_by_hash(self, key_hash: str) -> StoredKey | None: ...
    async def revoke(self, key_id: str, at: str) -> bool: ...
    async def touch(self, last_used: dict[str, str]) -> None: ...
    async def count_all(self) -> int:
        """Keys ever created, revoked ones included."""
        ...


class IntegrationStore(Protocol):
    async def create(self, integration: WorkspaceIntegration) -> None: ...
    async def in_workspace(self, workspace_id: str) -> list[WorkspaceIntegration]: ...
    async def get(self, workspace_id: str, integration_id: str) -> WorkspaceIntegration | None: ...
    async def update(self, integration: WorkspaceIntegration) -> None: ...
    async def delete(self, workspace_id: str, integration_id: str) -> bool: ...
    async def for_execute(
        self, workspace_id: str, integration_name: str
    ) -> tuple[bool, list[WorkspaceIntegration]]:
        """One round trip: does the workspace exist, and its integrations of that name."""
        ...


class StoredValue(msgspec.Struct, frozen=True):
    """A live KV value: its JSON text, version and expiry (epoch seconds, None = never)."""

    value: bytes
    version: int
    expires_at: float | None


class KeyInfo(msgspec.Struct, frozen=True):
    """One live key of a listing (``length``: the item count of a list, 0 for other values)."""

    key: str
    size: int
    is_list: bool
    length: int
    version: int
    updated_at: str
    expires_at: float | None


class KvStore(Protocol):
    """KV data per namespace. An expired key is missing on every path (reads, writes, lists)
    from the instant it expires (``clock.now()``); :meth:`sweep` removes its rows later.
    ``expires_at`` is epoch seconds; every change bumps the key's version (1 on creation)."""

    async def get(self, ns: Namespace, key: str) -> StoredValue | None: ...
    async def put(
        self,
        ns: Namespace,
        key: str,
        value: bytes,
        items: list[ListItem] | None,
        expires_at: float | None = None,
        if_version: int | None = None,
    ) -> int:
        """Store ``value`` (compact JSON; ``items`` when it is a list); returns the new version.
        ``if_version`` (0 = must not exist) else ActionFailed CONFLICT, nothing changed."""
        ...

    async def delete(self, ns: Namespace, key: str) -> bool: ...
    async def append(
        self, ns: Namespace, key: str, item: ListItem, expires_at: float | None = None
    ) -> tuple[int, int]:
        """Append one item atomically; returns (length, version). ``expires_at`` (when given)
        replaces the key's expiry, else it keeps the one it has."""
        ...

    async def remove(self, ns: Namespace, key: str, item: ListItem) -> tuple[int, int]:
        """Remove every item whose canonical form equals ``item``'s; returns (removed, length)."""
        ...

    async def increment(self, ns: Namespace, key: str, by: int | float) -> tuple[bytes, int]:
        """Add ``by`` to the number at ``key`` (missing: 0) in one database step; returns
        (value, version). NOT_A_NUMBER / OUT_OF_RANGE leave the key unchanged."""
        ...

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[KeyInfo]:
        """Live keys starting with ``prefix`` and sorting after ``after``, in UTF-8 byte order,
        by an index range scan."""
        ...

    async def sweep(self, limit: int) -> int:
        """Delete up to ``limit`` expired keys with their list items; returns how many."""
        ...


class FileRecord(msgspec.Struct, kw_only=True):
    """One file's metadata; the body is inline (small files) or in the blob store."""

    path: str
    size: int
    content_type: str
    etag: str
    created_at: str
    updated_at: str
    blob_key: str | None = None
    inline_body: bytes | None = None


class FileIndex(Protocol):
    async def get(self, ns: Namespace, path: str) -> FileRecord | None: ...
    async def put(self, ns: Namespace, record: FileRecord) -> str | None:
        """Create or replace; returns the replaced record's blob key (to drop after commit)."""
        ...

    async def delete(self, ns: Namespace, path: str) -> tuple[bool, str | None]:
        """Returns (existed, blob key to drop)."""
        ...

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[FileRecord]:
        """Files whose path starts with ``prefix`` and sorts after ``after``, by path."""
        ...

    async def referenced_blobs(self, blob_keys: list[str]) -> set[str]:
        """Which of these blob keys a file row still points to (for the orphan sweep)."""
        ...


class DashboardSession(msgspec.Struct, frozen=True):
    """A dashboard sign-in, as found by its id hash: its key (with revocation state) and the
    CSRF token every state-changing request of the session must carry."""

    key: StoredKey
    csrf_token: str
    expires_at: str


class SessionStore(Protocol):
    async def create(
        self, id_hash: str, key_id: str, csrf_token: str, created_at: str, expires_at: str
    ) -> None: ...
    async def find(self, id_hash: str) -> DashboardSession | None:
        """The session joined to its key, in one query (expiry is the caller's judgement)."""
        ...

    async def delete(self, id_hash: str) -> None: ...
    async def delete_expired(self, now: str) -> int: ...


class Usage(msgspec.Struct):
    keys: int = 0
    files: int = 0
    bytes: int = 0


DataKind = Literal["kv", "files"]


class UsageStore(Protocol):
    """Counting queries for the dashboard; each is an index range scan of one workspace."""

    async def usage(self, kind: DataKind, workspace_id: str, ns: str, prefix: bool) -> Usage:
        """Keys (kv) or files and bytes (files) in namespace ``ns``, or, with ``prefix``, in
        every namespace whose ns starts with ``ns`` (``u:``: all end users)."""
        ...

    async def folder_usage(self, ns: Namespace, path_prefix: str) -> Usage:
        """Files and bytes under a path prefix of one namespace."""
        ...

    async def namespaces(
        self, kind: DataKind, workspace_id: str, ns_prefix: str, after: str | None, limit: int
    ) -> list[str]:
        """Distinct ns values with data, starting with ``ns_prefix``, sorted, after ``after``:
        a loose index scan (one index seek per value), never a scan of the rows."""
        ...


@dataclass
class MetaStore:
    """The metadata backend: one object per process, built from CUBBY_DATABASE_URL."""

    org_id: str
    workspaces: WorkspaceStore
    api_keys: ApiKeyStore
    integrations: IntegrationStore
    kv: KvStore
    files: FileIndex
    sessions: SessionStore
    usage: UsageStore
    closer: object

    async def start(self) -> None:
        """Bind per-event-loop resources (PostgreSQL's connection pool) to the running loop.

        The server calls it in its lifespan; backends without such resources (SQLite) do nothing.
        """
        start = getattr(self.closer, "start", None)
        if start is not None:
            await start()

    async def stop(self) -> None:
        """Release what :meth:`start` bound to the running loop."""
        stop = getattr(self.closer, "stop", None)
        if stop is not None:
            await stop()

    def close(self) -> None:
        close = getattr(self.closer, "close", None)
        if close is not None:
            close()
