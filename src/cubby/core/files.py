"""Files: metadata rows in the file index, bodies inline in the row or in the blob store.

The ordering that makes overwrites atomic and crashes harmless (DESIGN.md, "Files"):

1. a body larger than ``CUBBY_STORAGE_INLINE_MAX_BYTES`` goes to a *fresh* blob key (durably);
2. the index row is committed, pointing at the new key (or holding the body inline);
3. the replaced body's key is deleted.

A reader resolves path -> row -> body. The row swap is one commit, so a reader gets the old row
or the new one, and each row's body is immutable. The one gap: a reader holding the old row can
find its body deleted by step 3 before it opens it; it then reads the row again and gets the new
file, whole (:data:`MAX_ATTEMPTS`). A crash between 1 and 2, or 2 and 3, leaves only a body no
row points to; :func:`sweep_orphans` deletes such bodies once they are older than the grace
period (``CUBBY_ORPHAN_GRACE_SECONDS``, long enough that no write is still between 1 and 2).

A failed step 2 deletes the new body only when the backend answered that it wrote nothing (a
failed precondition). Any other failure (the database connection dropped, say) has an unknown
outcome: the commit may have landed with only its reply lost, and then the row points at the
new body. The write reads the row back: if it holds the new key, the write is acknowledged;
otherwise the error goes on, and the body, if no row ever points at it, goes to the sweep.

Moves rename the row (the body stays where it is); folder deletes remove rows in bounded batches
and drop their bodies after each batch commits. A file with ``expires_at`` reads as missing once
that passes (the backends filter every read); :func:`sweep_expired` deletes such rows and their
bodies later. Bodies are dropped through :func:`cubby.core.txn.after_commit`, so inside an
exactly-once execute they wait for the transaction that unlinks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from cubby.backends.base import (
    FileIndex,
    FileMissing,
    FilePreconditionFailed,
    FileRecord,
    IdempotencyBusy,
    IdempotencyTaken,
)
from cubby.backends.blobs import BlobNotFound, BlobReader, BlobStore, Span
from cubby.core import clock, txn
from cubby.core.action_services import ActionServices
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace
from cubby.core.validation import off_loop
from cubby.errors import CubbyError, InternalError, QuotaExceeded, Unavailable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
ORPHAN_GRACE_SECONDS = 3600.0  # default of CUBBY_ORPHAN_GRACE_SECONDS
SWEEP_INTERVAL_SECONDS = 3600.0
FIRST_SWEEP_DELAY_SECONDS = 300.0
SWEEP_BATCH = 500
DELETE_BATCH = 500
EXPIRY_SWEEP_INTERVAL_SECONDS = 60.0

# Failures of a file index write that are answers (nothing of it was committed, or the
# surrounding transaction decides), as opposed to ones whose outcome is unknown.
_ANSWERS = (CubbyError, FileMissing, IdempotencyBusy, IdempotencyTaken)


def etag_of(body: bytes) -> str:
    """A strong validator: 128-bit BLAKE2b of the bytes, hex (equal bytes, equal etag)."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


