"""SQLite side of backup, restore and copy (see :mod:`cubby.backends.snapshot`).

The snapshot is one read transaction on a connection of its own: in WAL mode it sees the
database as of its first read for as long as it stays open, while the server keeps committing
(its writes go to the WAL; a checkpoint cannot pass the snapshot, so the WAL may grow for the
length of a backup). Unlike ``VACUUM INTO`` or the online backup API this yields rows, so one
archive restores into either backend. Reads run inline: the CLI has nothing else to do.

The loader writes through its own connection with ``BEGIN IMMEDIATE`` transactions, into a
database no server is using (restore and copy refuse a target that holds data).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

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
from cubby.backends.sqlite import quota
from cubby.backends.sqlite.db import apply_migrations, connect
from cubby.backends.sqlite.list_rehash import rehash_list_items
from cubby.backends.sqlite.search_rebuild import rebuild_search


def _kind(declared: str) -> Kind:
    declared = declared.upper()
    if "INT" in declared:
        return "int"
    if any(word in declared for word in ("REAL", "FLOA", "DOUB")):
        return "float"
    if "BLOB" in declared:
        return "bytes"
    return "text"


def _columns(conn: sqlite3.Connection, table: str) -> Columns:
    rows = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    if not rows:
        raise SnapshotError(f"the SQLite database has no table {table!r}")
    return [(str(r[1]), _kind(str(r[2] or ""))) for r in rows]


def _quote(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _scope_sql(scope: Scope | None) -> tuple[str, tuple[str | int, ...]]:
    if scope is None:
        return "1", ()
    if scope.ns is None:
        return "workspace_id = ?", (scope.workspace_id,)
    if scope.prefix:
        return (
            "workspace_id = ? AND substr(ns, 1, ?) = ?",
            (scope.workspace_id, len(scope.ns), scope.ns),
        )
    return "workspace_id = ? AND ns = ?", (scope.workspace_id, scope.ns)


def open_database(path: Path) -> sqlite3.Connection:
    """A connection to the (migrated) database at ``path``."""
    conn = connect(path)
    apply_migrations(conn)
    return conn


class SqliteSnapshot:
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self._conn = open_database(path)
        self._conn.execute("BEGIN")
        # The snapshot starts at the first read, so take it now, before anything else.
        self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    async def tables(self) -> set[str]:
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(r[0]) for r in rows}

    async def columns(self, table: str) -> Columns:
        return _columns(self._conn, table)

    async def rows(
        self,
        table: TableSpec,
        columns: list[str],
        after: Row | None,
        batch: int,
        scope: Scope | None = None,
    ) -> AsyncIterator[list[Row]]:
        keys = _quote(table.key)
        marks = ", ".join("?" for _ in table.key)
        in_scope, args = _scope_sql(scope)
        sql = f'SELECT {_quote(columns)} FROM "{table.name}" WHERE {in_scope}'
        where = f" AND ({keys}) > ({marks})"
        order = f" ORDER BY {keys} LIMIT {int(batch)}"
        key_at = [columns.index(k) for k in table.key]
        while True:
            if after is None:
                found = self._conn.execute(sql + order, args).fetchall()
            else:
                found = self._conn.execute(sql + where + order, (*args, *after)).fetchall()
            if not found:
                return
            yield found
            after = tuple(found[-1][i] for i in key_at)

    async def count(self, table: str) -> int:
        return int(self._conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    async def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("COMMIT")
        self._conn.close()


class SqliteLoader:
    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = open_database(path)
        # the lock servers' writers queue on (db.py), so a load into a live database (an
        # import) takes its turn like any writer instead of sending them into busy retries
        self._write_lock = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)

    async def columns(self, table: str) -> Columns:
        return _columns(self._conn, table)

    async def nonempty(self) -> list[str]:
        found = []
        for table in TABLES:
            if table.singleton or table.seeded:
                continue
            if self._conn.execute(f'SELECT 1 FROM "{table.name}" LIMIT 1').fetchone():
                found.append(table.name)
        return found

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        fcntl.flock(self._write_lock, fcntl.LOCK_EX)
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        finally:
            fcntl.flock(self._write_lock, fcntl.LOCK_UN)

    async def upsert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        target = dict(_columns(self._conn, table.name))
        names = [name for name, _ in columns]
        kinds = [target[name] for name in names]
        values = [tuple(coerce(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
        insert = (
            f'INSERT INTO "{table.name}" ({_quote(names)}) VALUES ({", ".join("?" for _ in names)})'
        )
        if table.singleton:
            self._conn.execute(f'DELETE FROM "{table.name}"')
            quota.translated(lambda conn: conn.executemany(insert, values))(self._conn)
            return
        rest = [n for n in names if n not in table.key]
        update = ", ".join(f'"{n}" = excluded."{n}"' for n in rest)
        conflict = f" ON CONFLICT ({_quote(table.key)}) " + (
            f"DO UPDATE SET {update}" if rest else "DO NOTHING"
        )
        quota.translated(lambda conn: conn.executemany(insert + conflict, values))(self._conn)

    async def insert(self, table: TableSpec, columns: Columns, rows: list[Row]) -> None:
        target = dict(_columns(self._conn, table.name))
        names = [name for name, _ in columns]
        kinds = [target[name] for name in names]
        values = [tuple(coerce(v, k) for v, k in zip(row, kinds, strict=True)) for row in rows]
        sql = (
            f'INSERT INTO "{table.name}" ({_quote(names)}) VALUES ({", ".join("?" for _ in names)})'
        )
        quota.translated(lambda conn: conn.executemany(sql, values))(self._conn)

    async def upsert_returning(self, table: TableSpec, columns: Columns, row: Row) -> int:
        target = dict(_columns(self._conn, table.name))
        names = [name for name, _ in columns]
        values = tuple(coerce(v, target[n]) for v, n in zip(row, names, strict=True))
        rest = [n for n in names if n not in table.unique]
        update = ", ".join(f'"{n}" = excluded."{n}"' for n in rest) or (
            f'"{table.unique[0]}" = excluded."{table.unique[0]}"'
        )
        sql = (
            f'INSERT INTO "{table.name}" ({_quote(names)}) '
            f"VALUES ({', '.join('?' for _ in names)}) "
            f"ON CONFLICT ({_quote(table.unique)}) DO UPDATE SET {update} "
            f'RETURNING "{table.fresh_id}"'
        )
        found = quota.translated(lambda conn: conn.execute(sql, values).fetchone())(self._conn)
        return int(found[0])

    async def reindex(self, scope: Scope) -> None:
        rebuild_search(self._conn, *_scope_sql(scope))
        rehash_list_items(self._conn, *_scope_sql(scope))

    async def delete_scope(self, table: TableSpec, scope: Scope) -> list[str]:
        in_scope, args = _scope_sql(scope)
        blobs: list[str] = []
        if table.blob_column:
            blobs = [
                str(r[0])
                for r in self._conn.execute(
                    f'SELECT "{table.blob_column}" FROM "{table.name}" WHERE {in_scope} '
                    f'AND "{table.blob_column}" IS NOT NULL',
                    args,
                )
            ]
        self._conn.execute(f'DELETE FROM "{table.name}" WHERE {in_scope}', args)
        return blobs

    async def delete_owned(self, table: TableSpec, owners: list[Row]) -> None:
        where = " AND ".join(f'"{c}" = ?' for c in table.owner)
        self._conn.executemany(f'DELETE FROM "{table.name}" WHERE {where}', owners)

    async def blobs_of(self, table: TableSpec, keys: list[Row]) -> list[str]:
        if not table.blob_column:
            return []
        where = " AND ".join(f'"{c}" = ?' for c in table.key)
        sql = f'SELECT "{table.blob_column}" FROM "{table.name}" WHERE {where}'
        found = []
        for key in keys:
            row = self._conn.execute(sql, key).fetchone()
            if row is not None and row[0] is not None:
                found.append(str(row[0]))
        return found

    async def delete_missing(self, table: TableSpec, keep: set[Row]) -> int:
        found = self._conn.execute(f'SELECT {_quote(table.key)} FROM "{table.name}"').fetchall()
        gone = [tuple(r) for r in found if tuple(r) not in keep]
        where = " AND ".join(f'"{k}" = ?' for k in table.key)
        self._conn.executemany(f'DELETE FROM "{table.name}" WHERE {where}', gone)
        return len(gone)

    async def get_progress(self) -> dict[str, str]:
        rows = self._conn.execute("SELECT name, value FROM copy_progress").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    async def set_progress(self, name: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO copy_progress (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    async def clear_progress(self) -> None:
        self._conn.execute("DELETE FROM copy_progress WHERE name <> 'source'")

    async def finish(self) -> None:
        """The agent tools' search tables and the list items' canonical hashes from their rows
        (AUTOINCREMENT counters follow explicit ids by themselves)."""
        rebuild_search(self._conn)
        rehash_list_items(self._conn)

    async def close(self) -> None:
        self._conn.close()
        os.close(self._write_lock)
