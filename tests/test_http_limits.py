"""Connection limits and framing errors of a real `cubby serve` (issue 16, "Also"): half a
header, no request at all or a stalled body is cut off within the configured time (a JSON 408
where part of a request came in); malformed framing and oversized headers get JSON errors."""

from __future__ import annotations

import contextlib
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
MIN_RATE = 200  # bytes per second a body must average once it has arrived for TIMEOUT


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("http-limits")
    env = {
        "CUBBY_HEADER_TIMEOUT_SECONDS": str(TIMEOUT),
        "CUBBY_BODY_TIMEOUT_SECONDS": str(TIMEOUT),
        "CUBBY_BODY_MIN_BYTES_PER_SECOND": str(MIN_RATE),
    }
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


@pytest.mark.parametrize("kib", [70, 100, 129])
def test_oversized_headers_in_one_read_get_a_json_413(server: LiveServer, kib: int) -> None:
    """Issue 28, item 6: headers that arrive whole (one write, often one read) were parsed
    before the size was counted, so 70-129 KiB got through."""
    filler = b"".join(b"X-F%d: %s\r\n" % (i, b"a" * 1000) for i in range(kib))
    with connect(server) as sock:
        with contextlib.suppress(OSError):  # the server may already have answered and closed
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + filler + b"\r\n")
        raw, _ = read_all(sock)
    body = json_error(raw, 413)
    assert body["code"] == "PAYLOAD_TOO_LARGE" and body["details"]["limit"] == MAX_HEADER_BYTES


def test_headers_just_under_the_limit_in_one_read_are_served(server: LiveServer) -> None:
    filler = b"".join(b"X-F%d: %s\r\n" % (i, b"a" * 1000) for i in range(60))
    with connect(server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + filler + b"\r\n")
        raw, _ = read_all(sock)
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:200]


def _trickle(server: LiveServer, body: bytes, piece: int, every: float) -> tuple[bytes, float]:
    """POST ``body``, ``piece`` bytes every ``every`` seconds; the answer and how long it took
    from the first body byte."""
    total = len(body)
    with connect(server) as sock:
        sock.sendall(
            b"POST /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + server.key.encode()
            + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + b"Content-Length: %d\r\n\r\n" % total
        )
        started = time.monotonic()
        sent = 0
        sock.settimeout(every)
        answer = b""
        try:
            while sent < total and time.monotonic() - started < 4 * (TIMEOUT + SLACK):
                part = body[sent : sent + piece]
                sock.sendall(part)
                sent += len(part)
                try:
                    answer += sock.recv(65536)  # waits up to `every`
                    if answer:
                        break
                except TimeoutError:
                    pass
        except OSError:
            pass  # the server answered and closed
        sock.settimeout(TIMEOUT + SLACK + 5)
        rest, _ = read_all(sock)
    return answer + rest, time.monotonic() - started


def test_a_trickled_body_is_cut_off(server: LiveServer) -> None:
    """Issue 28, item 5: one byte every 0.2 s never stalls, so only the minimum rate ends it."""
    raw, took = _trickle(server, b" " * 10_000, piece=1, every=0.2)
    assert took < TIMEOUT * 2 + SLACK
    body = json_error(raw, 408)
    assert body["code"] == "REQUEST_TIMEOUT"
    assert body["details"]["minBytesPerSecond"] == MIN_RATE


def test_a_slow_body_above_the_minimum_rate_is_served(server: LiveServer) -> None:
    body = b'{"name": "slow", "slug": "slow"}'
    padded = body + b" " * (10 * MIN_RATE - len(body))  # 2 s at 5x the minimum rate (a
    raw, _ = _trickle(server, padded, piece=MIN_RATE, every=0.2)  # loaded host oversleeps)
    assert raw.startswith(b"HTTP/1.1 201 "), raw[:300]


def test_keep_alive_still_serves_several_requests(server: LiveServer) -> None:
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b'"healthy"' not in got:
                got += sock.recv(65536)
            assert got.startswith(b"HTTP/1.1 200 ")
            time.sleep(TIMEOUT * 0.3)  # well inside the idle timeout
