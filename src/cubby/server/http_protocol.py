"""cubby's HTTP/1.1 connection: uvicorn's httptools protocol (with zero-copy downloads) plus
the limits a public server needs (issue 16: a connection that sent nothing, or half a request,
was held forever).

- **header timeout** (``CUBBY_HEADER_TIMEOUT_SECONDS``): from the moment a connection opens, or
  the first byte of a request arrives, its request line and headers must be complete within this
  time, else the connection closes (after a JSON 408 when part of a request came in).
- **body timeout** (``CUBBY_BODY_TIMEOUT_SECONDS``): a request body that stalls (no byte for this
  long) gets a JSON 408 and the connection closes; the app sees the client as gone.
- **body rate** (``CUBBY_BODY_MIN_BYTES_PER_SECOND``): once a body has been arriving for the body
  timeout, it must have averaged at least this rate, else the same 408: a body trickled one byte
  every few seconds never stalls, and held a connection (and the app's wait) forever (issue 28,
  item 5). Time the server stopped reading (the app was behind) does not count against it.
- **connections** (``CUBBY_MAX_CONNECTIONS``): at most this many open connections per process;
  one over it gets a JSON 503 ``UNAVAILABLE`` with ``Retry-After`` and is closed, and the log
  says the cap was reached (once per :data:`CAP_LOG_SECONDS` while it lasts).
- **idle timeout** (``CUBBY_IDLE_TIMEOUT_SECONDS``, uvicorn's keep-alive timeout): a kept-alive
  connection waiting for its next request.
- **header size**: request line plus headers over :data:`MAX_HEADER_BYTES` get a JSON 413, whether
  they arrive in many reads (counted as bytes come in) or in one (counted by the parser's
  callbacks, which run inside that one read).
- **malformed framing** (a bad request line, header or chunk encoding, which the parser refuses
  before any app code runs) gets a JSON 400 ``VALIDATION_ERROR`` instead of uvicorn's plain text,
  wherever the connection can still carry an answer; then it closes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httptools
import msgspec
from uvicorn.protocols.http.flow_control import FlowControl

from cubby.api.fast_execute import PATH as EXECUTE_PATH
from cubby.api.fast_execute import is_mcp_server_path
from cubby.errors import CubbyError, PayloadTooLarge, RequestTimeout, Unavailable, ValidationError
from cubby.server.one_write import WRITES, OneWriteCycle
from cubby.server.zerocopy import ZeroCopyHttpProtocol
from cubby.settings import Settings

MAX_HEADER_BYTES = 64 * 1024
LINGER_SECONDS = 2.0
CAP_LOG_SECONDS = 10.0

_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    413: b"Content Too Large",
    503: b"Service Unavailable",
}
_settings: Settings | None = None
_cap_logged_at = -CAP_LOG_SECONDS  # monotonic time of the last "connection cap reached" line


def _answered_in_one_write(path: str) -> bool:
    """The hot paths (POST): execute, and an MCP server's endpoint (its tool calls)."""
    return path == EXECUTE_PATH or is_mcp_server_path(path)


class _HeadTooLarge(Exception):
    """Raised inside a parser callback: the request line and headers passed the limit."""


class _TimedFlow(FlowControl):
    """uvicorn's flow control, also summing the time reading was paused (the app was behind,
    so the client was not the slow one)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(transport)
        self._loop = loop
        self._paused_at = 0.0
        self._paused_total = 0.0

    def pause_reading(self) -> None:
        if not self.read_paused:
            self._paused_at = self._loop.time()
        super().pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self._paused_total += self._loop.time() - self._paused_at
        super().resume_reading()

    def paused_seconds(self) -> float:
        """Seconds spent paused since this connection opened."""
        now = self._loop.time() - self._paused_at if self.read_paused else 0.0
        return self._paused_total + now


def _limits() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def error_response(error: CubbyError) -> bytes:
    """A complete HTTP/1.1 error response in cubby's JSON error shape, closing the connection."""
    payload = msgspec.json.encode(error.to_body())
    extra = b"".join(
        b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in (error.headers or {}).items()
    )
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"%sconnection: close\r\n\r\n" % (error.status, _REASONS[error.status], len(payload), extra)
    )
    return head + payload