async def write(
    services: ActionServices,
    ns: Namespace,
    path: str,
    body: bytes,
    content_type: str,
    *,
    expires_at: float | None = None,
    if_match: str | None = None,
    if_none_match: bool = False,
) -> FileRecord:
    """Create or atomically replace ``path``; returns the committed record (without body).

    ``if_match`` / ``if_none_match`` are checked in the transaction that writes the row (a
    failed one raises :class:`cubby.backends.base.FilePreconditionFailed` and leaves at most
    an unreferenced body, dropped here or by the sweep).
    """
    now = utc_now()
    etag = await off_loop(etag_of, body, size=len(body))  # hashing releases the GIL there
    record = FileRecord(
        path=path,
        size=len(body),
        content_type=content_type,
        etag=etag,
        created_at=now,
        updated_at=now,
        expires_at=expires_at,
    )
    blobs = services.blobs
    if len(body) <= services.settings.storage_inline_max_bytes:
        record.inline_body = body
    else:
        record.blob_key = blobs.new_key(ns.workspace_id)
        await blobs.put(record.blob_key, body)
    try:
        replaced = await services.meta.files.put(
            ns, record, if_match=if_match, if_none_match=if_none_match
        )
    except (FilePreconditionFailed, QuotaExceeded):
        # The backend checked and wrote nothing (a failed precondition, or a limit the write
        # would pass: migrations/0018): no row points at the new body.
        if record.blob_key is not None:
            with contextlib.suppress(Exception):
                await blobs.delete(record.blob_key)
        raise
    except Exception as exc:
        if isinstance(exc, _ANSWERS) and not isinstance(exc, Unavailable):
            raise  # a definite answer: left to the caller, the body (if any) to the sweep
        # A lost database connection (503) leaves the outcome as unknown as any other failure.
        if record.blob_key is None or not await _landed(services.meta.files, ns, record):
            # Unknown outcome: a row may point at the new body, so it is never deleted here.
            log.warning("file %r in %s: the index write failed; its outcome is unknown", path, ns)
            raise
        # The commit landed, only its reply was lost: the write is acknowledged. The body it
        # replaced (unknown here) is left for the sweep.
        log.warning("file %r in %s: the index commit's reply was lost, but it landed", path, ns)
        replaced = None
    record.inline_body = None
    if replaced is not None and replaced != record.blob_key:
        await _drop(blobs, replaced)
    return record


async def _landed(index: FileIndex, ns: Namespace, record: FileRecord) -> bool:
    """Whether the row at ``record.path`` now points at ``record``'s fresh blob key (only this
    write can have put that key there). An error reading it counts as "not known to have"."""
    try:
        current = await index.get(ns, record.path)
    except Exception:
        log.warning("could not check whether a failed file write landed", exc_info=True)
        return False
    if current is None or current.blob_key != record.blob_key:
        return False
    record.created_at = current.created_at
    return True


async def delete(
    services: ActionServices, ns: Namespace, path: str, *, if_match: str | None = None
) -> bool:
    existed, blob_key = await services.meta.files.delete(ns, path, if_match=if_match)
    if blob_key is not None:
        await _drop(services.blobs, blob_key)
    return existed


async def move(services: ActionServices, ns: Namespace, src: str, dst: str, overwrite: bool) -> str:
    """Rename ``src`` to ``dst`` (one commit, no body copy); returns the file's etag."""
    etag, replaced = await services.meta.files.move(ns, src, dst, overwrite)
    if replaced is not None:
        await _drop(services.blobs, replaced)
    return etag


async def delete_folder(services: ActionServices, ns: Namespace, prefix: str) -> int:
    """Delete every file under ``prefix`` in batches of :data:`DELETE_BATCH` rows (so no
    transaction grows with the folder); returns how many live files went."""
    deleted = 0
    while True:
        rows, live, blob_keys = await services.meta.files.delete_batch(ns, prefix, DELETE_BATCH)
        deleted += live
        await _drop_all(services.blobs, blob_keys)
        if rows < DELETE_BATCH:
            return deleted


async def _drop(blobs: BlobStore, key: str) -> None:
    await _drop_all(blobs, [key])


async def _drop_all(blobs: BlobStore, keys: list[str]) -> None:
    """Delete bodies no row points to any more (after the unlinking commit); a failure only
    leaves work for the orphan sweep."""
    if not keys:
        return

    async def drop() -> None:
        for key in keys:
            try:
                await blobs.delete(key)
            except Exception:
                log.warning("could not delete body %s; the orphan sweep will", key, exc_info=True)

    await txn.after_commit(drop)


async def sweep_expired(services: ActionServices, limit: int = SWEEP_BATCH) -> int:
    """Delete expired file rows (in batches of ``limit``) and their bodies; returns how many."""
    removed = 0
    while True:
        rows, blob_keys = await services.meta.files.delete_expired(clock.now(), limit)
        removed += rows
        await _drop_all(services.blobs, blob_keys)
        if rows < limit:
            break
    if removed:
        log.info("expiry sweep removed %d expired files", removed)
    return removed


