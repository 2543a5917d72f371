"""The hot paths' answers in one ``write``: head and body together.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start``, and the body with the next message: two system calls, two TCP
segments and two wake-ups of the client for every small answer. ``POST
/api/v1/actions/execute`` (``api/fast_execute.py``) and an MCP server's ``POST /mcp/srv_<id>``
(JSON answers: the endpoint is stateless) send their start and their one body back to back,
so for those requests the head is held until the body comes and both go out in one
``write`` (a body in several parts: the first part with the head, the rest as they come).
uvicorn's own ``send`` still does all the work (headers, keep-alive, lengths): it is only
handed a stand-in transport while it runs.

The one ``write`` itself waits for the end of the event loop's turn
(:class:`cubby.end_of_turn.EndOfTurn`): a turn's answers then go out one after the other,
after all of that turn's requests ran, instead of each request's Python work being followed
by a system call and the kernel's network work (bench/README.md, "Batched at the end of the
loop turn"). Nothing else writes to the connection before they are out: a close writes them
first, and the connection's next request starts on a later turn.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from cubby.end_of_turn import EndOfTurn

log = logging.getLogger(__name__)


def _write_all(writes: list[tuple[asyncio.Transport, bytes]]) -> None:
    for transport, data in writes:
        if transport.is_closing():  # the client went away meanwhile: nobody to answer
            continue
        try:
            transport.write(data)
        except Exception:  # pragma: no cover - a bug; the other connections still get theirs
            log.warning("could not write an answer", exc_info=True)


WRITES: EndOfTurn[tuple[asyncio.Transport, bytes]] = EndOfTurn(_write_all)


class _Holding:
    """The connection's transport while uvicorn writes a head: keeps the bytes."""

    __slots__ = ("head", "real")

    def __init__(self, real: Any) -> None:
        self.real = real
        self.head = b""

    def write(self, data: bytes) -> None:
        self.head += data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _HeadFirst:
    """The connection's transport while uvicorn writes the body: the held head goes first, in
    the same write; if the body writes nothing (a HEAD request), before anything else."""

    __slots__ = ("head", "real")

    def __init__(self, real: Any, head: bytes) -> None:
        self.real = real
        self.head = head

    def write(self, data: bytes) -> None:
        head, self.head = self.head, b""
        WRITES.add((self.real, head + data if head else data))

    def flush(self) -> None:
        """Write a head still held, unless the client is gone (uvicorn then writes nothing)."""
        if self.head and not self.real.is_closing():
            self.write(b"")

    def close(self) -> None:
        self.flush()
        WRITES.drain()  # what this turn holds for the connection goes out before it closes
        self.real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class OneWriteCycle(RequestResponseCycle):
    """uvicorn's request cycle, holding the head for the body's write (see the module)."""

    _held = b""

    async def send(self, message: Any) -> None:
        real = self.transport
        if message["type"] == "http.response.start":
            holding = _Holding(real)
            self.transport = cast(asyncio.Transport, holding)  # write() and the rest
            try:
                await RequestResponseCycle.send(self, message)
            finally:
                self.transport = real
            self._held = holding.head
            return
        head, self._held = self._held, b""
        if not head:
            WRITES.drain()  # a later write goes after what the turn holds
            await RequestResponseCycle.send(self, message)
            return
        first = _HeadFirst(real, head)
        self.transport = cast(asyncio.Transport, first)
        try:
            await RequestResponseCycle.send(self, message)
        finally:
            self.transport = real
            first.flush()
