"""``cubby copy``: move a whole installation to another database and file store.

One run is a *pass* over one snapshot of the source (as a backup takes it, deletes held). Rows
go table by table in key order, in batches; each batch is one target transaction holding the
upserts (keyed by the table's primary key) and the table's high-water mark in
``copy_progress``. A run killed at any point (even SIGKILL) therefore continues after the last
committed batch when started again, and a batch replayed after a lost commit reply updates rows
instead of adding them: nothing is missed, nothing is doubled. Bodies of a batch's file rows are
written to the target store before the batch commits, under the same keys (immutable per key:
a key the target already holds is not copied again).

A pass that starts from no marks first deletes target rows the source no longer has, so a
second run after the source server stopped (the *tail*) makes the target equal to the source.
At the end every table is compared (rows and an order-free checksum of their values), and every
body in the target is read back and checked against its file row (size and etag) per namespace.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import msgspec

from cubby.backends.blobs import BlobNotFound, BlobStore
from cubby.backends.snapshot import TABLES, Loader, Row, Snapshot, TableSpec
from cubby.backends.snapshots import open_loader, open_snapshot
from cubby.core.dataset import (
    BATCH,
    Progress,
    Quiet,
    columns_of,
    holding_deletes,
    key_of,
    table_sum,
    uncovered_tables,
)
from cubby.core.files import etag_of

SOURCE = "source"
_HOLD_PREFIX = "cubby-backup-hold/"


class CopyError(Exception):
    """The copy cannot start or go on; the message is one line naming the fix."""


@dataclass
class CopyReport:
    rows: int = 0
    bodies: int = 0
    body_bytes: int = 0
    resumed: bool = False
    deleted: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    namespaces: int = 0
    mismatches: list[str] = field(default_factory=list)
    skipped_tables: list[str] = field(default_factory=list)


async def copy(
    source_url: str,
    source_blobs: BlobStore,
    target_url: str,
    target_blobs: BlobStore,
    *,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> CopyReport:
    progress = progress or Quiet()
    report = CopyReport()
    loader = await open_loader(target_url)
    try:
        async with holding_deletes(source_blobs):
            snapshot = await open_snapshot(source_url)
            try:
                await _pass(snapshot, source_blobs, loader, target_blobs, report, progress, batch)
                target = await open_snapshot(target_url)
                try:
                    await _verify(snapshot, source_blobs, target, target_blobs, report, progress)
                finally:
                    await target.close()
            finally:
                await snapshot.close()
        async with loader.transaction():
            await loader.clear_progress()
    finally:
        await loader.close()
    progress.finish()
    return report


async def _org_id(snapshot: Snapshot) -> str:
    async for rows in snapshot.rows(TABLES[0], ["id"], None, 1):
        return str(rows[0][0])
    raise CopyError("the source database has no organisation row; is it a cubby database?")


async def _pass(
    snapshot: Snapshot,
    source_blobs: BlobStore,
    loader: Loader,
    target_blobs: BlobStore,
    report: CopyReport,
    progress: Progress,
    batch: int,
) -> None:
    report.skipped_tables = await uncovered_tables(snapshot)
    org_id = await _org_id(snapshot)
    state = await loader.get_progress()
    if state.get(SOURCE) not in (None, org_id):
        raise CopyError(
            "the target holds a copy of another installation; copy into an empty database"
        )
    if SOURCE not in state:
        busy = await loader.nonempty()
        if busy:
            raise CopyError(
                f"the target database holds data ({', '.join(busy)}) that no `cubby copy` "
                "from this installation put there; copy into an empty database"
            )
        async with loader.transaction():
            await loader.set_progress(SOURCE, org_id)
    marks = {k[6:]: v for k, v in state.items() if k.startswith("table:")}
    report.resumed = bool(marks)
    if not marks:
        report.deleted = await _delete_missing(snapshot, loader)
    held = {key async for key, _ in target_blobs.list_keys("") if not key.startswith(_HOLD_PREFIX)}
    counts = {t.name: await snapshot.count(t.name) for t in TABLES}
    progress.start("copy", sum(counts.values()), 0)
    for table in TABLES:
        mark = marks.get(table.name)
        if mark == "done":
            progress.advance(counts[table.name])
            continue
        after = tuple(msgspec.json.decode(mark)) if mark else None
        await _copy_table(
            snapshot, source_blobs, loader, target_blobs, table, after, held, report, progress,
            batch,
        )  # fmt: skip
        async with loader.transaction():
            await loader.set_progress("table:" + table.name, "done")
    async with loader.transaction():
        await loader.finish()


async def _delete_missing(snapshot: Snapshot, loader: Loader) -> int:
    deleted = 0
    for table in reversed(TABLES):
        if table.singleton:
            continue
        keep: set[Row] = set()
        async for rows in snapshot.rows(table, list(table.key), None, 5000):
            keep.update(rows)
        async with loader.transaction():
            deleted += await loader.delete_missing(table, keep)
    return deleted


async def _copy_table(
    snapshot: Snapshot,
    source_blobs: BlobStore,
    loader: Loader,
    target_blobs: BlobStore,
    table: TableSpec,
    after: Row | None,
    held: set[str],
    report: CopyReport,
    progress: Progress,
    batch: int,
) -> None:
    columns = await columns_of(snapshot, table)
    target = {name for name, _ in await loader.columns(table.name)}
    extra = [name for name, _ in columns if name not in target]
    if extra:
        raise CopyError(
            f"the target's table {table.name} lacks columns ({', '.join(extra)}); "
            "run the same cubby version on both sides"
        )
    names = [name for name, _ in columns]
    key_at = key_of(table, columns)
    blob_at = names.index(table.blob_column) if table.blob_column else None
    if table.singleton:
        after = None
    async for rows in snapshot.rows(table, names, after, batch):
        size = 0
        if blob_at is not None:
            for row in rows:
                key = row[blob_at]
                if key is None or key in held:
                    continue
                size += await _copy_body(source_blobs, target_blobs, key)
                held.add(key)
                report.bodies += 1
        report.body_bytes += size
        last = [rows[-1][i] for i in key_at]
        async with loader.transaction():
            await loader.upsert(table, columns, rows)
            await loader.set_progress("table:" + table.name, msgspec.json.encode(last).decode())
        report.rows += len(rows)
        report.tables[table.name] = report.tables.get(table.name, 0) + len(rows)
        progress.advance(len(rows), size)


async def _read(blobs: BlobStore, key: str) -> bytes:
    reader = await blobs.open(key)
    return b"".join([chunk async for chunk in reader.chunks()])


async def _copy_body(source: BlobStore, target: BlobStore, key: str) -> int:
    try:
        data = await _read(source, key)
    except BlobNotFound:
        raise CopyError(
            f"the body {key} that a file row names is missing from the source file store"
        ) from None
    await target.put(key, data)
    return len(data)


async def _verify(
    source: Snapshot,
    source_blobs: BlobStore,
    target: Snapshot,
    target_blobs: BlobStore,
    report: CopyReport,
    progress: Progress,
) -> None:
    """Tables equal (rows, checksum); every target body matches its row, per namespace."""
    progress.start("verify", len(TABLES), 0)
    for table in TABLES:
        ours = {name for name, _ in await columns_of(target, table)}
        names = [name for name, _ in await columns_of(source, table) if name in ours]
        want = await table_sum(source, table, names)
        got = await table_sum(target, table, names)
        if (want.rows, want.total) != (got.rows, got.total):
            report.mismatches.append(
                f"table {table.name}: source {want.rows} rows, target {got.rows} rows"
                + ("" if want.rows != got.rows else ", values differ")
            )
        progress.advance(1)
    files = next(t for t in TABLES if t.blob_column)
    names = ["workspace_id", "ns", "path", "size", "etag", files.blob_column or ""]
    per_ns: dict[tuple[Any, Any], list[int]] = defaultdict(lambda: [0, 0])
    async for rows in target.rows(files, names, None, BATCH):
        for ws, ns, path, size, etag, key in rows:
            per_ns[(ws, ns)][0] += 1
            per_ns[(ws, ns)][1] += size
            if key is None:
                continue
            try:
                data = await _read(target_blobs, key)
            except BlobNotFound:
                report.mismatches.append(f"file {path!r} in {ws}/{ns}: body {key} missing")
                continue
            if len(data) == size and etag_of(data) == etag:
                continue
            original = await _read(source_blobs, key)
            if hashlib.sha256(original).digest() != hashlib.sha256(data).digest():
                report.mismatches.append(f"file {path!r} in {ws}/{ns}: body {key} differs")
    report.namespaces = len(per_ns)
