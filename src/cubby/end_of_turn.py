"""Work gathered during one turn of the event loop and done together at its end.

Why: a served request's Python work runs between system calls (its socket write, the log's
write) and the kernel's network work for other connections, which leave the CPU's caches cold
for the next request. Measured on the execute ``get`` (bench/README.md, "Batched at the end of
the loop turn"): the same code answered 2.6x slower per request served than in a tight
in-process loop, and 2x slower in-process once 8 MiB were touched between requests. Doing one
kind of work for all of a turn's requests in a row (every log line, then every socket write)
keeps each kind's code and data warm.

Items are kept per thread (each event loop runs on one thread), and :meth:`EndOfTurn.add`
schedules one ``call_soon`` per loop turn; a loop that closed before its call ran leaves its
items to the next loop on that thread, which drains them (or, for socket writes, skips
transports that are closed).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Gathered(threading.local, Generic[T]):
    def __init__(self) -> None:
        self.items: list[T] = []
        self.loop: asyncio.AbstractEventLoop | None = None  # where a drain is scheduled


class EndOfTurn(Generic[T]):
    """Items handed to ``run`` together, once per loop turn, in the order they came."""

    def __init__(self, run: Callable[[list[T]], None]) -> None:
        self._run = run
        self._gathered: _Gathered[T] = _Gathered()

    def add(self, item: T) -> None:
        """Keep ``item`` for the end of this turn (outside a running loop: run it now)."""
        gathered = self._gathered
        gathered.items.append(item)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop on this thread: nothing would drain it later
            self.drain()
            return
        if gathered.loop is not loop:
            gathered.loop = loop
            loop.call_soon(self.drain)

    def drain(self) -> None:
        """Run every item kept so far on this thread, now (also what the turn's end calls)."""
        gathered = self._gathered
        gathered.loop = None
        items = gathered.items
        if items:
            gathered.items = []
            self._run(items)
