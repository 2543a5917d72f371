"""PostgreSQL side of backup, restore and copy (see :mod:`cubby.backends.snapshot`).

The snapshot is one ``REPEATABLE READ READ ONLY`` transaction on a connection of its own: every
query in it sees the database as of its first statement, whatever the servers commit meanwhile.
Rows are read by key ranges (``(key) > (last key) ORDER BY key LIMIT n``), each an index scan.
The loader upserts with ``INSERT ... ON CONFLICT (key) DO UPDATE`` in transactions it is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import asyncpg

from cubby.backends.postgres.db import connect, quota_refusal
from cubby.backends.postgres.list_rehash import rehash_list_items
from cubby.backends.postgres.migrate import apply_migrations
from cubby.backends.postgres.search_rebuild import rebuild_search
from cubby.backends.postgres.store import parse_url
from cubby.backends.snapshot import (
    TABLES,
    Columns,
    Kind,
    Row,
    Scope,
    SnapshotError,
    TableSpec,
    coerce,
)

T = TypeVar("T")
_KINDS: dict[str, Kind] = {
    "integer": "int",
    "bigint": "int",
    "smallint": "int",
    "double precision": "float",
    "real": "float",
    "boolean": "bool",
    "bytea": "bytes",
}


def _quote(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


async def _columns(conn: Any, table: str) -> Columns:
    rows = await conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        table,
    )
    if not rows:
        raise SnapshotError(f"the PostgreSQL database has no table {table!r}")
    return [(str(r[0]), _KINDS.get(str(r[1]), "text")) for r in rows]


def _scope_sql(scope: Scope | None) -> tuple[str, tuple[Any, ...]]:
    if scope is None:
        return "TRUE", ()
    if scope.ns is None:
        return "workspace_id = $1", (scope.workspace_id,)
    if scope.prefix:
        return "workspace_id = $1 AND left(ns, $2) = $3", (
            scope.workspace_id,
            len(scope.ns),
            scope.ns,
        )
    return "workspace_id = $1 AND ns = $2", (scope.workspace_id, scope.ns)


async def _quota_checked(call: Awaitable[T]) -> T:
    """``call``, with a usage trigger's refusal (migrations/0018) raised as QuotaExceeded."""
    try:
        return await call
    except asyncpg.PostgresError as exc:
        refusal = quota_refusal(exc)
        if refusal is not None:
            raise refusal from None
        raise


