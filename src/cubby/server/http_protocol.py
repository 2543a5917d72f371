"""cubby's HTTP/1.1 connection: uvicorn's httptools protocol (with zero-copy downloads) plus
the limits a public server needs (issue 16: a connection that sent nothing, or half a request,
was held forever).

- **header timeout** (``CUBBY_HEADER_TIMEOUT_SECONDS``): from the moment a connection opens, or
  the first byte of a request arrives, its request line and headers must be complete within this
  time, else the connection closes (after a JSON 408 when part of a request came in).
- **body timeout** (``CUBBY_BODY_TIMEOUT_SECONDS``): a request body that stalls (no byte for this
  long) gets a JSON 408 and the connection closes; the app sees the client as gone.
- **idle timeout** (``CUBBY_IDLE_TIMEOUT_SECONDS``, uvicorn's keep-alive timeout): a kept-alive
  connection waiting for its next request.
- **header size**: request line plus headers over :data:`MAX_HEADER_BYTES` get a JSON 413.
- **malformed framing** (a bad request line, header or chunk encoding, which the parser refuses
  before any app code runs) gets a JSON 400 ``VALIDATION_ERROR`` instead of uvicorn's plain text,
  wherever the connection can still carry an answer; then it closes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import msgspec

from cubby.errors import CubbyError, PayloadTooLarge, RequestTimeout, ValidationError
from cubby.server.zerocopy import ZeroCopyHttpProtocol
from cubby.settings import Settings

MAX_HEADER_BYTES = 64 * 1024
LINGER_SECONDS = 2.0

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 413: b"Content Too Large"}
_settings: Settings | None = None


def _limits() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def error_response(error: CubbyError) -> bytes:
    """A complete HTTP/1.1 error response in cubby's JSON error shape, closing the connection."""
    payload = msgspec.json.encode(error.to_body())
    head = (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
        b"connection: close\r\n\r\n" % (error.status, _REASONS[error.status], len(payload))
    )
    return head + payload


class CubbyHttpProtocol(ZeroCopyHttpProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = _limits()
        self._header_timeout = limits.header_timeout_seconds
        self._body_timeout = limits.body_timeout_seconds
        # One lazy timer per connection: arming moves a deadline, it does not make a timer
        # (each request used to make and cancel three). The timer is only rescheduled when it
        # fires before a deadline that has moved on meanwhile.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline: float | None = None
        self._on_deadline: Any = None
        self._in_headers = False  # between a request's first byte and its last header
        self._header_bytes = 0
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
        if idle < self._body_timeout:  # bytes came in since this was armed
            self._arm(self._body_timeout - idle, self._body_timed_out)
            return
        if self.flow.read_paused:  # we stopped reading (the app is behind): not the client
            self._arm(self._body_timeout, self._body_timed_out)
            return
        self._answer_and_close(
            RequestTimeout(
                f"the request body stalled for {self._body_timeout:g} seconds",
                details={"limit": self._body_timeout},
            )
        )

    # -- connection and parser events ---------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, self._header_timed_out)

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
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
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
        self._arm(self._header_timeout, self._header_timed_out)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        super().on_headers_complete()
        # The header deadline becomes the body's, until the body is complete; the handler
        # checks that and the time of the last input itself, so no per-chunk or
        # end-of-message callback of ours runs on every request.
        self._arm(self._body_timeout, self._body_timed_out)

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(ValidationError(msg, details={"reason": "MALFORMED_HTTP"}))


PROTOCOL = f"{__name__}:{CubbyHttpProtocol.__name__}"
