"""The per-process composition of backends and helpers that handlers and actions use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cubby.auth import Authenticator
from cubby.backends.base import MetaStore
from cubby.backends.blobs import BlobStore
from cubby.core.integration_cache import IntegrationCache
from cubby.core.limit_values import Limits, defaults_from, merged
from cubby.core.rate_limit import RateLimiter
from cubby.core.registry import Registry
from cubby.mcp.tokens import TokenAuthenticator
from cubby.mcp.tool_cache import ToolCache
from cubby.settings import Settings


@dataclass
class Services:
    settings: Settings
    meta: MetaStore
    blobs: BlobStore
    registry: Registry
    auth: Authenticator
    integrations: IntegrationCache = field(init=False)
    mcp_tokens: TokenAuthenticator = field(init=False)
    mcp_tools: ToolCache[Any] = field(init=False)  # each MCP server's tools (mcp/tools.py)
    rate_limiter: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.integrations = IntegrationCache(
            self.meta.integrations, self.settings.key_cache_seconds
        )
        self.mcp_tokens = TokenAuthenticator(self.meta.mcp, self.settings.key_cache_seconds)
        self.mcp_tools = ToolCache(self.settings.key_cache_seconds)
        self.integrations.on_invalidate.append(self.mcp_tools.forget_workspace)
        self.rate_limiter = RateLimiter(
            self.effective_limits, self.meta.limits.lease, self.settings.key_cache_seconds
        )

    async def effective_limits(self, workspace_id: str) -> Limits:
        """The workspace's own limits where set, else the server-wide defaults."""
        own = await self.meta.limits.get_limits(workspace_id)
        return merged(own, defaults_from(self.settings))

    def close(self) -> None:
        self.meta.close()
        self.blobs.close()