async def open_database(url: str) -> Any:
    """A connection to the (migrated) database of the cubby URL ``url``."""
    dsn, _ = parse_url(url)
    conn = await connect(dsn)
    try:
        await apply_migrations(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


class PgSnapshot:
    kind = "postgres"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._tx = conn.transaction(isolation="repeatable_read", readonly=True)

    @classmethod
    async def open(cls, url: str) -> PgSnapshot:
        snapshot = cls(await open_database(url))
        await snapshot._tx.start()
        await snapshot._conn.fetchval("SELECT 1")  # the snapshot is taken by the first query
        return snapshot

    async def tables(self) -> set[str]:
        rows = await self._conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {str(r[0]) for r in rows}

    async def columns(self, table: str) -> Columns:
        return await _columns(self._conn, table)

    async def rows(
        self,
        table: TableSpec,
        columns: list[str],
        after: Row | None,
        batch: int,
        scope: Scope | None = None,
    ) -> AsyncIterator[list[Row]]:
        keys = _quote(table.key)
        in_scope, args = _scope_sql(scope)
        first = len(args) + 1
        marks = ", ".join(f"${first + i}" for i in range(len(table.key)))
        sql = f'SELECT {_quote(columns)} FROM "{table.name}" WHERE {in_scope}'
        where = f" AND ({keys}) > ({marks})"
        order = f" ORDER BY {keys} LIMIT {int(batch)}"
        key_at = [columns.index(k) for k in table.key]
        while True:
            if after is None:
                found = await self._conn.fetch(sql + order, *args)
            else:
                found = await self._conn.fetch(sql + where + order, *args, *after)
            if not found:
                return
            rows = [tuple(r) for r in found]
            yield rows
            after = tuple(rows[-1][i] for i in key_at)

    async def count(self, table: str) -> int:
        return int(await self._conn.fetchval(f'SELECT count(*) FROM "{table}"'))

    async def close(self) -> None:
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._tx.rollback()
        await self._conn.close()


class PgLoader:
    kind = "postgres"

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._columns: dict[str, Columns] = {}

    @classmethod
    async def open(cls, url: str) -> PgLoader:
        return cls(await open_database(url))

    async def columns(self, table: str) -> Columns:
        if table not in self._columns:
            self._columns[table] = await _columns(self._conn, table)
        return self._columns[table]

    async def nonempty(self) -> list[str]:
        found = []
        for table in TABLES:
            if table.singleton or table.seeded:
                continue
            if await self._conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table.name}")'):
                found.append(table.name)
        return found

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._conn.transaction():
            yield

    def _insert_sql(self, table: TableSpec, names: list[str], target: dict[str, Kind]) -> str:
        # search documents start empty ('' is an empty tsvector); finish() builds them
        derived = [c for c in table.derived if c in target and c not in names]
        marks = [f"${i + 1}" for i in range(len(names))] + ["''" for _ in derived]
        return (
            f'INSERT INTO "{table.name}" ({_quote([*names, *derived])}) VALUES ({", ".join(marks)})'
        )

    async def upsert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        target = dict(await self.columns(table.name))
        names = [name for name, _ in columns]
        kinds = [target[name] for name in names]
        values = [tuple(coerce(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
        insert = self._insert_sql(table, names, target)
        if table.singleton:
            await self._conn.execute(f'DELETE FROM "{table.name}"')
            await _quota_checked(self._conn.executemany(insert, values))
            return
        rest = [n for n in names if n not in table.key]
        update = ", ".join(f'"{n}" = excluded."{n}"' for n in rest)
        conflict = f" ON CONFLICT ({_quote(table.key)}) " + (
            f"DO UPDATE SET {update}" if rest else "DO NOTHING"
        )
        await _quota_checked(self._conn.executemany(insert + conflict, values))

    async def insert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        target = dict(await self.columns(table.name))
        names = [name for name, _ in columns]
        kinds = [target[name] for name in names]
        values = [tuple(coerce(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
        await _quota_checked(self._conn.executemany(self._insert_sql(table, names, target), values))

    async def upsert_returning(self, table: TableSpec, columns: Columns, row: Row) -> int:
        target = dict(await self.columns(table.name))
        names = [name for name, _ in columns]
        values = tuple(coerce(v, target[n]) for v, n in zip(row, names, strict=True))
        rest = [n for n in names if n not in table.unique]
        update = ", ".join(f'"{n}" = excluded."{n}"' for n in rest) or (
            f'"{table.unique[0]}" = excluded."{table.unique[0]}"'
        )
        sql = (
            self._insert_sql(table, names, target)
            + f" ON CONFLICT ({_quote(table.unique)}) DO UPDATE SET {update} "
            + f'RETURNING "{table.fresh_id}"'
        )
        return int(await _quota_checked(self._conn.fetchval(sql, *values)))

    async def reindex(self, scope: Scope) -> None:
        await rebuild_search(self._conn, *_scope_sql(scope))
        await rehash_list_items(self._conn, *_scope_sql(scope))

    async def delete_scope(self, table: TableSpec, scope: Scope) -> list[str]:
        in_scope, args = _scope_sql(scope)
        returning = f' RETURNING "{table.blob_column}"' if table.blob_column else ""
        found = await self._conn.fetch(
            f'DELETE FROM "{table.name}" WHERE {in_scope}{returning}', *args
        )
        return [str(r[0]) for r in found if table.blob_column and r[0] is not None]

    async def delete_owned(self, table: TableSpec, owners: list[Row]) -> None:
        where = " AND ".join(f'"{c}" = ${i + 1}' for i, c in enumerate(table.owner))
        if owners:
            await self._conn.executemany(f'DELETE FROM "{table.name}" WHERE {where}', owners)

    async def blobs_of(self, table: TableSpec, keys: list[Row]) -> list[str]:
        if not table.blob_column:
            return []
        where = " AND ".join(f'"{c}" = ${i + 1}' for i, c in enumerate(table.key))
        sql = f'SELECT "{table.blob_column}" FROM "{table.name}" WHERE {where}'
        found = []
        for key in keys:
            value = await self._conn.fetchval(sql, *key)
            if value is not None:
                found.append(str(value))
        return found

    async def delete_missing(self, table: TableSpec, keep: set[Row]) -> int:
        found = await self._conn.fetch(f'SELECT {_quote(table.key)} FROM "{table.name}"')
        gone = [tuple(r) for r in found if tuple(r) not in keep]
        where = " AND ".join(f'"{k}" = ${i + 1}' for i, k in enumerate(table.key))
        if gone:
            await self._conn.executemany(f'DELETE FROM "{table.name}" WHERE {where}', gone)
        return len(gone)

    async def get_progress(self) -> dict[str, str]:
        rows = await self._conn.fetch("SELECT name, value FROM copy_progress")
        return {str(r[0]): str(r[1]) for r in rows}

    async def set_progress(self, name: str, value: str) -> None:
        await self._conn.execute(
            "INSERT INTO copy_progress (name, value) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name,
            value,
        )

    async def clear_progress(self) -> None:
        await self._conn.execute("DELETE FROM copy_progress WHERE name <> 'source'")

    async def finish(self) -> None:
        """Serial columns (kv_list_items.id, ...) continue after the largest id loaded; the
        agent tools' search documents and the list items' canonical hashes are built from
        their rows."""
        await rebuild_search(self._conn)
        await rehash_list_items(self._conn)
        for table in TABLES:
            for name, kind in await self.columns(table.name):
                if kind != "int":
                    continue
                seq = await self._conn.fetchval(
                    "SELECT pg_get_serial_sequence($1, $2)", table.name, name
                )
                if seq is None:
                    continue
                await self._conn.execute(
                    f'SELECT setval($1, coalesce((SELECT max("{name}") FROM "{table.name}"), 0) '
                    "+ 1, false)",
                    seq,
                )

    async def close(self) -> None:
        await self._conn.close()
