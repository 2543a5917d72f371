"""Request rate limits per workspace (API.md, "Limits and usage"): a token bucket of size
``burst`` refilled at ``requestsPerSecond``, shared by every process on one database.

Why leases: the bucket lives in one database row (``rate_buckets``), and each process takes
tokens from it in batches of about a tenth of a second's worth (:data:`LEASE_SECONDS`), then
spends them locally with no statement at all. Only every batch-th request of a busy workspace
pays one upsert (:meth:`LimitStore.lease`); a refused lease tells the process how long until
the shared bucket holds a token again. A request whose token comes within :data:`MAX_WAIT`
waits for it in line (as nginx's ``limit_req`` delays a burst), so a client sending a little
too fast is slowed rather than refused, and a flood's connections each hold a request instead
of turning over 429s as fast as they can send; later than that, the request is refused at once
with no database work. The total admitted across processes can never
exceed what the shared bucket hands out (``burst`` + rate x time); what a process leased but did
not spend within :data:`LEASE_TTL` seconds is dropped, so the error is below one batch per
process. Limits themselves are read per workspace at most every ``ttl`` seconds (a change made
through another process applies within that time; through this one, at once).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from cubby import metrics
from cubby.core.limit_values import Limits
from cubby.errors import RateLimited

LEASE_SECONDS = 0.1
LEASE_TTL = 1.0
MAX_WAIT = 0.25  # a request waits this long at most for its token before the 429
MAX_WAITERS = 1_000  # per workspace and process; more are refused at once
_IDLE_FORGET = 300.0  # seconds without a request before a workspace's local state goes


class _Bucket:
    __slots__ = (
        "blocked_until", "burst", "checked", "expires", "lock", "rate", "tokens", "used",
        "waiting",
    )  # fmt: skip

    def __init__(self) -> None:
        self.rate: float | None = None
        self.burst = 1
        self.checked = -math.inf  # when the limits were read
        self.tokens = 0  # leased, not spent yet
        self.expires = 0.0  # when the leased tokens are dropped
        self.blocked_until = 0.0
        self.used = 0.0
        self.waiting = 0  # requests queued for the lease in flight
        self.lock = asyncio.Lock()


LeaseFn = Callable[[str, int, float, int, float], Awaitable[tuple[int, float]]]
LimitsFn = Callable[[str], Awaitable[Limits]]


class RateLimiter:
    """This process's side of every workspace's bucket."""

    def __init__(self, limits_of: LimitsFn, lease: LeaseFn, ttl: float = 2.0) -> None:
        self._limits_of = limits_of  # the effective limits (own or default) of a workspace
        self._lease = lease
        self._ttl = ttl
        self._buckets: dict[str, _Bucket] = {}
        self.refused = 0  # 429s answered by this process (metrics)

    def forget(self, workspace_id: str) -> None:
        """Read the workspace's limits again on its next request (they were just changed)."""
        self._buckets.pop(workspace_id, None)

    async def admit(self, workspace_id: str) -> None:
        """Return once the workspace may make one more request; raise RateLimited if no token
        is to be had within :data:`MAX_WAIT` seconds."""
        now = time.monotonic()
        bucket = self._buckets.get(workspace_id)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._sweep(now)
            bucket = self._buckets[workspace_id] = _Bucket()
        bucket.used = now
        if now - bucket.checked > self._ttl:
            await self._refresh(workspace_id, bucket, now)
        if bucket.rate is None:
            return
        if bucket.tokens > 0 and now < bucket.expires:
            bucket.tokens -= 1
            return
        deadline = now + MAX_WAIT
        if bucket.blocked_until > deadline or bucket.waiting >= MAX_WAITERS:
            raise self._refusal(bucket, bucket.blocked_until - now)
        bucket.waiting += 1
        try:
            # one lease at a time per workspace; the rest queue in order (asyncio.Lock is FIFO)
            async with asyncio.timeout(MAX_WAIT):
                await bucket.lock.acquire()
        except TimeoutError:
            raise self._refusal(bucket, bucket.blocked_until - time.monotonic()) from None
        finally:
            bucket.waiting -= 1
        try:
            await self._take(workspace_id, bucket, deadline)
        finally:
            bucket.lock.release()

    async def _take(self, workspace_id: str, bucket: _Bucket, deadline: float) -> None:
        """With the bucket's lock: spend a leased token, or lease more, waiting for the shared
        bucket to refill while that happens before ``deadline``."""
        assert bucket.rate is not None
        while True:
            now = time.monotonic()
            if bucket.tokens > 0 and now < bucket.expires:
                bucket.tokens -= 1
                return
            if now < bucket.blocked_until:
                if bucket.blocked_until > deadline:
                    raise self._refusal(bucket, bucket.blocked_until - now)
                await asyncio.sleep(bucket.blocked_until - now)
                continue
            rate, burst = bucket.rate, bucket.burst
            # a tenth of a second's worth, or as many as are queued behind this lease (a lease
            # can take a database commit's time; those requests should not each pay one)
            want = min(burst, max(math.ceil(rate * LEASE_SECONDS), bucket.waiting + 1))
            granted, left = await self._lease(workspace_id, want, rate, burst, time.time())
            now = time.monotonic()
            if granted > 0:
                bucket.tokens = granted - 1
                bucket.expires = now + LEASE_TTL
                return
            bucket.blocked_until = now + max(0.0, 1.0 - left) / rate

    def _refusal(self, bucket: _Bucket, wait: float) -> RateLimited:
        self.refused += 1
        metrics.LIMIT_REFUSALS.labels("rate", "requests").inc()
        assert bucket.rate is not None
        return RateLimited.after(bucket.rate, max(1, math.ceil(wait)))

    async def _refresh(self, workspace_id: str, bucket: _Bucket, now: float) -> None:
        limits = await self._limits_of(workspace_id)
        rate = limits.requests_per_second
        burst = limits.burst if limits.burst is not None else max(1, math.ceil(rate or 1))
        if rate != bucket.rate or burst != bucket.burst:
            bucket.tokens = 0
            bucket.blocked_until = 0.0
        bucket.rate, bucket.burst, bucket.checked = rate, burst, now

    def _sweep(self, now: float) -> None:
        for ws, bucket in list(self._buckets.items()):
            if now - bucket.used > _IDLE_FORGET:
                del self._buckets[ws]
