"""Exactly-once execute: an ``idempotencyKey`` runs a write action at most once per workspace.

The rules (API.md, "Beyond the seed"): for :data:`RETENTION_SECONDS` after a call with a key
succeeds, the same key with the same request gets that first answer again (flagged as a replay,
header ``Idempotent-Replayed: true``), with a different request 409 ``IDEMPOTENCY_CONFLICT``;
while the first call still runs, a duplicate waits for it (at most :data:`WAIT_SECONDS`), then
409 ``IDEMPOTENCY_IN_PROGRESS``. Read-only actions ignore the key. A failed action records
nothing (its changes roll back), so the same key may be retried.

Why a crash cannot run an action twice or lose its record: the record is written in the same
database transaction as the action's own changes. The action does not know: the backend's
session (``MetaStore.idempotency.session``) routes every metadata write made inside it into its
transaction (SQLite: one long writer job; PostgreSQL: one connection in BEGIN ... COMMIT), and
work that must follow the commit (dropping replaced file bodies) waits in
:func:`cubby.core.txn.after_commit`. The answer is sent only after that commit.

A duplicate in the same process waits on the first call's in-flight marker; one in another
process (or a race past the marker) loses the claim inside the transaction
(:class:`IdempotencyTaken`), rolls back whatever it wrote, and replays the winner's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from cubby.backends.base import IdempotencyBusy, IdempotencyTaken, MetaStore
from cubby.core import clock, txn
from cubby.errors import IdempotencyConflict, IdempotencyInProgress, ValidationError

log = logging.getLogger(__name__)

RETENTION_SECONDS = 24 * 3600.0
WAIT_SECONDS = 10.0
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"
SWEEP_INTERVAL_SECONDS = 600.0
SWEEP_BATCH = 1000

_encoder = msgspec.json.Encoder()
_canonical = msgspec.json.Encoder(order="sorted")
_inflight: dict[tuple[str, str], asyncio.Event] = {}


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError.for_field(
            "idempotencyKey", f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters"
        )
    return key


def fingerprint(parts: list[Any], raw_input: bytes) -> str:
    """What "the same request" means: the action, its target and its input as JSON values (so
    key order and whitespace do not matter, values do)."""
    digest = hashlib.sha256(_encoder.encode(parts))
    digest.update(b"\0")
    try:
        digest.update(_canonical.encode(msgspec.json.decode(raw_input)))
    except msgspec.DecodeError:
        # Valid JSON msgspec cannot hold as values (a number beyond a double, e.g. 1e400):
        # its exact bytes stand for it. The action's own validation answers it as it does
        # without a key, never a 500 here.
        digest.update(raw_input)
    return digest.hexdigest()


async def run_once(
    meta: MetaStore,
    workspace_id: str,
    key: str,
    fingerprint: str,
    action: Callable[[], Awaitable[Any]],
) -> tuple[msgspec.Raw, bool]:
    """Run ``action`` once for (workspace, key); returns (its encoded output, replayed)."""
    store = meta.idempotency
    slot = (workspace_id, key)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = await store.get(workspace_id, key)
        now = clock.now()
        if record is not None and record.created_at >= now - RETENTION_SECONDS:
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    "this idempotencyKey was already used for a different request",
                    details={"idempotencyKey": key},
                )
            return msgspec.Raw(record.response), True
        running = _inflight.get(slot)
        if running is not None:
            await _wait(running, deadline, key)
            continue
        marker = _inflight[slot] = asyncio.Event()
        try:
            async with txn.deferring() as after:
                try:
                    async with store.session(
                        workspace_id, key, fingerprint, now, now - RETENTION_SECONDS
                    ) as session:
                        output = _encoder.encode(await action())
                        await session.finish(output)
                except IdempotencyTaken:
                    pass  # another process committed it first: replay its answer (loop)
                except IdempotencyBusy:
                    raise _in_progress(key) from None
                else:
                    committed = after
                    break
        finally:
            del _inflight[slot]
            marker.set()
        if time.monotonic() > deadline:
            raise _in_progress(key)
    await txn.run_all(committed)
    return msgspec.Raw(output), False


async def _wait(running: asyncio.Event, deadline: float, key: str) -> None:
    try:
        await asyncio.wait_for(running.wait(), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise _in_progress(key) from None


def _in_progress(key: str) -> IdempotencyInProgress:
    return IdempotencyInProgress(
        "a call with this idempotencyKey is still running; retry later",
        details={"idempotencyKey": key},
    )


async def sweep(meta: MetaStore) -> int:
    """Drop records past retention; returns how many."""
    before = clock.now() - RETENTION_SECONDS
    removed = 0
    while True:
        n = await meta.idempotency.delete_older(before, SWEEP_BATCH)
        removed += n
        if n < SWEEP_BATCH:
            return removed


async def sweep_forever(meta: MetaStore) -> None:
    while True:
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
        try:
            await sweep(meta)
        except Exception:
            log.warning("idempotency sweep failed; next round retries", exc_info=True)