@dataclass
class OpenFile:
    """A file ready to serve: its record and either its inline body or an opened blob, whole
    or only the bytes of ``span``."""

    record: FileRecord
    inline: bytes | None = None
    reader: BlobReader | None = None
    span: Span | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.reader is not None:
            async for chunk in self.reader.chunks():
                yield chunk
        elif self.inline:
            yield self.inline


async def open_file(
    services: ActionServices,
    ns: Namespace,
    path: str,
    choose_span: Callable[[FileRecord], Span | None] | None = None,
) -> OpenFile | None:
    """The current file at ``path`` with its body opened, or None if there is none.

    ``choose_span`` picks the bytes to open once the file's record (its size) is known; it may
    raise (e.g. for a range outside the file). None, or no callback: the whole body.
    """
    index = services.meta.files
    missing: str | None = None
    for _ in range(MAX_ATTEMPTS):
        record = await index.get(ns, path)
        if record is None:
            return None
        span = choose_span(record) if choose_span is not None else None
        if record.blob_key is None:
            body = record.inline_body or b""
            inline = body if span is None else body[span[0] : span[1] + 1]
            return OpenFile(record, inline, span=span)
        if record.blob_key == missing:
            break  # the row still points at a body that is gone: not a race, a lost body
        try:
            reader = await services.blobs.open(record.blob_key, span)
        except BlobNotFound:
            missing = record.blob_key  # replaced or deleted after we read the row: look again
            continue
        return OpenFile(record, reader=reader, span=span)
    raise _lost_body(index, ns, path, missing)


async def read(
    services: ActionServices, ns: Namespace, path: str
) -> tuple[FileRecord, bytes] | None:
    """The current file at ``path`` with its whole body, or None."""
    opened = await open_file(services, ns, path)
    if opened is None:
        return None
    if opened.inline is not None:
        return opened.record, opened.inline
    return opened.record, b"".join([chunk async for chunk in opened.chunks()])


def _lost_body(index: FileIndex, ns: Namespace, path: str, key: str | None) -> InternalError:
    log.error("file %r in %s points at body %s, which the blob store does not have", path, ns, key)
    return InternalError("the body of this file is missing from the blob store")


async def sweep_orphans(
    index: FileIndex, blobs: BlobStore, grace_seconds: float = ORPHAN_GRACE_SECONDS
) -> int:
    """Delete bodies no file row points to and older than ``grace_seconds``; returns how many.

    Listing reads the store once; each batch of keys costs one indexed query. Bodies younger
    than the grace period are kept: their write may still be about to commit its row. Staging
    files of local writes cut short by a crash go too.
    """
    cutoff = time.time() - grace_seconds
    removed = 0
    batch: list[str] = []

    async def flush() -> int:
        referenced = await index.referenced_blobs(batch)
        orphans = [key for key in batch if key not in referenced]
        for key in orphans:
            await blobs.delete(key)
        batch.clear()
        return len(orphans)

    async for key, modified in blobs.list_keys():
        if modified <= cutoff:
            batch.append(key)
            if len(batch) >= SWEEP_BATCH:
                removed += await flush()
    if batch:
        removed += await flush()
    removed += await blobs.sweep_staging(cutoff)
    if removed:
        log.info("orphan sweep removed %d unreferenced bodies", removed)
    return removed


async def sweep_expired_forever(services: ActionServices) -> None:
    """Run :func:`sweep_expired` every minute (started by the app's lifespan)."""
    while True:
        await asyncio.sleep(EXPIRY_SWEEP_INTERVAL_SECONDS)
        try:
            await sweep_expired(services)
        except Exception:
            log.warning("expiry sweep failed; next round retries", exc_info=True)


async def sweep_once(services: ActionServices) -> int:
    """One sweep with the configured grace period (``CUBBY_ORPHAN_GRACE_SECONDS``)."""
    return await sweep_orphans(
        services.meta.files, services.blobs, services.settings.orphan_grace_seconds
    )


async def sweep_forever(services: ActionServices) -> None:
    """Run :func:`sweep_once` periodically (started by the app's lifespan)."""
    await asyncio.sleep(FIRST_SWEEP_DELAY_SECONDS)
    while True:
        try:
            await sweep_once(services)
        except Exception:
            log.warning("orphan sweep failed; next round retries", exc_info=True)
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
