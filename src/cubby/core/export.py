"""Export and import of one scope's data (API.md, "Backup, restore, moving and exporting data").

A scope is an end user's data (every kind, every alias: the ``u:<endUserId>`` namespace of each
data table), one integration's namespace, or a whole workspace. The archive is a tar::

    tables/<table>.jsonl   the scope's rows of each table of each kind (columns in the manifest)
    files/<blob key>       the bodies its file rows name
    manifest.json          format, scope, kinds -> tables (columns, rows, sha256), bodies

A kind of data (``kv``, ``files``, ``memory``, ``scratchpad``, ``thinking``) is the tables of
:data:`~cubby.backends.snapshot.TABLES` marked with that ``kind``: a new kind is one more entry
there (one more JSON Lines file here); its rows must carry ``workspace_id`` and ``ns``. Rows
whose ids the importing database assigns (``fresh_id``) are matched on their ``unique`` key
(merge keeps the id there) and the columns that name them (``refs``) are rewritten to the ids
stored; the agent tools' search documents are rebuilt for the scope after a kind loads.

Export reads one database snapshot, writing the tar to a file (never all in memory). Import
checks the whole archive, then loads each kind in one transaction (all or nothing per kind):
``replace`` first deletes the scope's rows of that kind, ``merge`` upserts over them (a merged
list key gets the archive's items). Bodies are stored under fresh keys before the rows commit;
the bodies of replaced rows are dropped after. Rows are imported into the workspace named by
the request, in the namespaces they were exported from, which must lie inside the scope.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any, Literal, TypeVar

import msgspec

from cubby.auth import Principal
from cubby.backends.blobs import BlobNotFound, BlobStore
from cubby.backends.snapshot import TABLES, Columns, Row, Scope, TableSpec, spec
from cubby.backends.snapshots import open_loader, open_snapshot
from cubby.core import workspaces
from cubby.core.archive import (
    MANIFEST,
    Archive,
    ArchiveError,
    TarSink,
    body_member,
    columns_of,
    decode_row,
    encode_row,
    sha256_of,
    table_member,
)
from cubby.core.dataset import BATCH
from cubby.core.dataset import columns_of as source_columns
from cubby.core.models import utc_now
from cubby.core.scopes import END_USER_PREFIX, end_user_namespace, namespace_for
from cubby.errors import NotFound, ValidationError
from cubby.services import Services

FORMAT = "cubby-export"
VERSION = 1
INTEGRATION_KINDS = {
    "kv-store": "kv",
    "storage": "files",
    "agent-memory": "memory",
    "agent-scratchpad": "scratchpad",
    "sequential-thinking": "thinking",
}
Mode = Literal["merge", "replace"]
T = TypeVar("T")


def kinds() -> dict[str, list[TableSpec]]:
    found: dict[str, list[TableSpec]] = {}
    for table in TABLES:
        if table.kind:
            found.setdefault(table.kind, []).append(table)
    return found


@dataclass(frozen=True)
class Selection:
    scope: Scope
    kinds: tuple[str, ...]
    label: str  # for the manifest and file names: "endUser:alice", "integration:files", ...


def select(
    workspace_id: str,
    end_user_id: str | None,
    alias: str | None,
    integration: tuple[str, dict[str, Any]] | None,
) -> Selection:
    """The scope of an export request; ``integration`` is (integration name, settings) of the
    alias, looked up by the caller (None when there is no alias)."""
    every = tuple(kinds())
    if alias is not None and integration is not None:
        name, settings = integration
        kind = INTEGRATION_KINDS[name]
        persistence = settings.get("persistence") or {}
        if persistence.get("scope", "end_user") == "end_user" and end_user_id is None:
            scope = Scope(workspace_id, END_USER_PREFIX, prefix=True)
        else:
            ns = namespace_for(workspace_id, settings, end_user_id)
            scope = Scope(workspace_id, ns.ns)
        return Selection(scope, (kind,), f"integration:{alias}")
    if end_user_id is not None:
        ns = end_user_namespace(workspace_id, end_user_id)
        return Selection(Scope(workspace_id, ns.ns), every, f"endUser:{end_user_id}")
    return Selection(Scope(workspace_id), every, "workspace")


async def in_thread(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` on a thread with a loop of its own: SQLite snapshot reads and loads are
    blocking calls that must not stall the server's loop."""
    import asyncio

    async def main() -> T:
        return await work()

    return await asyncio.to_thread(asyncio.run, main())


