"""Connection limits and framing errors of a real `cubby serve` (issue 16, "Also"): half a
header, no request at all or a stalled body is cut off within the configured time (a JSON 408
where part of a request came in); malformed framing and oversized headers get JSON errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cubby.server.http_protocol import MAX_HEADER_BYTES
from tests.helpers import LiveServer, live_server

TIMEOUT = 1.0
SLACK = 3.0  # scheduling on a shared machine; the defaults are 10 s and 30 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("http-limits")
    env = {"CUBBY_HEADER_TIMEOUT_SECONDS": str(TIMEOUT), "CUBBY_BODY_TIMEOUT_SECONDS": str(TIMEOUT)}
    with live_server(data, env=env) as server:
        yield server


def connect(server: LiveServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT + SLACK + 5)
    return sock


def read_all(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started


def json_error(raw: bytes, status: int) -> dict[str, object]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), raw[:200]
    assert b"content-type: application/json" in head.lower(), head
    return dict(json.loads(body))


def test_half_a_header_is_closed_in_time(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ")
        raw, took = read_all(sock)
    assert TIMEOUT * 0.5 < took < TIMEOUT + SLACK
    assert json_error(raw, 408)["code"] == "REQUEST_TIMEOUT"


def test_a_silent_connection_is_closed_in_time(server: LiveServer) -> None:
    with connect(server) as sock:
        raw, took = read_all(sock)
    assert raw == b"" and took < TIMEOUT + SLACK


def test_a_stalled_body_is_cut_off(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + server.key.encode()
            + b"\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"name":'
        )
        raw, took = read_all(sock)
    assert took < TIMEOUT + SLACK
    assert json_error(raw, 408)["code"] == "REQUEST_TIMEOUT"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        b"GET /health HTTP/1.1\r\nBad Header Name: x\r\n\r\n",
    ],
)
def test_malformed_framing_gets_a_json_400(server: LiveServer, request_bytes: bytes) -> None:
    with connect(server) as sock:
        sock.sendall(request_bytes)
        raw, _ = read_all(sock)
    body = json_error(raw, 400)
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"] == {"reason": "MALFORMED_HTTP"}


def test_oversized_headers_get_a_json_413(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        try:
            for _ in range(MAX_HEADER_BYTES // len(filler) + 10):
                sock.sendall(filler)
        except OSError:
            pass  # the server may already have answered and closed
        raw, _ = read_all(sock)
    body = json_error(raw, 413)
    assert body["code"] == "PAYLOAD_TOO_LARGE" and body["details"]["limit"] == MAX_HEADER_BYTES


def test_keep_alive_still_serves_several_requests(server: LiveServer) -> None:
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b'"healthy"' not in got:
                got += sock.recv(65536)
            assert got.startswith(b"HTTP/1.1 200 ")
            time.sleep(TIMEOUT * 0.3)  # well inside the idle timeout
