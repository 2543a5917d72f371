"""Downloads through ``cubby serve``'s HTTP protocol: local-folder bodies go out with sendfile
(``cubby.server.zerocopy``), byte-exact, with ranges, keep-alive and clients that hang up mid-body.

The server runs in this process (uvicorn on a thread, real loopback socket) so the test can
see that the zero-copy path, not the streaming fallback, served the bytes."""

from __future__ import annotations

import base64
import gc
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from cubby.app import create_app
from cubby.server import http_protocol, zerocopy
from cubby.settings import Settings
from tests.backends import settings_for
from tests.helpers import Api, free_port

SCOPE = {"persistence": {"scope": "workspace"}}


class Served:
    def __init__(self, base: str, api: Api, ws: str) -> None:
        self.base, self.api, self.ws = base, api, ws

    def put(self, path: str, data: bytes) -> None:
        self.api.output(
            "storage",
            "write_file",
            self.ws,
            {"path": path, "content": base64.b64encode(data).decode(), "contentEncoding": "base64"},
        )

    def url(self, path: str) -> str:
        return str(self.api.output("storage", "get_download_url", self.ws, {"path": path})["url"])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    settings: Settings = settings_for("sqlite+file", tmp_path).with_overrides(
        public_url=f"http://127.0.0.1:{port}"
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=http_protocol.CubbyHttpProtocol,
        loop="uvloop",
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    services = app.state.services
    import asyncio

    from cubby.core import keys

    _, plain = asyncio.run(keys.create_key(services.meta, "tests", None, None))
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        api = Api(client, plain)
        ws = api.create_workspace("zero-copy")
        api.add_integration(ws, "storage", "files", SCOPE)
        try:
            yield Served(base, api, ws)
        finally:
            server.should_exit = True
            thread.join(timeout=20)


def _body(size: int) -> bytes:
    return os.urandom(size)


def test_blob_bodies_go_out_zero_copy_and_byte_exact(served: Served) -> None:
    data = _body(3 * 1024 * 1024 + 17)
    served.put("big.bin", data)
    url = served.url("big.bin")
    before = zerocopy.sent_responses
    with httpx.Client(timeout=30) as client:
        whole = client.get(url)
        assert whole.status_code == 200
        assert whole.headers["content-length"] == str(len(data))
        assert whole.content == data
        # keep-alive: the same connection serves a range, a suffix and a JSON call after it
        part = client.get(url, headers={"Range": "bytes=100-1048675"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-1048675/{len(data)}"
        assert part.content == data[100:1048676]
        tail = client.get(url, headers={"Range": "bytes=-5"})
        assert tail.content == data[-5:]
        assert client.get(served.base + "/health").json() == {"status": "healthy"}
    assert zerocopy.sent_responses == before + 3


def test_inline_bodies_and_head_do_not_use_sendfile(served: Served) -> None:
    served.put("small.txt", b"hello")
    url = served.url("small.txt")
    before = zerocopy.sent_responses
    assert httpx.get(url).content == b"hello"
    served.put("big.bin", _body(2 * 1024 * 1024))
    head = httpx.head(served.url("big.bin"))
    assert head.status_code == 200 and head.content == b""
    assert zerocopy.sent_responses == before


def test_a_client_that_hangs_up_mid_body_leaves_the_server_serving(served: Served) -> None:
    data = _body(24 * 1024 * 1024)
    served.put("huge.bin", data)
    url = httpx.URL(served.url("huge.bin"))
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", url.port or 80)) as sock:
            sock.sendall(f"GET {url.raw_path.decode()} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    # the next clients get whole, exact bodies
    got: list[Any] = []

    def fetch() -> None:
        got.append(httpx.get(str(url), timeout=30).content == data)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == [True] * 4


def test_sendfile_all_reports_a_gone_peer(tmp_path: Path) -> None:
    path = tmp_path / "body"
    path.write_bytes(_body(8 * 1024 * 1024))
    left, right = socket.socketpair()
    left.setblocking(False)
    right.close()
    with open(path, "rb") as file, pytest.raises(zerocopy.ClientGone):
        zerocopy.sendfile_all(left.fileno(), file.fileno(), 0, 8 * 1024 * 1024)
    left.close()


def test_requests_leave_no_reference_cycles(served: Served) -> None:
    """A request's cycle object must be freed by reference counting when its response is done,
    on the zero-copy path too. When the zero-copy send wrapper held its cycle strongly, every
    request left a reference cycle, and the full collections that freed them stopped the loop
    for 50-200 ms under load."""

    def alive_cycles() -> int:
        return sum(isinstance(o, RequestResponseCycle) for o in gc.get_objects())

    data = _body(256 * 1024)
    served.put("cycles.bin", data)
    download = served.url("cycles.bin")
    sent_before = zerocopy.sent_responses
    gc.collect()
    gc.disable()
    try:
        before = alive_cycles()
        with httpx.Client() as client:
            for _ in range(100):
                assert client.get(f"{served.base}/health").status_code == 200
                assert client.get(download).content == data
        after = alive_cycles()
    finally:
        gc.enable()
    assert zerocopy.sent_responses - sent_before == 100  # the downloads went out by sendfile
    assert after - before <= 2, f"{after - before} request cycles were left for the collector"
