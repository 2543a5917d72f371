"""What backup, restore and copy share: holding body deletes, the columns of a table, row
checksums, and progress reports."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import msgspec

from cubby.backends.blob_hold import REFRESH_SECONDS, SETTLE_SECONDS
from cubby.backends.blobs import BlobStore
from cubby.backends.snapshot import (
    INTERNAL_TABLES,
    SEARCH_TABLES,
    TABLES,
    Columns,
    Row,
    Snapshot,
    SnapshotError,
    TableSpec,
    canonical,
)

log = logging.getLogger(__name__)

BATCH = 500
_MOD = 1 << 256


class Progress(Protocol):
    def start(self, phase: str, items: int, size: int) -> None:
        """A phase begins: about ``items`` items and ``size`` bytes to go."""
        ...

    def advance(self, items: int, size: int = 0) -> None: ...

    def finish(self) -> None: ...


class Quiet:
    def start(self, phase: str, items: int, size: int) -> None:
        return None

    def advance(self, items: int, size: int = 0) -> None:
        return None

    def finish(self) -> None:
        return None


@contextlib.asynccontextmanager
async def holding_deletes(blobs: BlobStore) -> AsyncIterator[None]:
    """Hold every body delete on ``blobs`` (all processes) for the block; see blob_hold.py.
    Enter before opening the snapshot: it waits until no process can still delete unheld."""
    key = await asyncio.to_thread(blobs.holds.take)

    async def refresh() -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await asyncio.to_thread(blobs.holds.refresh, key)
            except Exception:
                log.warning("could not refresh the delete hold %s", key, exc_info=True)

    task = asyncio.create_task(refresh())
    try:
        await asyncio.sleep(SETTLE_SECONDS)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await asyncio.to_thread(blobs.holds.release, key)
        except Exception:
            log.warning("could not release the delete hold %s; it lapses by itself", key)


async def columns_of(snapshot: Snapshot, table: TableSpec) -> Columns:
    skip = (*table.ignore, *table.derived)
    return [c for c in await snapshot.columns(table.name) if c[0] not in skip]


async def uncovered_tables(snapshot: Snapshot) -> list[str]:
    """Tables of the database that :data:`TABLES` does not list (their data would not move).
    SQLite's FTS5 shadow tables are derived data and not counted."""
    known = {t.name for t in TABLES} | INTERNAL_TABLES | SEARCH_TABLES
    return sorted(
        name
        for name in await snapshot.tables()
        if name not in known
        and not any(name.endswith(s) for s in ("_data", "_idx", "_content", "_docsize", "_config"))
    )


def key_of(table: TableSpec, columns: Columns) -> list[int]:
    names = [name for name, _ in columns]
    try:
        return [names.index(k) for k in table.key]
    except ValueError:
        raise SnapshotError(f"table {table.name} lacks a column of its key {table.key}") from None


def row_hash(row: Row) -> int:
    text = msgspec.json.encode([canonical(v) for v in row])
    return int.from_bytes(hashlib.sha256(text).digest(), "big")


class TableSum:
    """Rows and an order-free checksum of a table (the sum of the rows' SHA-256 values), so
    two databases that sort text differently still agree on equal contents."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, rows: list[Row]) -> None:
        self.rows += len(rows)
        for row in rows:
            self.total = (self.total + row_hash(row)) % _MOD

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"


async def table_sum(snapshot: Snapshot, table: TableSpec, names: list[str]) -> TableSum:
    found = TableSum()
    async for rows in snapshot.rows(table, names, None, BATCH):
        found.add(rows)
    return found
