"""A per-process cache of each MCP server's tools (``tools/list`` and ``tools/call``).

Building a server's tools reads its overrides and its workspace's integrations and builds every
tool's record: more than the tool call itself costs. The list is kept for the same few seconds
an API key is trusted (``CUBBY_KEY_CACHE_SECONDS``), like the execute lookup
(:class:`cubby.core.integration_cache.IntegrationCache`): changes made through this process (a
workspace's integrations, the server's tool overrides, the server itself) drop the entries at
once; other processes see them when the entry expires. A ``tools/call`` of a name the cached
list lacks asks the database again, so a tool added anywhere is callable at once everywhere.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 10_000


class ToolCache(Generic[T]):
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[float, str, T]] = {}  # server id -> (when, ws, tools)

    def get(self, server_id: str) -> T | None:
        hit = self._entries.get(server_id)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return None
        return hit[2]

    def put(self, server_id: str, workspace_id: str, tools: T) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[server_id] = (time.monotonic(), workspace_id, tools)

    def forget_server(self, server_id: str) -> None:
        self._entries.pop(server_id, None)

    def forget_workspace(self, workspace_id: str) -> None:
        for server_id in [s for s, hit in self._entries.items() if hit[1] == workspace_id]:
            del self._entries[server_id]
