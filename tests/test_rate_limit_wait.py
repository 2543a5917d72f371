"""The rate limiter's queue (issue 25, acceptance 3): a request whose token comes within
MAX_WAIT waits for it in line instead of being refused, one lease at a time; a request whose
token is further away is refused at once. The shared bucket here is an in-memory twin of the
database's (the real one is exercised by tests/test_limits_rate.py through two processes)."""

from __future__ import annotations

import asyncio
import time

import pytest

from cubby.core import rate_limit
from cubby.core.limit_values import Limits
from cubby.core.rate_limit import RateLimiter
from cubby.errors import RateLimited


class SharedBucket:
    """A token bucket as ``LimitStore.lease`` keeps it: grants what it holds, up to ``want``."""

    def __init__(self) -> None:
        self.tokens: float | None = None
        self.at = 0.0
        self.leases = 0

    async def lease(
        self, _ws: str, want: int, rate: float, burst: int, now: float
    ) -> tuple[int, float]:
        self.leases += 1
        if self.tokens is None:
            self.tokens, self.at = float(burst), now
        self.tokens = min(float(burst), self.tokens + (now - self.at) * rate)
        self.at = now
        granted = min(want, int(self.tokens))
        self.tokens -= granted
        return granted, self.tokens


def limiter(rate: float, burst: int) -> tuple[RateLimiter, SharedBucket]:
    shared = SharedBucket()

    async def limits_of(_ws: str) -> Limits:
        return Limits(requests_per_second=rate, burst=burst)

    return RateLimiter(limits_of, shared.lease), shared


async def admitted(limiter: RateLimiter, n: int) -> tuple[int, list[RateLimited]]:
    outcomes = await asyncio.gather(
        *(limiter.admit("ws") for _ in range(n)), return_exceptions=True
    )
    refusals = [o for o in outcomes if isinstance(o, RateLimited)]
    assert all(o is None or isinstance(o, RateLimited) for o in outcomes), outcomes
    return n - len(refusals), refusals


def test_a_request_whose_token_comes_soon_waits_for_it() -> None:
    limits, shared = limiter(rate=50, burst=2)

    async def scenario() -> tuple[int, list[RateLimited], float]:
        started = time.monotonic()
        ok, refused = await admitted(limits, 6)  # 2 at once, then one every 20 ms
        return ok, refused, time.monotonic() - started

    ok, refused, took = asyncio.run(scenario())
    assert (ok, refused) == (6, [])
    assert 0.07 <= took <= rate_limit.MAX_WAIT + 0.3, took
    assert shared.leases < 12  # queued requests share leases; none spins


def test_a_request_past_the_wait_is_refused_with_retry_after() -> None:
    limits, _ = limiter(rate=50, burst=2)

    async def scenario() -> tuple[int, list[RateLimited]]:
        # 2 + 50 x 0.25 s = 14.5 tokens within the wait: the rest are refused, none waits longer
        started = time.monotonic()
        result = await admitted(limits, 40)
        assert time.monotonic() - started <= rate_limit.MAX_WAIT + 0.3
        return result

    ok, refused = asyncio.run(scenario())
    assert 10 <= ok <= 18, ok
    assert len(refused) == 40 - ok
    for refusal in refused:
        assert refusal.status == 429 and refusal.code == "RATE_LIMITED"
        assert refusal.headers["Retry-After"] == "1"


def test_a_slow_rate_refuses_at_once() -> None:
    limits, _ = limiter(rate=1, burst=1)

    async def scenario() -> tuple[int, list[RateLimited], float]:
        await limits.admit("ws")  # the burst
        started = time.monotonic()
        ok, refused = await admitted(limits, 3)  # the next token is a second away
        return ok, refused, time.monotonic() - started

    ok, refused, took = asyncio.run(scenario())
    assert ok == 0 and len(refused) == 3
    assert took < 0.05, took


def test_the_line_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "MAX_WAITERS", 3)
    limits, _ = limiter(rate=40, burst=1)

    async def scenario() -> tuple[int, list[RateLimited]]:
        await limits.admit("ws")
        # one leases, 3 wait in line behind it (a token each 25 ms), 6 are refused at once
        return await admitted(limits, 10)

    ok, refused = asyncio.run(scenario())
    assert ok == 4 and len(refused) == 6
