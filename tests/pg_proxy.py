"""A fault-injecting TCP proxy for PostgreSQL's wire protocol, on 127.0.0.1.

It forwards both directions untouched and reads the frontend messages as they pass. While
``mode`` is set, the autocommit statement whose SQL contains ``trigger`` (e.g. the file index
upsert) gets its connection cut at the Sync that ends it (in the extended protocol the implicit
transaction commits when Sync arrives):

- ``"after"``: the Sync goes to the server, the proxy waits for the server's ReadyForQuery (so
  the commit has landed) and throws that reply away, then drops both sockets. The client only
  sees a lost connection, for a write that committed.
- ``"before"``: the Sync never reaches the server; both sockets drop, the server rolls back.

It runs its own event loop on a thread, so it serves any client loop (a TestClient's, a
fixture's ``asyncio.run``). Clients must not ask for TLS (``sslmode=disable``).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from collections.abc import Iterator
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.helpers import free_port

Mode = Literal["before", "after"] | None
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def _cstrings(body: bytes, count: int) -> list[str]:
    parts = body.split(b"\0", count)
    return [p.decode("utf-8", "replace") for p in parts[:count]]


class PgFaultProxy:
    def __init__(self, upstream_url: str, trigger: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 5432
        self.trigger = trigger
        self.port = free_port()
        self.mode: Mode = None
        self.cuts = 0  # connections cut so far
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "sslmode"]
        query.append(("sslmode", "disable"))
        netloc = parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        self.url = urlunsplit(
            (parts.scheme, f"{auth}127.0.0.1:{self.port}", parts.path, urlencode(query), "")
        )
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._started.set()
        self._loop.run_forever()

    def start(self) -> PgFaultProxy:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- one connection ---------------------------------------------------------------------
    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        reply_seen = asyncio.Event()
        swallow = False  # discard server messages (the reply to a faulted commit)

        async def server_to_client() -> None:
            try:
                while True:
                    head = await up_r.readexactly(5)
                    body = await up_r.readexactly(struct.unpack("!I", head[1:])[0] - 4)
                    if swallow:
                        if head[:1] == b"Z":
                            reply_seen.set()
                        continue
                    client_w.write(head + body)
                    await client_w.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                if not swallow:
                    client_w.close()  # the server hung up (e.g. after Terminate): so do we

        pump: asyncio.Task[None] | None = None
        try:
            while True:  # startup phase: untyped messages
                length = struct.unpack("!I", await client_r.readexactly(4))[0]
                body = await client_r.readexactly(length - 4)
                code = struct.unpack("!I", body[:4])[0]
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    client_w.write(b"N")  # no TLS through the proxy
                    await client_w.drain()
                    continue
                up_w.write(struct.pack("!I", length) + body)
                break
            pump = asyncio.create_task(server_to_client())
            statements: dict[str, str] = {}
            armed = False
            while True:
                head = await client_r.readexactly(5)
                body = await client_r.readexactly(struct.unpack("!I", head[1:])[0] - 4)
                kind = head[:1]
                if kind == b"P":
                    name, query = _cstrings(body, 2)
                    statements[name] = query
                elif kind == b"B":
                    _portal, stmt = _cstrings(body, 2)
                    armed = self.mode is not None and self.trigger in statements.get(stmt, "")
                elif kind == b"Q":
                    armed = False
                elif kind == b"S" and armed:
                    self.cuts += 1
                    if self.mode == "after":
                        swallow = True
                        up_w.write(head + body)
                        await up_w.drain()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(reply_seen.wait(), 10)
                    return
                up_w.write(head + body)
                await up_w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            if pump is not None:
                pump.cancel()
            for writer in (client_w, up_w):
                writer.transport.abort()


@contextlib.contextmanager
def pg_fault_proxy(upstream_url: str, trigger: str) -> Iterator[PgFaultProxy]:
    proxy = PgFaultProxy(upstream_url, trigger).start()
    try:
        yield proxy
    finally:
        proxy.stop()
