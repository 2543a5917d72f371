"""Whole-installation reads and loads for backup, restore and copy, generic over tables.

Every kind of data cubby keeps is one :class:`TableSpec` in :data:`TABLES`: the table, the key
that orders its rows (and that upserts and resume marks use) and, for the file index, the column
naming a body in the blob store. A new kind of data is one more entry here, not a new code path:
the backends read and write any listed table by introspecting its columns.

Rows travel as tuples of plain values in a backend-neutral form: ``str``, ``int``, ``float``,
``bool``, ``bytes`` or ``None``. Column kinds (:data:`Kind`) come from each database's own
catalogue, so a SQLite ``INTEGER`` flag and a PostgreSQL ``BOOLEAN`` meet through
:func:`coerce` and :func:`canonical`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Kind = Literal["text", "int", "float", "bool", "bytes"]
Row = tuple[Any, ...]
Columns = list[tuple[str, Kind]]


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]  # orders rows; the conflict target of upserts; resume marks
    blob_column: str | None = None  # names a body in the blob store (files.blob_key)
    singleton: bool = False  # one row per installation (org): the target's own is replaced
    ignore: tuple[str, ...] = ()  # columns only one backend has (PostgreSQL's org.singleton)
    seeded: bool = False  # migrations put rows in it: rows there do not make a target busy
    # Export and import of one scope (a namespace's data): the kind of data the table holds,
    # the id column the importing database assigns afresh, and the columns naming the row of
    # the parent table (kv_entries) that a child row (a list item) belongs to.
    kind: str | None = None
    fresh_id: str | None = None
    owner: tuple[str, ...] = ()
    # Search documents the target builds itself from the row (PostgreSQL's tsvector `doc`;
    # SQLite keeps them in FTS5 tables): never copied, rebuilt by the loader's finish().
    derived: tuple[str, ...] = ()
    # Import of a table whose rows get fresh ids: the natural key a row is matched on (merge
    # updates the row there and keeps its id), and the columns naming ids of other tables.
    unique: tuple[str, ...] = ()
    refs: tuple[tuple[str, str], ...] = ()


# Parents before children (foreign keys); the load order, and reversed the delete order.
TABLES: tuple[TableSpec, ...] = (
    TableSpec("org", ("id",), singleton=True, ignore=("singleton",)),
    TableSpec("workspaces", ("id",)),
    TableSpec("api_keys", ("id",)),
    TableSpec("workspace_integrations", ("id",)),
    TableSpec("end_users", ("id",)),
    TableSpec("kv_entries", ("workspace_id", "ns", "key"), kind="kv"),
    TableSpec(
        "kv_list_items", ("id",), kind="kv", fresh_id="id", owner=("workspace_id", "ns", "key")
    ),
    TableSpec("files", ("workspace_id", "ns", "path"), blob_column="blob_key", kind="files"),
    # The agent tools (migrations/0017).
    TableSpec(
        "memory_entities",
        ("id",),
        derived=("doc",),
        kind="memory",
        fresh_id="id",
        unique=("workspace_id", "ns", "name"),
    ),
    TableSpec(
        "memory_observations",
        ("id",),
        derived=("doc",),
        kind="memory",
        fresh_id="id",
        unique=("entity_id", "digest"),
        refs=(("entity_id", "memory_entities"),),
    ),
    TableSpec(
        "memory_relations",
        ("from_id", "to_id", "type"),
        kind="memory",
        refs=(("from_id", "memory_entities"), ("to_id", "memory_entities")),
    ),
    TableSpec(
        "scratch_pages",
        ("id",),
        derived=("doc",),
        kind="scratchpad",
        fresh_id="id",
        unique=("workspace_id", "ns", "name"),
    ),
    TableSpec(
        "thinking_chains",
        ("id",),
        kind="thinking",
        fresh_id="id",
        unique=("workspace_id", "ns", "chain_id"),
    ),
    TableSpec(
        "thoughts", ("chain", "thought_id"), kind="thinking", refs=(("chain", "thinking_chains"),)
    ),
    TableSpec("idempotency_keys", ("workspace_id", "key")),
    TableSpec("dashboard_sessions", ("id_hash",)),
    TableSpec("mcp_servers", ("id",)),
    TableSpec("mcp_server_tools", ("id",)),
    TableSpec("mcp_tokens", ("id",)),
    # Last: limits set before the data would refuse loading a workspace already over them.
    TableSpec("usage_limits", ("workspace_id",), seeded=True),
)

# Tables of the machinery itself, never copied: the migration ledger, copy progress (kept in
# the target), SQLite's own bookkeeping.
# usage_counters are derived: the target's triggers count the rows as they load
# (migrations/0018); rate_buckets hold only a second's worth of state.
INTERNAL_TABLES = frozenset(
    {"schema_migrations", "copy_progress", "sqlite_sequence", "usage_counters", "rate_buckets"}
)


@dataclass(frozen=True)
class Scope:
    """The rows of one workspace: of one namespace (``ns``), of every namespace starting with
    ``ns`` (``prefix``), or of all of them (``ns`` None)."""

    workspace_id: str
    ns: str | None = None
    prefix: bool = False

    def holds(self, workspace_ns: str) -> bool:
        if self.ns is None:
            return True
        return workspace_ns.startswith(self.ns) if self.prefix else workspace_ns == self.ns


# SQLite's FTS5 tables of the agent tools: derived from their rows, rebuilt after a load.
SEARCH_TABLES = frozenset({"memory_fts", "scratch_fts"})


def spec(name: str) -> TableSpec:
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def coerce(value: Any, kind: Kind) -> Any:
    """``value`` (from any backend) as the target column of ``kind`` takes it."""
    if value is None:
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def canonical(value: Any) -> Any:
    """One form for a value whatever backend it came from (flags as 0/1), for checksums."""
    if isinstance(value, bool):
        return int(value)
    return value


class SnapshotError(Exception):
    """The database cannot be read or loaded as a whole (missing table, foreign schema)."""


class Snapshot(Protocol):
    """One consistent, read-only view of a whole database, open until closed."""

    kind: str  # "sqlite" or "postgres"

    async def tables(self) -> set[str]:
        """Every table of the database (to notice one that :data:`TABLES` lacks)."""
        ...

    async def columns(self, table: str) -> Columns: ...

    def rows(
        self,
        table: TableSpec,
        columns: list[str],
        after: Row | None,
        batch: int,
        scope: Scope | None = None,
    ) -> AsyncIterator[list[Row]]:
        """Rows in key order, strictly after the key ``after`` (None: from the start); with
        ``scope``, only those of that scope (the table has workspace_id and ns columns)."""
        ...

    async def count(self, table: str) -> int: ...

    async def close(self) -> None: ...


class Loader(Protocol):
    """Writes into a target database: upserts keyed by each table's key, in transactions."""

    kind: str

    async def columns(self, table: str) -> Columns: ...

    async def nonempty(self) -> list[str]:
        """Tables (of :data:`TABLES`, singletons aside) holding rows."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def upsert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        """Insert or update ``rows`` (values coerced to this database's kinds)."""
        ...

    async def insert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        """Plain inserts (rows without their fresh id column get new ids, in order)."""
        ...

    async def upsert_returning(self, table: TableSpec, columns: Columns, row: Row) -> int:
        """Insert ``row`` (without its fresh id) or update the row with the same
        :attr:`TableSpec.unique` key; returns the row's id."""
        ...

    async def reindex(self, scope: Scope) -> None:
        """Rebuild what is derived from the rows of ``scope``: the agent tools' search
        documents, and list items' canonical forms and hashes (list_rehash)."""
        ...

    async def delete_scope(self, table: TableSpec, scope: Scope) -> list[str]:
        """Delete the rows of ``scope``; returns the blob keys they named."""
        ...

    async def delete_owned(self, table: TableSpec, owners: list[Row]) -> None:
        """Delete the rows whose :attr:`TableSpec.owner` columns equal one of ``owners``."""
        ...

    async def blobs_of(self, table: TableSpec, keys: list[Row]) -> list[str]:
        """The blob keys the rows with these keys name now (bodies an upsert will replace)."""
        ...

    async def delete_missing(self, table: TableSpec, keep: set[Row]) -> int:
        """Delete rows whose key is not in ``keep``; returns how many."""
        ...

    async def get_progress(self) -> dict[str, str]: ...

    async def set_progress(self, name: str, value: str) -> None: ...

    async def clear_progress(self) -> None: ...

    async def finish(self) -> None:
        """After a load: move id sequences past the loaded rows; rebuild what is derived from
        rows (search documents, list items' canonical hashes)."""
        ...

    async def close(self) -> None: ...
