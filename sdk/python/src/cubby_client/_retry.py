"""When to retry and how long to wait: pure decisions shared by the sync and async clients.

* 429 is retried for every method: the server refused the request before doing anything.
* 5xx (and 408) are retried only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE): a
  POST that failed half-way may have run, and running it twice is not ours to decide.
* Transport errors are retried for idempotent methods, and for any method when the request
  provably never left (connect errors, connect and pool timeouts).
* A request marked ``retry_safe`` (an execute carrying an ``idempotencyKey``: the server runs
  it at most once) counts as idempotent, and its 409 ``IDEMPOTENCY_IN_PROGRESS`` (the first
  attempt is still running) is retried too.
* The wait is ``Retry-After`` when the server sends one (seconds or an HTTP date, capped at
  ``max_retry_after``), else exponential backoff from ``initial_delay`` doubling up to
  ``max_delay``, minus up to 25% random jitter so many clients do not retry in lockstep.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_IN_PROGRESS = b'"IDEMPOTENCY_IN_PROGRESS"'


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Retry decisions for one client. ``attempt`` counts retries already made (0 at first)."""

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def after_response(
        self, method: str, response: httpx.Response, attempt: int, retry_safe: bool = False
    ) -> float | None:
        """Seconds to wait before retrying this response, or None to return/raise it."""
        if attempt >= self.max_retries:
            return None
        status = response.status_code
        idempotent = retry_safe or method.upper() in IDEMPOTENT_METHODS
        if status == 429 or (idempotent and (status >= 500 or status == 408)):
            return self.delay(attempt, response.headers.get("retry-after"))
        if retry_safe and status == 409 and _IN_PROGRESS in response.content:
            return self.delay(attempt, response.headers.get("retry-after"))
        return None

    def after_error(
        self, method: str, error: httpx.TransportError, attempt: int, retry_safe: bool = False
    ) -> float | None:
        """Seconds to wait before retrying after a transport error, or None to raise it."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, _NEVER_SENT) or retry_safe or method.upper() in IDEMPOTENT_METHODS:
            return self.delay(attempt, None)
        return None

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """The wait before retry number ``attempt + 1``."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.max_retry_after)
        backoff = min(self.max_delay, self.initial_delay * 2.0**attempt)
        return backoff * (1 - 0.25 * random.random())
