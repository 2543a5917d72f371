"""The execute route's answer goes out in one write (server/one_write.py): the same bytes
uvicorn's own cycle writes in two, head first whatever the body does. Unit tests on a
recording transport; every live-server test exercises the path too."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from cubby.server.one_write import OneWriteCycle

BODY = b'{"success":true,"output":{"found":true}}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))],
}


class Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "a write after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Flow:
    write_paused = False


def cycle(kind: type[RequestResponseCycle], method: str, keep_alive: bool) -> Any:
    scope: Any = {"method": method, "path": "/api/v1/actions/execute"}
    return kind(
        scope, Recording(), Flow(), logging.getLogger("t"), logging.getLogger("t"),
        False, [], asyncio.Event(), False, keep_alive, lambda: None,
    )  # fmt: skip


async def answer(c: Any, body: bytes) -> Recording:
    transport: Recording = c.transport
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await c.send({**START, "headers": headers})
    await c.send({"type": "http.response.body", "body": body})
    assert c.transport is transport and c.response_complete
    return transport


@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize("body", [BODY, b""])
def test_one_write_with_the_bytes_uvicorn_writes_in_two(keep_alive: bool, body: bytes) -> None:
    async def both() -> tuple[Recording, Recording]:
        ours = await answer(cycle(OneWriteCycle, "POST", keep_alive), body)
        theirs = await answer(cycle(RequestResponseCycle, "POST", keep_alive), body)
        return ours, theirs

    ours, theirs = asyncio.run(both())
    assert len(theirs.writes) == 2 and len(ours.writes) == 1
    assert ours.writes[0] == b"".join(theirs.writes)
    assert ours.closed == theirs.closed == (not keep_alive)


@pytest.mark.parametrize("keep_alive", [True, False])
def test_a_head_request_still_gets_its_head_before_any_close(keep_alive: bool) -> None:
    async def run() -> Recording:
        return await answer(cycle(OneWriteCycle, "HEAD", keep_alive), BODY)

    ours = asyncio.run(run())
    assert len(ours.writes) == 1 and ours.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert ours.writes[0].endswith(b"\r\n\r\n") and ours.closed == (not keep_alive)


def test_nothing_is_written_to_a_client_gone_between_head_and_body() -> None:
    async def run() -> Recording:
        c = cycle(OneWriteCycle, "POST", True)
        await c.send(START)
        c.disconnected = True
        c.transport.closed = True
        await c.send({"type": "http.response.body", "body": BODY})
        transport: Recording = c.transport
        return transport

    assert asyncio.run(run()).writes == []


def test_the_write_waits_for_the_end_of_the_loop_turn() -> None:
    """A turn's answers go out together after its requests ran (cubby.end_of_turn), in order."""

    async def run() -> tuple[list[int], Recording]:
        seen: list[int] = []
        first = cycle(OneWriteCycle, "POST", True)
        second = cycle(OneWriteCycle, "POST", True)
        second.transport = first.transport  # a pipelined second request on one connection
        transport: Recording = first.transport
        await answer(first, b'{"n":1}')
        await answer(second, b'{"n":2}')
        seen.append(len(transport.writes))  # still this turn: nothing written yet
        await asyncio.sleep(0)  # the turn ends
        seen.append(len(transport.writes))
        return seen, transport

    seen, transport = asyncio.run(run())
    assert seen == [0, 2]
    assert transport.writes[0].endswith(b'{"n":1}') and transport.writes[1].endswith(b'{"n":2}')


def test_a_close_writes_what_the_turn_holds_first() -> None:
    async def run() -> Recording:
        held = cycle(OneWriteCycle, "POST", True)
        other: Recording = held.transport
        await answer(held, BODY)  # another connection's answer, held for the turn's end
        closing = cycle(OneWriteCycle, "POST", False)
        transport: Recording = await answer(closing, BODY)
        assert other.writes and transport.writes, "a close wrote the held answers first"
        return transport

    transport = asyncio.run(run())
    assert transport.closed and len(transport.writes) == 1


def test_a_streamed_body_goes_after_the_held_head_and_first_part() -> None:
    async def run() -> Recording:
        c = cycle(OneWriteCycle, "POST", True)
        transport: Recording = c.transport
        await c.send({**START, "headers": [(b"content-type", b"text/event-stream")]})
        await c.send({"type": "http.response.body", "body": b"one", "more_body": True})
        await c.send({"type": "http.response.body", "body": b"two", "more_body": False})
        return transport

    writes = asyncio.run(run()).writes
    assert b"".join(writes).startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"one" in writes[0] and b"two" in b"".join(writes[1:])


@pytest.mark.parametrize("closing", ["shutdown", "timeout_keep_alive_handler"])
def test_a_connection_closed_by_the_server_gets_its_held_answer_first(closing: str) -> None:
    """uvicorn's graceful shutdown and keep-alive timeout close the connection of a complete
    answer; one still held for the turn's end is written before."""
    from cubby.server.http_protocol import CubbyHttpProtocol

    async def run() -> Recording:
        c = cycle(OneWriteCycle, "POST", True)
        transport = await answer(c, BODY)
        protocol = object.__new__(CubbyHttpProtocol)  # only its cycle and transport are used
        protocol.cycle, protocol.transport = c, transport
        getattr(protocol, closing)()
        return transport

    transport = asyncio.run(run())
    assert transport.closed and len(transport.writes) == 1


@pytest.mark.parametrize("status", [200, 404, 429, 503])
@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize(
    "extra",
    [
        [],
        [(b"X-Request-Id", b"abc123"), (b"retry-after", b"1")],
        [(b"connection", b"close")],  # uvicorn's own send: its connection rules
        [(b"transfer-encoding", b"chunked")],
    ],
)
def test_one_write_has_uvicorns_bytes_for_error_answers_and_its_own_headers(
    status: int, keep_alive: bool, extra: list[tuple[bytes, bytes]]
) -> None:
    """The same bytes as uvicorn's two writes, its date header first, for error statuses,
    extra headers and the headers uvicorn's connection and framing rules read."""
    chunked = (b"transfer-encoding", b"chunked") in extra
    body = b'{"error":{"code":"X"}}'

    def make(kind: type[RequestResponseCycle]) -> Any:
        c = cycle(kind, "POST", keep_alive)
        c.default_headers = [(b"date", b"Mon, 07 Dec 2026 14:00:00 GMT")]
        return c

    async def one(c: Any) -> Recording:
        transport: Recording = c.transport
        length = [] if chunked else [(b"content-length", b"%d" % len(body))]
        await c.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *length, *extra],
            }
        )
        await c.send({"type": "http.response.body", "body": body})
        await asyncio.sleep(0)  # the turn's end
        return transport

    async def both() -> tuple[Any, Any]:
        return await one(make(OneWriteCycle)), await one(make(RequestResponseCycle))

    ours, theirs = asyncio.run(both())
    assert b"".join(ours.writes) == b"".join(theirs.writes)
    assert ours.closed == theirs.closed
