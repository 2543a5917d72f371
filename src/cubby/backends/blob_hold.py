"""Holds: no body is deleted while a backup or copy reads a snapshot.

A backup takes its rows from one database snapshot and then fetches the bodies those rows name.
Bodies are immutable per key, but a key is deleted right after an overwrite commits (and by
deletes, erasures, expiry and the orphan sweep): without a hold, a body the snapshot still
names could vanish before the backup reads it.

A hold is an object ``cubby-backup-hold/<id>`` in the blob store itself, so every process
using that store sees it, whatever the database. While any hold younger than
:data:`HOLD_TTL_SECONDS` exists, :meth:`HoldCheck.held` is true and the blob store skips
deletes (the bodies become orphans that the orphan sweep drops after the hold). The holder
rewrites its object every :data:`REFRESH_SECONDS`, so a holder that was killed stops holding
after at most the TTL.

Each process looks at the holds at most once per :data:`CHECK_SECONDS`. The holder waits
:data:`SETTLE_SECONDS` after writing its hold before it opens its snapshot: a delete that
trusted an older look then belongs to an overwrite that committed before the snapshot, so its
body is not the snapshot's.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import obstore

from cubby.core.models import new_id

HOLD_PREFIX = "cubby-backup-hold/"
HOLD_TTL_SECONDS = 120.0
REFRESH_SECONDS = 30.0
CHECK_SECONDS = 1.0
SETTLE_SECONDS = CHECK_SECONDS + 0.5


class HoldCheck:
    """Whether deletes are held, for one blob store (called on its I/O threads)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._checked = -math.inf
        self._held = False

    def held(self) -> bool:
        with self._lock:
            started = time.monotonic()
            if started - self._checked < CHECK_SECONDS:
                return self._held
            now = time.time()
            held = False
            for batch in obstore.list(self._store, prefix=HOLD_PREFIX):
                for meta in batch:
                    if now - meta["last_modified"].timestamp() < HOLD_TTL_SECONDS:
                        held = True
            self._held, self._checked = held, started
            return held

    def take(self) -> str:
        """Write a new hold; returns its key (refresh it, then release it)."""
        key = HOLD_PREFIX + new_id()
        self.refresh(key)
        return key

    def refresh(self, key: str) -> None:
        obstore.put(self._store, key, str(time.time()).encode())

    def release(self, key: str) -> None:
        obstore.delete(self._store, key)
