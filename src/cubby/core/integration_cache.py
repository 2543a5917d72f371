"""A per-process cache of the execute lookup (workspace exists + its integrations of a name).

Only answers that name at least one integration are cached, for the same few seconds an API key
is trusted (``CUBBY_KEY_CACHE_SECONDS``). Changes made through this process drop the workspace's
entries at once; other processes pick them up when the entry expires. Not caching "no such
workspace" and "no integration yet" means a workspace or integration created anywhere is used
by the very next call everywhere. Likewise a cached answer that lacks what the call names (an
alias or id created in another process since) is a miss: ``wanted`` says so, and the database
answers (issue 16: such a call failed for up to the cache window).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cubby.backends.base import IntegrationStore
from cubby.core.models import WorkspaceIntegration

MAX_ENTRIES = 10_000


class IntegrationCache:
    def __init__(self, store: IntegrationStore, ttl_seconds: float) -> None:
        self.store = store
        self.ttl = ttl_seconds
        self._entries: dict[tuple[str, str], tuple[float, list[WorkspaceIntegration]]] = {}
        # Called with the workspace id on every invalidate (caches built on top of this one).
        self.on_invalidate: list[Callable[[str], None]] = []

    async def for_execute(
        self,
        workspace_id: str,
        integration_name: str,
        wanted: Callable[[list[WorkspaceIntegration]], bool] | None = None,
    ) -> tuple[bool, list[WorkspaceIntegration]]:
        """Does the workspace exist, and its integrations of that name. A cached list for which
        ``wanted`` is false is not used: the database is asked (and the cache refreshed)."""
        key = (workspace_id, integration_name)
        hit = self._entries.get(key)
        if (
            hit is not None
            and time.monotonic() - hit[0] < self.ttl
            and (wanted is None or wanted(hit[1]))
        ):
            return True, hit[1]
        exists, candidates = await self.store.for_execute(workspace_id, integration_name)
        if exists and candidates and self.ttl > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), candidates)
        return exists, candidates

    def invalidate(self, workspace_id: str) -> None:
        """Forget a workspace's entries after changing its integrations here."""
        for key in [k for k in self._entries if k[0] == workspace_id]:
            del self._entries[key]
        for listener in self.on_invalidate:
            listener(workspace_id)