class CubbyHttpProtocol(ZeroCopyHttpProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = _limits()
        self._header_timeout = limits.header_timeout_seconds
        self._body_timeout = limits.body_timeout_seconds
        self._min_rate = limits.body_min_bytes_per_second
        self._max_connections = limits.max_connections
        # One lazy timer per connection: arming moves a deadline, it does not make a timer
        # (each request used to make and cancel three). The timer is only rescheduled when it
        # fires before a deadline that has moved on meanwhile.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline: float | None = None
        self._on_deadline: Any = None
        self._in_headers = False  # between a request's first byte and its last header
        self._header_bytes = 0
        self._head_size = 0  # the same, counted by the parser's callbacks
        self._body_started = 0.0  # loop time the body began (its headers were complete)
        self._body_bytes = 0  # body bytes received so far
        self._paused_before = 0.0  # the flow's paused seconds when the body began
        self._lingering = False  # answered an error: input is read and dropped until close
        self._last_input = 0.0  # loop time of the last bytes received

    # -- timers -----------------------------------------------------------------------------
    def _arm(self, seconds: float, handler: Any) -> None:
        """Call ``handler`` unless this is disarmed or re-armed within ``seconds``."""
        if seconds <= 0:
            self._deadline = None
            return
        deadline = self.loop.time() + seconds
        self._deadline, self._on_deadline = deadline, handler
        if self._timer is not None and self._timer_at > deadline:  # a shorter limit now
            self._timer.cancel()
            self._timer = None
        if self._timer is None:
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._deadline_reached)

    def _disarm(self) -> None:
        self._deadline = None  # a pending timer finds nothing to do when it fires

    def _deadline_reached(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return
        if self.loop.time() < deadline:  # re-armed since: wait for the new deadline
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._deadline_reached)
            return
        self._deadline = None
        self._on_deadline()

    def _answer_and_close(self, error: CubbyError) -> None:
        """Answer ``error`` (unless a response already started) and close the connection; the
        app, if it is waiting for the body, sees the client as gone."""
        self._disarm()
        if self.transport.is_closing():
            return
        WRITES.drain()  # an answer this turn still holds goes before the error or EOF
        cycle = self.cycle
        if cycle is None or not cycle.response_started:
            self.transport.write(error_response(error))
        if cycle is not None:
            cycle.disconnected = True
            cycle.message_event.set()
        self._linger()

    def _linger(self) -> None:
        """Close once the client has stopped sending, or after :data:`LINGER_SECONDS`.

        Closing a socket that still has unread input makes the kernel answer with a reset,
        which can destroy the error response before the client reads it (a client still
        sending an oversized header saw "connection reset" instead of the 413). So: send FIN,
        discard what still comes in, close on the client's EOF or at the deadline.
        """
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _header_timed_out(self) -> None:
        if not self._in_headers:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()  # nothing was sent at all: nobody to answer
            return
        self._answer_and_close(
            RequestTimeout(
                f"the request headers did not arrive within {self._header_timeout:g} seconds",
                details={"limit": self._header_timeout},
            )
        )

    def _body_timed_out(self) -> None:
        cycle = self.cycle
        if cycle is None or not cycle.more_body:  # the whole body is in: nothing to wait for
            return
        idle = self.loop.time() - self._last_input
        if self.flow.read_paused:  # we stopped reading (the app is behind): not the client
            self._arm(self._body_timeout, self._body_timed_out)
            return
        if idle < self._body_timeout:  # bytes came in since this was armed
            if self._too_slow():
                rate = self._min_rate
                self._answer_and_close(
                    RequestTimeout(
                        f"the request body arrived slower than {rate:g} bytes per second",
                        details={"limit": self._body_timeout, "minBytesPerSecond": rate},
                    )
                )
                return
            self._arm(self._body_timeout - idle, self._body_timed_out)
            return
        self._answer_and_close(
            RequestTimeout(
                f"the request body stalled for {self._body_timeout:g} seconds",
                details={"limit": self._body_timeout},
            )
        )

    def _too_slow(self) -> bool:
        """The body has been arriving for the body timeout (not counting time the server was
        not reading) and averaged under the minimum rate."""
        if self._min_rate <= 0:
            return False
        paused = self.flow.paused_seconds() - self._paused_before
        elapsed = self.loop.time() - self._body_started - paused
        return elapsed >= self._body_timeout and self._body_bytes < self._min_rate * elapsed

    # -- connection and parser events ---------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow: _TimedFlow = _TimedFlow(transport, self.loop)
        if self._max_connections and len(self.connections) > self._max_connections:
            self._refuse_over_cap()
            return
        self._arm(self._header_timeout, self._header_timed_out)

    def _refuse_over_cap(self) -> None:
        global _cap_logged_at
        now = time.monotonic()
        if now - _cap_logged_at >= CAP_LOG_SECONDS:
            _cap_logged_at = now
            self.logger.warning(
                "connection cap reached: %d open connections in this process "
                "(CUBBY_MAX_CONNECTIONS=%d); new connections get 503 until some close",
                len(self.connections) - 1,
                self._max_connections,
            )
        self._answer_and_close(
            Unavailable(
                "the server has too many open connections; retry shortly",
                details={"limit": self._max_connections},
                headers={"Retry-After": "1"},
            )
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, with the parser's own reason in a JSON 400 and the header size cap."""
        if self._lingering:
            return
        self._last_input = self.loop.time()  # what the body timeout measures from
        self._unset_keepalive_if_required()
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not self._in_headers:
            self._body_bytes += len(data)  # (a pipelined next request's bytes too: harmless)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._head_too_large()
                return
            self.logger.info("malformed HTTP request: %s", exc)
            self._answer_and_close(
                ValidationError(
                    f"malformed HTTP request: {exc}", details={"reason": "MALFORMED_HTTP"}
                )
            )
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._in_headers:  # still inside a request's head after these bytes
            self._header_bytes += len(data)
        if self._in_headers and self._header_bytes > MAX_HEADER_BYTES:
            self._head_too_large()

    def _head_too_large(self) -> None:
        self._answer_and_close(
            PayloadTooLarge(
                f"the request line and headers are larger than {MAX_HEADER_BYTES} bytes",
                details={"limit": MAX_HEADER_BYTES, "part": "headers"},
            )
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._head_size = 0
        self._arm(self._header_timeout, self._header_timed_out)

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url) + 16  # method, version, spaces, CRLF
        if self._head_size > MAX_HEADER_BYTES:
            raise _HeadTooLarge
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4  # ": " and CRLF
        if self._head_size > MAX_HEADER_BYTES:
            raise _HeadTooLarge  # ends this feed_data; data_received answers the 413
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._body_started = self.loop.time()
        self._body_bytes = 0
        self._paused_before = self.flow.paused_seconds()
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if (
            cycle is not previous
            and cycle is not None
            and cycle.scope["method"] == "POST"
            and _answered_in_one_write(cycle.scope["path"])
        ):
            cycle.__class__ = OneWriteCycle  # its task has not run yet (see zerocopy.py)
        # The header deadline becomes the body's, until the body is complete; the handler
        # checks that and the time of the last input itself, so no per-chunk or
        # end-of-message callback of ours runs on every request.
        self._arm(self._body_timeout, self._body_timed_out)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown closes a connection whose answer is complete: an answer
        held for the end of this loop turn (server/one_write.py) goes out first."""
        WRITES.drain()
        super().shutdown()

    def timeout_keep_alive_handler(self) -> None:
        WRITES.drain()  # as in shutdown (the keep-alive timer is armed when an answer is done)
        super().timeout_keep_alive_handler()

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(ValidationError(msg, details={"reason": "MALFORMED_HTTP"}))


PROTOCOL = f"{__name__}:{CubbyHttpProtocol.__name__}"