async def check_access(services: Services, principal: Principal, workspace_id: str) -> None:
    """As for execute: the workspace exists and the key may use it (404 / 403)."""
    await workspaces.get(services.meta, principal, workspace_id)


async def selection_for(
    services: Services,
    principal: Principal,
    workspace_id: str,
    end_user_id: str | None,
    alias: str | None,
) -> Selection:
    await check_access(services, principal, workspace_id)
    integration = None
    if alias is not None:
        found = [
            i
            for i in await services.meta.integrations.in_workspace(workspace_id)
            if i.alias == alias
        ]
        if not found:
            raise NotFound(
                f"no integration with alias {alias!r} in this workspace",
                details={"integrationAlias": alias},
            )
        if found[0].integration_name not in INTEGRATION_KINDS:
            raise ValidationError.for_field(
                "integrationAlias",
                f"{alias!r} is a {found[0].integration_name} integration, which keeps no data",
            )
        integration = (found[0].integration_name, found[0].settings)
    return select(workspace_id, end_user_id, alias, integration)


async def export_to_file(services: Services, selection: Selection) -> str:
    """The export as a temporary tar file; the caller removes it."""
    fd, path = tempfile.mkstemp(prefix="cubby-export-", suffix=".tar")
    out = os.fdopen(fd, "wb")
    url = services.settings.resolved_database_url
    try:
        await in_thread(lambda: write_export(url, services.blobs, selection, out))
    except BaseException:
        out.close()
        os.unlink(path)
        raise
    return path


async def import_archive(
    services: Services, workspace_id: str, archive: Archive, mode: Mode
) -> Imported:
    url = services.settings.resolved_database_url
    return await in_thread(lambda: read_import(url, services.blobs, workspace_id, archive, mode))


# -- export -----------------------------------------------------------------------------------
async def write_export(
    database_url: str, blobs: BlobStore, selection: Selection, out: IO[bytes]
) -> dict[str, Any]:
    """Write the selection's data as a tar to ``out`` (closed at the end); returns the manifest."""
    sink = TarSink(out)
    snapshot = await open_snapshot(database_url)
    tables: list[dict[str, Any]] = []
    keys: list[str] = []
    try:
        for kind in selection.kinds:
            for table in kinds()[kind]:
                columns = await source_columns(snapshot, table)
                names = [n for n, _ in columns]
                encode_kinds = [k for _, k in columns]
                blob_at = names.index(table.blob_column) if table.blob_column else None
                digest = hashlib.sha256()
                rows = 0
                with tempfile.TemporaryFile() as staged:
                    async for batch in snapshot.rows(table, names, None, BATCH, selection.scope):
                        for row in batch:
                            line = encode_row(row, encode_kinds)
                            digest.update(line)
                            staged.write(line)
                            if blob_at is not None and row[blob_at] is not None:
                                keys.append(row[blob_at])
                        rows += len(batch)
                    sink.begin(table_member(table.name), staged.tell())
                    staged.seek(0)
                    while chunk := staged.read(1024 * 1024):
                        sink.write(chunk)
                    sink.end()
                tables.append(
                    {
                        "name": table.name,
                        "kind": kind,
                        "columns": [[n, k] for n, k in columns],
                        "rows": rows,
                        "sha256": digest.hexdigest(),
                    }
                )
        bodies = []
        for key in keys:
            try:
                reader = await blobs.open(key)
            except BlobNotFound:
                continue  # replaced after the snapshot without a hold: the row goes without it
            digest = hashlib.sha256()
            sink.begin(body_member(key), reader.size)
            async for chunk in reader.chunks():
                digest.update(chunk)
                sink.write(chunk)
            sink.end()
            bodies.append({"key": key, "size": reader.size, "sha256": digest.hexdigest()})
    finally:
        await snapshot.close()
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "createdAt": utc_now(),
        "scope": {
            "label": selection.label,
            "workspaceId": selection.scope.workspace_id,
            "ns": selection.scope.ns,
            "prefix": selection.scope.prefix,
        },
        "kinds": list(selection.kinds),
        "tables": tables,
        "bodies": bodies,
    }
    sink.add(MANIFEST, msgspec.json.encode(manifest))
    sink.close()
    return manifest


