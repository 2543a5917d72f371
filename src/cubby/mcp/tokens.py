"""MCP tokens: format, hashing and the endpoint's per-process lookup cache.

Tokens look like ``cbm_<43 url-safe chars>`` (API keys are ``cby_...``), and only their SHA-256
is stored, exactly as for API keys (:func:`cubby.auth.hash_key`). A server has one static token
(regenerating it revokes the old one) and any number of end-user access tokens, each bound to an
``endUserId`` with an expiry. Like the API key cache, a verified token is trusted for
``CUBBY_KEY_CACHE_SECONDS`` per process, so a revocation anywhere holds everywhere within that
time; the process that revokes drops its entries at once. Expiry reads :mod:`cubby.core.clock`.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from cubby.auth import Principal, expiry_epoch, hash_key
from cubby.backends.mcp import McpStore
from cubby.core import clock
from cubby.core.mcp_records import TOKEN_PREFIX, McpServer, StoredToken
from cubby.core.models import ApiKey, KeyPermissions
from cubby.errors import Unauthenticated

MAX_CACHE_ENTRIES = 10_000


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Caller:
    """Who calls the MCP endpoint: the server, the token and the end user it acts as."""

    server: McpServer
    token: StoredToken
    principal: Principal

    @property
    def end_user_id(self) -> str | None:
        if self.token.kind == "end_user":
            return self.token.token.end_user_id
        return self.server.end_user_id


def caller_principal(server: McpServer, token: StoredToken) -> Principal:
    """The execute path's principal for an MCP token: a key that reaches only the server's
    workspace, so ``core.execute`` applies the same workspace check as for any API key."""
    key = ApiKey(
        id=f"mcp-token:{token.token.id}",
        org_id=server.org_id,
        name=f"MCP server {server.name}",
        key_prefix=token.token.token_prefix,
        permissions=KeyPermissions(scope="workspace", workspace_ids=[server.workspace_id]),
        last_used_at=None,
        expires_at=token.token.expires_at,
        created_at=token.token.created_at,
    )
    return Principal(key)


@dataclass(frozen=True)
class _Entry:
    fetched: float  # time.monotonic() of the lookup
    caller: Caller | None  # None: no such token; immutable, so every request shares it
    expires: float | None


class TokenAuthenticator:
    def __init__(self, store: McpStore, cache_seconds: float) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _Entry] = {}

    async def authenticate(self, authorization: str | None, server_id: str) -> Caller:
        if not authorization:
            raise Unauthenticated(
                "missing Authorization header; send 'Bearer <MCP server or access token>'"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        digest = hash_key(token)
        entry = self._cache.get(digest)
        if entry is None or time.monotonic() - entry.fetched >= self.cache_seconds:
            found = await self.store.find_token(digest)
            expires = expiry_epoch(found[0].token.expires_at) if found is not None else None
            if len(self._cache) >= MAX_CACHE_ENTRIES:
                self._cache.clear()
            caller = None
            if found is not None:
                caller = Caller(found[1], found[0], caller_principal(found[1], found[0]))
            entry = _Entry(time.monotonic(), caller, expires)
            if self.cache_seconds > 0:
                self._cache[digest] = entry
        caller = entry.caller
        if caller is None:
            raise Unauthenticated("unknown MCP token")
        stored, server = caller.token, caller.server
        # A token of another server is as good as unknown here (its existence is not told).
        if server.id != server_id or not hmac.compare_digest(stored.server_id, server_id):
            raise Unauthenticated("unknown MCP token")
        if stored.revoked:
            raise Unauthenticated("this MCP token has been revoked (or regenerated)")
        if entry.expires is not None and entry.expires <= clock.now():
            raise Unauthenticated("this MCP token has expired")
        return caller

    def forget(self, server_id: str) -> None:
        """Drop a server's tokens from this process's cache (after changing them here)."""
        for digest, entry in list(self._cache.items()):
            if entry.caller is not None and entry.caller.server.id == server_id:
                del self._cache[digest]
