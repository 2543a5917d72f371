"""Backup, verify and restore a whole installation (API.md, "Backup, restore, moving and
exporting data").

A backup is one point in time: the rows come from one database snapshot (SQLite: one read
transaction; PostgreSQL: one REPEATABLE READ transaction), and the bodies are those the
snapshot's rows name, fetched by their keys. Bodies are immutable per key, so a file replaced
after the snapshot does not change the body the backup reads; deletes of bodies are held for
the length of the backup (:func:`cubby.core.dataset.holding_deletes`), so the old body is still
there to read. The server keeps serving throughout.

A restore checks the whole archive first (every checksum), refuses a target that holds data,
writes the bodies, then loads every table in one transaction: a failure leaves the database
empty and removes the bodies it wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from cubby.backends.blobs import BlobNotFound, BlobStore
from cubby.backends.snapshot import TABLES, SnapshotError, spec
from cubby.backends.snapshots import open_loader, open_snapshot
from cubby.core.archive import (
    FORMAT,
    MANIFEST,
    SECRET,
    VERSION,
    Archive,
    ArchiveError,
    FolderSink,
    Sink,
    TarSink,
    body_member,
    columns_of,
    decode_row,
    encode_row,
    sha256_of,
    table_member,
)
from cubby.core.dataset import BATCH, Progress, Quiet, holding_deletes, uncovered_tables
from cubby.core.dataset import columns_of as source_columns
from cubby.core.models import utc_now


class BackupError(Exception):
    """Backup or restore cannot go on; the message is one line naming the fix."""


@dataclass
class Summary:
    tables: dict[str, int] = field(default_factory=dict)
    bodies: int = 0
    body_bytes: int = 0
    skipped_tables: list[str] = field(default_factory=list)


def is_tar(dest: Path) -> bool:
    return dest.suffix == ".tar"


async def backup(
    database_url: str,
    blobs: BlobStore,
    dest: Path,
    *,
    secret_file: Path | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Write a backup of the installation to ``dest`` (a ``.tar`` file, else a folder)."""
    progress = progress or Quiet()
    if dest.exists() and (dest.is_file() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not empty; name a new folder or .tar file")
    summary = Summary()
    work = Path(tempfile.mkdtemp(prefix=".cubby-backup-", dir=dest.parent))
    tar = work / "backup.tar"
    sink: Sink = TarSink(open(tar, "wb")) if is_tar(dest) else FolderSink(work)  # noqa: SIM115
    try:
        async with holding_deletes(blobs):
            snapshot = await open_snapshot(database_url)
            try:
                manifest = await _write(snapshot, blobs, sink, work, summary, progress)
            finally:
                await snapshot.close()
        if secret_file is not None and secret_file.is_file():
            sink.add(SECRET, secret_file.read_bytes())
            manifest["secretKey"] = True
        sink.add(MANIFEST, msgspec.json.format(msgspec.json.encode(manifest)))
        sink.close()
        if is_tar(dest):
            os.replace(tar, dest)
        else:
            _drop_tree(work / "_tables")
            os.replace(work, dest)
    finally:
        if work.exists():
            _drop_tree(work)
    progress.finish()
    return summary


async def _write(
    snapshot: Any,
    blobs: BlobStore,
    sink: Sink,
    work: Path,
    summary: Summary,
    progress: Progress,
) -> dict[str, Any]:
    summary.skipped_tables = await uncovered_tables(snapshot)
    tables: list[dict[str, Any]] = []
    blob_keys: list[str] = []
    counts = {t.name: await snapshot.count(t.name) for t in TABLES}
    progress.start("rows", sum(counts.values()), 0)
    staged = work / "_tables"
    staged.mkdir()
    for table in TABLES:
        columns = await source_columns(snapshot, table)
        names = [n for n, _ in columns]
        kinds = [k for _, k in columns]
        blob_at = names.index(table.blob_column) if table.blob_column else None
        rows = 0
        digest = hashlib.sha256()
        path = staged / f"{table.name}.jsonl"
        with open(path, "wb") as out:
            async for batch in snapshot.rows(table, names, None, BATCH):
                for row in batch:
                    line = encode_row(row, kinds)
                    digest.update(line)
                    out.write(line)
                    if blob_at is not None and row[blob_at] is not None:
                        blob_keys.append(row[blob_at])
                rows += len(batch)
                progress.advance(len(batch))
        _add_file(sink, table_member(table.name), path)
        summary.tables[table.name] = rows
        tables.append(
            {
                "name": table.name,
                "columns": [[n, k] for n, k in columns],
                "rows": rows,
                "sha256": digest.hexdigest(),
            }
        )
    bodies = []
    progress.start("bodies", len(blob_keys), 0)
    for key in blob_keys:
        try:
            reader = await blobs.open(key)
        except BlobNotFound:
            raise BackupError(
                f"the body {key} that a file row names is missing from the file store; "
                "run `cubby backup --verify` on an earlier backup, and check the file store"
            ) from None
        digest = hashlib.sha256()
        sink.begin(body_member(key), reader.size)
        async for chunk in reader.chunks():
            digest.update(chunk)
            sink.write(chunk)
            progress.advance(0, len(chunk))
        sink.end()
        progress.advance(1)
        bodies.append({"key": key, "size": reader.size, "sha256": digest.hexdigest()})
        summary.bodies += 1
        summary.body_bytes += reader.size
    return {
        "format": FORMAT,
        "version": VERSION,
        "createdAt": utc_now(),
        "source": snapshot.kind,
        "tables": tables,
        "bodies": bodies,
        "skippedTables": summary.skipped_tables,
    }


def _add_file(sink: Sink, name: str, path: Path) -> None:
    sink.begin(name, path.stat().st_size)
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            sink.write(chunk)
    sink.end()


def _drop_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# -- verify -----------------------------------------------------------------------------------
def verify(archive: Archive, progress: Progress | None = None) -> dict[str, Any]:
    """Check every member against the manifest (row counts, SHA-256 of tables and bodies, every
    body a row names present); returns the manifest. Raises :class:`ArchiveError`."""
    progress = progress or Quiet()
    manifest = archive.manifest()
    names = [t.name for t in TABLES]
    listed = {entry.get("name") for entry in manifest["tables"] if isinstance(entry, dict)}
    missing = [n for n in names if n not in listed]
    if missing:
        raise ArchiveError(f"the manifest lists no table {missing[0]!r}")
    bodies = {}
    for entry in manifest["bodies"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ArchiveError("the manifest holds a body entry without a key")
        body_member(entry["key"])  # a key that is no blob key (a path trick) fails here
        bodies[entry["key"]] = entry
    named: set[str] = set()
    progress.start("tables", sum(int(e.get("rows", 0) or 0) for e in manifest["tables"]), 0)
    for entry in manifest["tables"]:
        name = entry.get("name")
        if name not in names:
            continue  # a table of a newer cubby: restore refuses it, verify reports it below
        member = table_member(name)
        columns = columns_of(entry)
        kinds = [k for _, k in columns]
        table = spec(name)
        blob_at = [c[0] for c in columns].index(table.blob_column) if table.blob_column else None
        digest = hashlib.sha256()
        rows = 0
        for line in archive.lines(member):
            digest.update(line)
            row = decode_row(line, kinds)
            rows += 1
            if blob_at is not None and row[blob_at] is not None:
                named.add(row[blob_at])
        progress.advance(rows)
        if rows != entry.get("rows"):
            raise ArchiveError(
                f"{member} holds {rows} rows but the manifest says {entry.get('rows')}"
            )
        if digest.hexdigest() != entry.get("sha256"):
            raise ArchiveError(f"{member} does not match its SHA-256 in the manifest")
    unknown = sorted(str(n) for n in listed if n not in names)
    if unknown:
        raise ArchiveError(
            f"the backup holds tables this cubby does not know ({', '.join(unknown)}); "
            "restore it with the cubby version that made it"
        )
    lacking = sorted(named - bodies.keys())
    if lacking:
        raise ArchiveError(f"a file row names the body {lacking[0]} that the manifest lacks")
    progress.start("bodies", len(bodies), sum(int(e.get("size", 0) or 0) for e in bodies.values()))
    for key, entry in bodies.items():
        member = body_member(key)
        checksum, size = sha256_of(archive.chunks(member))
        if size != entry.get("size") or checksum != entry.get("sha256"):
            raise ArchiveError(f"the body {member} does not match its size or SHA-256")
        progress.advance(1, size)
    progress.finish()
    return manifest


# -- restore ----------------------------------------------------------------------------------
async def restore(
    archive: Archive,
    database_url: str,
    blobs: BlobStore,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load a verified archive into an empty database and file store; all or nothing."""
    progress = progress or Quiet()
    loader = await open_loader(database_url)
    written: list[str] = []
    try:
        busy = await loader.nonempty()
        if busy:
            raise BackupError(
                f"the target database holds data ({', '.join(busy)}); restore only into an "
                "empty database or data dir"
            )
        async for key, _ in blobs.list_keys(""):
            if not key.startswith("cubby-backup-hold/"):
                raise BackupError(
                    f"the target file store holds bodies already ({key}); restore only into "
                    "an empty one"
                )
        manifest = verify(archive, progress)
        progress.start("bodies", len(manifest["bodies"]), 0)
        for entry in manifest["bodies"]:
            data = b"".join(archive.chunks(body_member(entry["key"])))
            await blobs.put(entry["key"], data)
            written.append(entry["key"])
            progress.advance(1, len(data))
        entries = {e["name"]: e for e in manifest["tables"]}
        progress.start("rows", sum(int(e["rows"]) for e in entries.values()), 0)
        async with loader.transaction():
            for table in TABLES:
                entry = entries[table.name]
                columns = [c for c in columns_of(entry) if c[0] not in table.ignore]
                kept = [i for i, c in enumerate(columns_of(entry)) if c[0] not in table.ignore]
                target = {name for name, _ in await loader.columns(table.name)}
                extra = [name for name, _ in columns if name not in target]
                if extra:
                    raise BackupError(
                        f"the backup's table {table.name} has columns this database lacks "
                        f"({', '.join(extra)}); restore with the cubby version that made it"
                    )
                kinds = [k for _, k in columns_of(entry)]
                batch = []
                for line in archive.lines(table_member(table.name)):
                    row = decode_row(line, kinds)
                    batch.append(tuple(row[i] for i in kept))
                    if len(batch) >= BATCH:
                        await loader.upsert(table, columns, batch)
                        progress.advance(len(batch))
                        batch = []
                if batch or table.singleton:
                    await loader.upsert(table, columns, batch)
                    progress.advance(len(batch))
            await loader.finish()
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):
                await blobs.delete(key)
        raise
    finally:
        await loader.close()
    progress.finish()
    return manifest


def restore_secret(archive: Archive, secret_file: Path) -> bool:
    """Put the backup's server secret into the data dir (signed download URLs keep working);
    an existing secret file is left alone. True when written."""
    if not archive.exists(SECRET) or secret_file.exists():
        return False
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(archive.read(SECRET))
    return True


__all__ = [
    "ArchiveError",
    "BackupError",
    "SnapshotError",
    "Summary",
    "backup",
    "restore",
    "restore_secret",
    "verify",
]
