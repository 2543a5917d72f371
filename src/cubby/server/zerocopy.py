"""Zero-copy file bodies: the ASGI ``http.response.zerocopysend`` extension for uvicorn.

uvicorn (httptools) implements neither ``zerocopysend`` nor ``pathsend``, so every downloaded
byte would be read into Python and written back out: a 100 MiB download then runs at about a
third of nginx's speed (bench/README.md). :class:`ZeroCopyHttpProtocol` is uvicorn's httptools
protocol plus that one extension: a file body goes from the page cache to the socket with
``os.sendfile``, never through Python.

How it stays correct next to uvicorn's own writes:

- the status line and headers go through the transport as usual; the sendfile starts only when
  the transport's write buffer is empty, and nothing else writes to the connection until the
  response is complete (uvicorn starts a pipelined request only after that);
- it runs on a thread of its own with a *duplicate* of the socket's descriptor, so the event
  loop never blocks, and a connection closed meanwhile cannot hand its descriptor number to
  another client: the duplicate keeps the original socket until the send gives up;
- a client that stops reading for :data:`STALL_SECONDS` is cut off, like any stalled stream.

Only plain-HTTP requests to the signed-download route (:data:`cubby.core.signing.URL_PREFIX`)
are offered the extension (TLS needs the bytes in user space; no other route sends files).
The app decides per response (``api/downloads.py``): local-folder bodies use it, object-store
and inline bodies stream as before.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from cubby.core.signing import URL_PREFIX

EXTENSION = "http.response.zerocopysend"
STALL_SECONDS = 60.0
SEND_THREADS = 32

_pool = ThreadPoolExecutor(SEND_THREADS, thread_name_prefix="cubby-sendfile")
sent_responses = 0  # zero-copy bodies sent by this process (tests read it)


class ClientGone(ConnectionError):
    """The peer closed the connection or stopped reading mid-body."""


def sendfile_all(sock_fd: int, file_fd: int, offset: int, count: int) -> int:
    """Send ``count`` bytes of ``file_fd`` from ``offset`` to a non-blocking socket; blocking
    this thread (not the loop) while the socket is full. Returns the bytes sent."""
    poller = select.poll()
    poller.register(sock_fd, select.POLLOUT)
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, count - sent)
        except BlockingIOError:
            if not poller.poll(STALL_SECONDS * 1000):
                raise ClientGone("the client stopped reading") from None
            continue
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                raise ClientGone(str(exc)) from None
            raise
        if n == 0:  # the file is shorter than announced (cannot happen: bodies are immutable)
            break
        sent += n
    return sent


class _ZeroCopyCycle(RequestResponseCycle):
    """uvicorn's request cycle whose ``send`` also takes the extension's message.

    :class:`ZeroCopyHttpProtocol` turns each new cycle into this class (same layout, one method
    more), rather than wrapping ``cycle.send`` in an object per request: a wrapper that held its
    cycle made every request a reference cycle, freed only by full collections that stopped the
    loop for 50-200 ms under load, and any wrapper is one more call on every send.
    """

    async def send(self, message: Any) -> None:
        if message["type"] != EXTENSION:
            await RequestResponseCycle.send(self, message)
            return
        more_body = bool(message.get("more_body", False))
        if not self.response_started or self.response_complete:
            raise RuntimeError(f"{EXTENSION} is only valid after http.response.start")
        count = int(message["count"]) if message.get("count") is not None else None
        offset = int(message.get("offset") or 0)
        file_fd = message["file"] if isinstance(message["file"], int) else message["file"].fileno()
        if count is None:
            count = os.fstat(file_fd).st_size - offset
        if count > self.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        if self.scope["method"] != "HEAD" and count and not self.disconnected:
            await _sendfile(self, file_fd, offset, count)
        self.expected_content_length -= count
        # uvicorn's own send completes the response (keep-alive, close, pipelining).
        await RequestResponseCycle.send(
            self, {"type": "http.response.body", "body": b"", "more_body": more_body}
        )


async def _sendfile(cycle: RequestResponseCycle, file_fd: int, offset: int, count: int) -> None:
    global sent_responses
    transport = cycle.transport
    while transport.get_write_buffer_size() and not cycle.disconnected:
        await cycle.flow.drain() if cycle.flow.write_paused else await asyncio.sleep(0.0005)
    if cycle.disconnected:
        return
    sock = transport.get_extra_info("socket")
    sock_fd = os.dup(sock.fileno())
    try:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(_pool, sendfile_all, sock_fd, file_fd, offset, count)
    except ClientGone:
        cycle.disconnected = True
        transport.close()
        return
    finally:
        os.close(sock_fd)
    sent_responses += 1


class ZeroCopyHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the ``http.response.zerocopysend`` extension."""

    def on_headers_complete(self) -> None:
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        # Only the signed-download route sends files, so only its requests pay for the
        # extension (the class change and a send with one call more: ~2 us a request). The
        # new cycle's task is created but has not run yet: it finds ``send`` on this class.
        if (
            cycle is not None
            and cycle is not previous
            and self.scheme == "http"
            and cycle.scope["path"].startswith(URL_PREFIX)
        ):
            cycle.scope["extensions"] = {EXTENSION: {}}
            cycle.__class__ = _ZeroCopyCycle


PROTOCOL = f"{__name__}:{ZeroCopyHttpProtocol.__name__}"
