"""Big requests take turns (issue 16, item 9: one tenant's 1 MiB list puts stalled another's
5-byte put for seconds).

A request whose body is at least :data:`HEAVY_BYTES` costs far more CPU than a small one
(decoding, per-item work, the writer's rows), and a process has one event loop and one GIL, so
four of them at once starve every small request in between. Here at most
:data:`HEAVY_CONCURRENCY` such requests run per process at a time; the others wait their turn
without using CPU, while small requests go straight through. Their decoding also runs off the
event loop (:func:`cubby.core.validation.off_loop`), so the loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

HEAVY_BYTES = 256 * 1024
HEAVY_CONCURRENCY = 1

_gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


class _NoWait:
    """The turn of a small request: nothing to wait for, and no generator made per request."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_WAIT = _NoWait()


def turn(size: int) -> contextlib.AbstractAsyncContextManager[Any]:
    """Wait for a turn when a request of ``size`` bytes is heavy; small ones pass at once."""
    return _NO_WAIT if size < HEAVY_BYTES else _heavy_turn()


@contextlib.asynccontextmanager
async def _heavy_turn() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        for old in [other for other in _gates if other.is_closed()]:
            del _gates[old]
        gate = _gates[loop] = asyncio.Semaphore(HEAVY_CONCURRENCY)
    async with gate:
        yield
