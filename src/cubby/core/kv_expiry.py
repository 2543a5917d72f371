"""The KV sweeper: deletes the rows of expired keys some time after they expired.

Expired keys already read as missing on every path (the backends compare ``expires_at`` with
:func:`cubby.core.clock.now` in every statement), so the sweep only reclaims space. It works in
bounded batches (each one short writer job or one statement) so it never holds the database
for long, and each process of a deployment may run it: batches skip rows another holds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from cubby.backends.base import KvStore

if TYPE_CHECKING:
    from cubby.services import Services

log = logging.getLogger("cubby.kv")

SWEEP_BATCH = 500
SWEEP_INTERVAL_SECONDS = 60.0
FIRST_SWEEP_DELAY_SECONDS = 5.0
MAX_BATCHES_PER_ROUND = 100


async def sweep_expired(kv: KvStore, batch: int = SWEEP_BATCH) -> int:
    """Delete expired keys (and their list items) batch by batch; returns how many."""
    removed = 0
    for _ in range(MAX_BATCHES_PER_ROUND):
        n = await kv.sweep(batch)
        removed += n
        if n < batch:
            break
        await asyncio.sleep(0)  # let requests run between batches
    if removed:
        log.info("kv sweep removed %d expired keys", removed)
    return removed


async def sweep_forever(services: Services) -> None:
    """Run :func:`sweep_expired` periodically (started by the app's lifespan)."""
    await asyncio.sleep(FIRST_SWEEP_DELAY_SECONDS)
    while True:
        try:
            await sweep_expired(services.meta.kv)
        except Exception:
            log.warning("kv sweep failed; next round retries", exc_info=True)
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
