"""What the service needs from a metadata backend. SQLite and PostgreSQL implement it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import msgspec

from cubby.core.agent_records import (
    Entity,
    NewEntity,
    Page,
    PageText,
    Relation,
    RelationKey,
    ScoredEntity,
    Thought,
)
from cubby.core.kv_values import ListItem
from cubby.core.limit_values import Limits, UsageFigures
from cubby.core.models import ApiKey, EndUser, Workspace, WorkspaceIntegration
from cubby.core.scopes import Namespace

if TYPE_CHECKING:
    from cubby.backends.mcp import McpStore


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
    async def revoke(
        self, key_id: str, at: str, refuse: Callable[[list[ApiKey]], bool] | None = None
    ) -> bool:
        """Revoke an active key; False when there is none with this id. ``refuse`` sees every
        active key, under a lock that holds against other revokes (any process), and raises
        to keep them all (the last organisation-wide key, core/keys.py)."""
        ...

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
        self,
        ns: Namespace,
        key: str,
        item: ListItem,
        expires_at: float | None = None,
        *,
        max_items: int,
    ) -> tuple[int, int]:
        """Append one item atomically; returns (length, version). ``expires_at`` (when given)
        replaces the key's expiry, else it keeps the one it has. A live list already holding
        ``max_items`` items or more is :func:`~cubby.core.kv_values.list_full`, decided in the
        same write as the append (concurrent appends never overshoot); nothing is changed."""
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
    expires_at: float | None = None  # epoch seconds; None: never


class FilePreconditionFailed(Exception):
    """A conditional file change found another current etag (None: no live file)."""

    def __init__(self, current_etag: str | None) -> None:
        super().__init__(current_etag)
        self.current_etag = current_etag


class FileMissing(Exception):
    """The file to change does not exist (or has expired)."""


class FileIndex(Protocol):
    """Every method treats a row whose ``expires_at`` has passed (:func:`cubby.core.clock.now`)
    as absent: reads skip it and writes replace it."""

    async def get(self, ns: Namespace, path: str) -> FileRecord | None: ...
    async def put(
        self,
        ns: Namespace,
        record: FileRecord,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str | None:
        """Create or replace; returns the replaced record's blob key (to drop after commit).

        With ``if_match`` only the live file with that etag is replaced; with ``if_none_match``
        only an absent file is created; else :class:`FilePreconditionFailed`, nothing changed.
        """
        ...

    async def delete(
        self, ns: Namespace, path: str, *, if_match: str | None = None
    ) -> tuple[bool, str | None]:
        """Returns (existed, blob key to drop); ``if_match`` as for :meth:`put`."""
        ...

    async def move(
        self, ns: Namespace, src: str, dst: str, overwrite: bool
    ) -> tuple[str, str | None]:
        """Rename ``src`` to ``dst`` in one transaction; returns (etag, replaced blob key).

        :class:`FileMissing` without a live ``src``; :class:`FilePreconditionFailed` when a live
        ``dst`` exists and not ``overwrite``.
        """
        ...

    async def delete_batch(
        self, ns: Namespace, prefix: str, limit: int
    ) -> tuple[int, int, list[str]]:
        """Delete up to ``limit`` rows under ``prefix`` (expired ones too); returns (rows
        deleted, live files among them, blob keys to drop)."""
        ...

    async def delete_expired(self, now: float, limit: int) -> tuple[int, list[str]]:
        """Delete up to ``limit`` rows expired at ``now`` in any namespace; returns (rows,
        blob keys to drop)."""
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
    async def count_open(self, now: str) -> int:
        """Sessions that have not expired (the ``cubby_dashboard_sessions_open`` metric)."""
        ...


class Usage(msgspec.Struct):
    keys: int = 0
    files: int = 0
    bytes: int = 0
    items: int = 0  # agent-tool items: memory entities + scratchpad pages + thoughts


DataKind = Literal["kv", "files"]
# Every kind of row kept per namespace: whose namespaces hold data (the agent tools' too).
OwnerKind = Literal["kv", "files", "memory", "scratchpad", "thinking"]


class UsageStore(Protocol):
    """Counting queries for the dashboard; each is an index range scan of one workspace."""

    async def usage(self, kind: DataKind, workspace_id: str, ns: str, prefix: bool) -> Usage:
        """Keys (kv) or files and bytes (files) in namespace ``ns``, or, with ``prefix``, in
        every namespace whose ns starts with ``ns`` (``u:``: all end users)."""
        ...

    async def folder_usage(self, ns: Namespace, path_prefix: str) -> Usage:
        """Files and bytes under a path prefix of one namespace."""
        ...

    async def count_names(
        self, kind: OwnerKind, ns: Namespace, prefix: str, now: float, cap: int
    ) -> int:
        """Live rows of ``kind`` in ``ns`` whose name (key, path, entity or page name, chain
        id) starts with ``prefix``, counted up to ``cap``: an index range scan that stops
        there (a pager's "of N", or "of cap+")."""
        ...

    async def namespaces(
        self, kind: OwnerKind, workspace_id: str, ns_prefix: str, after: str | None, limit: int
    ) -> list[str]:
        """Distinct ns values with data, starting with ``ns_prefix``, sorted, after ``after``:
        a loose index scan (one index seek per value), never a scan of the rows."""
        ...


class IdempotencyRecord(msgspec.Struct, frozen=True):
    fingerprint: str
    response: bytes
    created_at: float


class IdempotencyTaken(Exception):
    """Another call recorded this key first (its record is committed by the time this is seen)."""


class IdempotencyBusy(Exception):
    """Another call holding this key did not finish within the bounded wait."""


class IdempotencySession(Protocol):
    async def finish(self, response: bytes) -> None:
        """Store the answer and commit it together with the action's changes."""
        ...


class IdempotencyStore(Protocol):
    async def get(self, workspace_id: str, key: str) -> IdempotencyRecord | None: ...

    def session(
        self, workspace_id: str, key: str, fingerprint: str, now: float, stale_before: float
    ) -> AbstractAsyncContextManager[IdempotencySession]:
        """A transaction that claims the key (a record older than ``stale_before`` counts as
        absent; a live one raises :class:`IdempotencyTaken`) and takes every metadata write the
        action makes inside the block, so the record commits with them or not at all. Leaving
        the block without :meth:`IdempotencySession.finish` rolls everything back."""
        ...

    async def delete_older(self, before: float, limit: int) -> int:
        """Drop up to ``limit`` records created before ``before``; returns how many."""
        ...


class Erased(msgspec.Struct, frozen=True):
    """What erasing a namespace removed: keys, files and the files' bytes."""

    keys: int
    files: int
    bytes: int
    blob_keys: list[str]  # bodies to drop from the blob store after the commit
    items: int = 0  # agent-tool items: memory entities + scratchpad pages + thoughts


class EndUserStore(Protocol):
    async def create(self, end_user: EndUser) -> None:
        """Raises Conflict (DUPLICATE) when the workspace has that externalId already."""
        ...

    async def page(
        self, workspace_id: str, limit: int, offset: int
    ) -> tuple[list[EndUser], int]: ...

    async def get(self, end_user_id: str) -> EndUser | None: ...
    async def update(self, end_user: EndUser) -> None: ...
    async def delete(self, end_user_id: str) -> bool: ...
    async def erase_data(self, workspace_id: str, ns: str) -> Erased:
        """Delete every key and file of one namespace (an end user's) in one transaction;
        range scans of the ``(workspace_id, ns, ...)`` indexes, nothing else is read."""
        ...


class MemoryStore(Protocol):
    """Agent Memory graphs per namespace: one row per entity, observation and relation. Every
    write is one transaction; a failing check (ENTITY_NOT_FOUND) leaves everything unchanged."""

    async def create_entities(
        self, ns: Namespace, entities: list[NewEntity]
    ) -> tuple[list[Entity], list[str]]:
        """(created entities, names that existed already and were left unchanged)."""
        ...

    async def add_observations(
        self, ns: Namespace, batches: list[tuple[str, list[str]]]
    ) -> list[list[str]]:
        """Per batch (entity name, texts), the texts added (those the entity lacked)."""
        ...

    async def create_relations(
        self, ns: Namespace, relations: list[RelationKey]
    ) -> tuple[list[Relation], int]:
        """(created relations, how many existed already)."""
        ...

    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[ScoredEntity]:
        """Entities matching every term (as word prefixes), best first (score descending,
        then name), after the (score, name) of the previous page."""
        ...

    async def page(self, ns: Namespace, after: str | None, limit: int) -> list[Entity]:
        """Entities by name (code point order) after ``after``."""
        ...

    async def get(self, ns: Namespace, name: str) -> Entity | None: ...
    async def relations(self, ns: Namespace, names: list[str], mode: str) -> list[Relation]:
        """Relations touching ``names``: ``"from"`` those leaving them, ``"any"`` in or out,
        ``"among"`` those with both ends among them."""
        ...

    async def delete_entities(self, ns: Namespace, names: list[str]) -> int: ...
    async def delete_observations(self, ns: Namespace, name: str, texts: list[str]) -> int:
        """ENTITY_NOT_FOUND for an unknown entity."""
        ...

    async def delete_relations(self, ns: Namespace, relations: list[RelationKey]) -> int: ...
    async def count(self, workspace_id: str, ns: str) -> int:
        """Entities in one namespace, by an index range scan (end-user usage)."""
        ...


class ScratchpadStore(Protocol):
    """Agent Scratchpad pages per namespace, one row per page; an append is one locked update
    of that row (concurrent appends each land whole), re-indexed in the same transaction."""

    async def read(self, ns: Namespace, name: str) -> PageText | None: ...
    async def write(self, ns: Namespace, name: str, content: str) -> Page: ...
    async def append(self, ns: Namespace, name: str, content: str, max_bytes: int) -> Page:
        """Create or extend; a page that would pass ``max_bytes`` is PAYLOAD_TOO_LARGE."""
        ...

    async def page(
        self, ns: Namespace, prefix: str, after: str | None, limit: int
    ) -> list[Page]: ...
    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[PageText]: ...
    async def delete(self, ns: Namespace, name: str) -> bool: ...
    async def clear(self, ns: Namespace) -> int: ...
    async def count(self, workspace_id: str, ns: str) -> int:
        """Pages in one namespace, by an index range scan (end-user usage)."""
        ...


class ThinkingStore(Protocol):
    """Sequential Thinking chains per namespace, one row per thought. Thought ids are taken
    from the chain's counter row inside the write's transaction: 1, 2, ... never reused."""

    async def add(
        self, ns: Namespace, chain_id: str, content: str, max_thoughts: int
    ) -> tuple[Thought, int]:
        """(the new main-line thought, the main line's length)."""
        ...

    async def branch(
        self,
        ns: Namespace,
        chain_id: str,
        from_id: int,
        branch_name: str,
        content: str,
        max_thoughts: int,
    ) -> Thought: ...
    async def revise(
        self, ns: Namespace, chain_id: str, thought_id: int, content: str, max_revisions: int
    ) -> Thought: ...
    async def thoughts(self, ns: Namespace, chain_id: str) -> list[Thought]:
        """Every thought of the chain by id (empty for an unknown chain)."""
        ...

    async def count(self, workspace_id: str, ns: str) -> int:
        """Thoughts in one namespace, by an index range scan (end-user usage)."""
        ...


class LimitStore(Protocol):
    """Live usage counters (kept by triggers, migrations/0018), limits, rate-limit leases."""

    async def usage(self, workspace_id: str, owner: str = "") -> UsageFigures:
        """The counters of a workspace (owner ``""``) or of one end user (``u:<id>``)."""
        ...

    async def top_usage(self, limit: int) -> list[tuple[str, UsageFigures]]:
        """The ``limit`` workspaces using the most bytes (the /metrics labels)."""
        ...

    async def get_limits(self, workspace_id: str) -> Limits:
        """The workspace's own limits (``""``: the server-wide defaults)."""
        ...

    async def set_limits(self, workspace_id: str, limits: Limits) -> None: ...

    async def recount(self) -> int:
        """Rebuild every counter from the data, in one transaction; returns the rows written."""
        ...

    async def lease(
        self, workspace_id: str, want: int, rate: float, burst: int, now: float
    ) -> tuple[int, float]:
        """Take up to ``want`` whole tokens from the workspace's shared bucket (refilled at
        ``rate`` per second up to ``burst``); returns (tokens granted, tokens left)."""
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
    end_users: EndUserStore
    usage: UsageStore
    closer: object
    idempotency: IdempotencyStore = field(kw_only=True)
    mcp: McpStore = field(kw_only=True)
    limits: LimitStore = field(kw_only=True)
    memory: MemoryStore = field(kw_only=True)
    scratchpad: ScratchpadStore = field(kw_only=True)
    thinking: ThinkingStore = field(kw_only=True)

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
