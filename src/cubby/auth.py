"""API keys: format, hashing, the per-process lookup cache and permission checks.

Keys look like ``cby_<43 url-safe chars>``; only their SHA-256 is stored (they are random, so a
slow hash adds nothing). Each process caches a verified key for ``key_cache_seconds`` and then
asks the database again, so a key revoked anywhere is refused everywhere within that time; the
process that revokes it drops it at once. ``lastUsedAt`` is written in a batch every
``LAST_USED_FLUSH_SECONDS``, never on the request path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from cubby.backends.base import ApiKeyStore, StoredKey
from cubby.core.models import ApiKey
from cubby.errors import Forbidden, ScopeDenied, Unauthenticated

KEY_PREFIX = "cby_"
LAST_USED_FLUSH_SECONDS = 30.0


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key and what it may touch."""

    key: ApiKey

    @property
    def org_wide(self) -> bool:
        perms = self.key.permissions
        return perms is None or perms.org_wide

    @property
    def workspace_ids(self) -> list[str] | None:
        """The workspaces a restricted key may touch; None for an organisation-wide key."""
        perms = self.key.permissions
        if perms is None or perms.org_wide:
            return None
        return perms.workspace_ids

    def can_access(self, workspace_id: str) -> bool:
        only = self.workspace_ids
        return only is None or workspace_id in only

    def check_workspace(self, workspace_id: str) -> None:
        if not self.can_access(workspace_id):
            raise ScopeDenied(
                "this API key is restricted to other workspaces",
                details={"workspaceId": workspace_id},
            )

    def require_org_wide(self) -> None:
        if not self.org_wide:
            raise Forbidden("managing API keys needs an organisation-wide key")


@dataclass(frozen=True)
class _CacheEntry:
    fetched: float  # time.monotonic() of the database lookup
    stored: StoredKey | None
    expires: float | None  # expiry as epoch seconds, parsed once per lookup
    principal: Principal | None  # made once per lookup (immutable: every request shares it)


def expiry_epoch(iso: str | None) -> float | None:
    """An ISO-8601 expiry as epoch seconds (None: the key never expires)."""
    if iso is None:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class Authenticator:
    def __init__(self, store: ApiKeyStore, cache_seconds: float) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _CacheEntry] = {}
        self._last_used: dict[str, float] = {}
        self._last_flush = time.monotonic()

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("missing Authorization header; send 'Bearer <api key>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the Authorization header must be 'Bearer <api key>'")
        digest = hash_key(token)
        entry = self._cache.get(digest)
        if entry is None or time.monotonic() - entry.fetched >= self.cache_seconds:
            stored = await self.store.find_by_hash(digest)
            expires = expiry_epoch(stored.key.expires_at) if stored is not None else None
            if len(self._cache) > 10_000:
                self._cache.clear()
            principal = Principal(stored.key) if stored is not None else None
            entry = _CacheEntry(time.monotonic(), stored, expires, principal)
            self._cache[digest] = entry
        stored = entry.stored
        if stored is None or not hmac.compare_digest(stored.key_hash, digest):
            raise Unauthenticated("unknown API key")
        if stored.revoked:
            raise Unauthenticated("this API key has been revoked")
        now = time.time()
        if entry.expires is not None and entry.expires <= now:
            raise Unauthenticated("this API key has expired")
        self._last_used[stored.key.id] = now
        assert entry.principal is not None  # made with ``stored``
        return entry.principal

    def forget(self, key_id: str) -> None:
        """Drop a key from this process's cache (after revoking it here)."""
        for digest, entry in list(self._cache.items()):
            if entry.stored is not None and entry.stored.key.id == key_id:
                del self._cache[digest]

    def last_used(self, key_id: str) -> str | None:
        """This process's not yet recorded lastUsedAt of a key."""
        used = self._last_used.get(key_id)
        return _iso(used) if used is not None else None

    async def flush_last_used(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self._last_used or (not force and now - self._last_flush < LAST_USED_FLUSH_SECONDS):
            return
        pending, self._last_used = self._last_used, {}
        self._last_flush = now
        await self.store.touch({key_id: _iso(at) for key_id, at in pending.items()})