# -- import -----------------------------------------------------------------------------------
@dataclass
class Imported:
    rows: dict[str, int]
    bodies: int


def check(archive: Archive) -> dict[str, Any]:
    """Every member against the manifest; returns the manifest. Raises :class:`ArchiveError`."""
    if not archive.exists(MANIFEST):
        raise ArchiveError("the archive has no manifest.json: not a cubby export, or cut short")
    try:
        manifest = msgspec.json.decode(archive.read(MANIFEST))
    except msgspec.DecodeError:
        raise ArchiveError("the manifest.json of the archive is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"not a cubby export (no {FORMAT} manifest)")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"an export of format version {manifest.get('version')!r}")
    scope = manifest.get("scope")
    if not isinstance(scope, dict) or not isinstance(manifest.get("tables"), list):
        raise ArchiveError("the manifest names no scope or tables")
    if not isinstance(manifest.get("bodies"), list):
        raise ArchiveError("the manifest lists no bodies")
    ns = scope.get("ns")
    if ns is not None and not isinstance(ns, str):
        raise ArchiveError("the manifest's scope is not valid")
    known = kinds()
    bodies = {}
    for entry in manifest["bodies"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise ArchiveError("the manifest holds a body entry without a key")
        body_member(entry["key"])
        bodies[entry["key"]] = entry
    for entry in manifest["tables"]:
        if not isinstance(entry, dict) or entry.get("kind") not in known:
            raise ArchiveError("the manifest names a kind of data this cubby does not know")
        if entry.get("name") not in {t.name for t in known[entry["kind"]]}:
            raise ArchiveError(f"the manifest names an unknown table {entry.get('name')!r}")
        member = table_member(entry["name"])
        digest, rows = hashlib.sha256(), 0
        for line in archive.lines(member):
            digest.update(line)
            rows += 1
        if rows != entry.get("rows"):
            raise ArchiveError(
                f"{member} holds {rows} rows but the manifest says {entry.get('rows')}"
            )
        if digest.hexdigest() != entry.get("sha256"):
            raise ArchiveError(f"{member} does not match its SHA-256 in the manifest")
        columns_of(entry)
    for key, entry in bodies.items():
        checksum, size = sha256_of(archive.chunks(body_member(key)))
        if size != entry.get("size") or checksum != entry.get("sha256"):
            raise ArchiveError(f"the body {body_member(key)} does not match its size or SHA-256")
    return manifest


async def read_import(
    database_url: str, blobs: BlobStore, workspace_id: str, archive: Archive, mode: Mode
) -> Imported:
    manifest = check(archive)
    raw = manifest["scope"]
    scope = Scope(workspace_id, raw.get("ns"), bool(raw.get("prefix")))
    bodies = {e["key"] for e in manifest["bodies"]}
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["tables"]:
        by_kind.setdefault(entry["kind"], []).append(entry)
    done = Imported(rows={}, bodies=0)
    loader = await open_loader(database_url)
    try:
        for kind, entries in by_kind.items():
            await _import_kind(loader, blobs, archive, scope, kind, entries, bodies, mode, done)
    finally:
        await loader.close()
    return done


async def _import_kind(
    loader: Any,
    blobs: BlobStore,
    archive: Archive,
    scope: Scope,
    kind: str,
    entries: list[dict[str, Any]],
    bodies: set[str],
    mode: Mode,
    done: Imported,
) -> None:
    order = {t.name: i for i, t in enumerate(TABLES)}
    entries = sorted(entries, key=lambda e: order[e["name"]])
    loaded: list[tuple[TableSpec, Columns, list[Row]]] = []
    fresh: dict[str, str] = {}  # archive blob key -> the key stored now
    try:
        for entry in entries:
            table = spec(entry["name"])
            columns = columns_of(entry)
            rows = _rows(archive, table, columns, scope, bodies)
            if table.blob_column:
                blob_at = [n for n, _ in columns].index(table.blob_column)
                for row in rows:
                    old = row[blob_at]
                    if old is None:
                        continue
                    new = blobs.new_key(scope.workspace_id)
                    await blobs.put(new, b"".join(archive.chunks(body_member(old))))
                    fresh[old] = new
                rows = [
                    tuple(fresh.get(v, v) if i == blob_at else v for i, v in enumerate(row))
                    for row in rows
                ]
            loaded.append((table, columns, rows))
        dropped: list[str] = []
        parents: set[Row] = set()  # keys of the parent rows merged (a list's items go with it)
        async with loader.transaction():
            if mode == "replace":
                for table in kinds()[kind]:
                    dropped += await loader.delete_scope(table, scope)
            ids: dict[str, dict[Any, int]] = {}  # table -> archive id -> the id stored now
            for table, columns, rows in loaded:
                names = [n for n, _ in columns]
                rows = _mapped(table, names, rows, ids)
                if table.fresh_id and table.unique:
                    id_at = names.index(table.fresh_id)
                    keep = [i for i in range(len(names)) if i != id_at]
                    cols = [columns[i] for i in keep]
                    stored = ids.setdefault(table.name, {})
                    for row in rows:
                        one = tuple(row[i] for i in keep)
                        stored[row[id_at]] = await loader.upsert_returning(table, cols, one)
                    done.rows[table.name] = done.rows.get(table.name, 0) + len(rows)
                    continue
                if mode == "replace":
                    pass
                elif table.owner:
                    owner_at = [names.index(c) for c in table.owner]
                    owners = parents | {tuple(r[i] for i in owner_at) for r in rows}
                    await loader.delete_owned(table, sorted(owners))
                else:
                    key_at = [names.index(c) for c in table.key]
                    keys = [tuple(r[i] for i in key_at) for r in rows]
                    parents.update(keys)
                    dropped += await loader.blobs_of(table, keys)
                if table.fresh_id:
                    keep = [i for i, n in enumerate(names) if n != table.fresh_id]
                    cols = [columns[i] for i in keep]
                    for start in range(0, len(rows), BATCH):
                        part = [tuple(r[i] for i in keep) for r in rows[start : start + BATCH]]
                        await loader.insert(table, cols, part)
                else:
                    for start in range(0, len(rows), BATCH):
                        await loader.upsert(table, columns, rows[start : start + BATCH])
                done.rows[table.name] = done.rows.get(table.name, 0) + len(rows)
            if any(t.derived for t in kinds()[kind]):
                await loader.reindex(scope)
    except BaseException:
        for key in fresh.values():
            with contextlib.suppress(Exception):
                await blobs.delete(key)
        raise
    done.bodies += len(fresh)
    for key in dropped:
        if key not in fresh.values():
            with contextlib.suppress(Exception):
                await blobs.delete(key)


def _mapped(
    table: TableSpec, names: list[str], rows: list[Row], ids: dict[str, dict[Any, int]]
) -> list[Row]:
    """``rows`` with their references to other tables' fresh ids rewritten."""
    if not table.refs:
        return rows
    at = [(names.index(column), ids.get(parent, {})) for column, parent in table.refs]
    mapped = []
    for row in rows:
        values = list(row)
        for i, stored in at:
            if values[i] not in stored:
                raise ArchiveError(f"a row of {table.name} names a row the archive lacks")
            values[i] = stored[values[i]]
        mapped.append(tuple(values))
    return mapped


def _rows(
    archive: Archive, table: TableSpec, columns: Columns, scope: Scope, bodies: set[str]
) -> list[Row]:
    """The archive's rows of ``table``, moved into the target workspace; each must lie in the
    scope and name only bodies the archive holds."""
    names = [n for n, _ in columns]
    for needed in ("workspace_id", "ns", *table.key, *table.owner):
        if needed != table.fresh_id and needed not in names:
            raise ArchiveError(f"the table {table.name} of the archive lacks column {needed!r}")
    ws_at, ns_at = names.index("workspace_id"), names.index("ns")
    blob_at = names.index(table.blob_column) if table.blob_column else None
    kinds_ = [k for _, k in columns]
    rows = []
    for line in archive.lines(table_member(table.name)):
        row = list(decode_row(line, kinds_))
        if not isinstance(row[ns_at], str) or not scope.holds(row[ns_at]):
            raise ArchiveError(f"a row of {table.name} lies outside the export's scope")
        if blob_at is not None and row[blob_at] is not None and row[blob_at] not in bodies:
            raise ArchiveError(f"a row of {table.name} names a body the archive lacks")
        row[ws_at] = scope.workspace_id
        rows.append(tuple(row))
    return rows
