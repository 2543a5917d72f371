"""Work that must wait until an action's changes have committed.

Normally every metadata write commits on its own, so work queued with :func:`after_commit` runs
at once. Inside :func:`deferring` (an exactly-once execute, whose writes share one transaction
with its idempotency record, see :mod:`cubby.core.idempotency`) it waits for that commit, and is
dropped if the transaction rolls back: dropping a replaced body before the commit that unlinks
it would lose the file should the commit fail.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar

Work = Callable[[], Awaitable[None]]

_pending: ContextVar[list[Work] | None] = ContextVar("cubby_after_commit", default=None)


async def after_commit(work: Work) -> None:
    """Run ``work`` now, or after the surrounding :func:`deferring` block commits."""
    pending = _pending.get()
    if pending is None:
        await work()
    else:
        pending.append(work)


@contextlib.asynccontextmanager
async def deferring() -> AsyncIterator[list[Work]]:
    """Collect :func:`after_commit` work; the caller runs the list once it has committed."""
    pending: list[Work] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


async def run_all(work: list[Work]) -> None:
    for item in work:
        await item()
