"""The request log and the request metrics: one ASGI middleware, outermost, so it sees every
request, including ``POST /api/v1/actions/execute``, which :mod:`cubby.api.fast_execute`
answers without Starlette's router.

One log line per request (logger ``cubby.request``): method, path, status, cubby error code,
duration, response bytes, workspace id, request id and, for execute, the action
(``action=kv-store/get``), written through :class:`cubby.logs.RequestLog` (buffered, off the
hot path). What it never holds: query strings, headers (so no API key), bodies, and the token
of a ``/downloads/<token>`` URL (a signed URL's payload is a credential). ``X-Request-Id`` is
echoed when the client sent a sane one (at most 128 of ``[A-Za-z0-9._:-]``), else a fresh one
is made; either way it is on the response.

Handlers that know more leave it in the ASGI scope for this middleware to read, without
importing it: ``scope["cubby.workspace"]`` (a workspace id) and ``scope["cubby.action"]``
(``(integrationName, actionName)``). The error code is read from the JSON error body, which
every error answer carries (a few bytes, only for statuses >= 400).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cubby import metrics
from cubby.core import signing
from cubby.end_of_turn import EndOfTurn
from cubby.logs import RequestLog

log = logging.getLogger("cubby.request")
_request_log = RequestLog(log)

_SAFE_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")


class _RequestIds:
    """Request ids of 16 hex digits: a random per-process prefix and a counter. Unique, not
    secret; os.urandom per request (``secrets.token_hex``) was a syscall on every request."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self._prefix = secrets.token_hex(4).encode()
        self._counter = itertools.count(secrets.randbelow(2**32))

    def next(self) -> bytes:
        return b"%s%08x" % (self._prefix, next(self._counter) & 0xFFFFFFFF)


_next_request_id = _RequestIds().next
_DOWNLOADS = signing.URL_PREFIX.encode()
UNMATCHED = "unmatched"


class _Code(msgspec.Struct):
    code: str = ""


_code_decoder = msgspec.json.Decoder(_Code)
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def _error_code(body: bytes) -> str:
    try:
        code = _code_decoder.decode(body).code
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ""
    return code if _CODE_RE.fullmatch(code) else ""


def log_path(scope: Scope) -> str:
    """The path as it came on the wire (still percent-encoded, so no control characters),
    without the query string, with a download token replaced by ``<token>``."""
    raw = scope.get("raw_path")
    if not raw:
        from urllib.parse import quote

        raw = quote(scope.get("path", ""), safe="/:@!$&'()*+,;=-._~").encode()
    raw = raw.split(b"?", 1)[0]
    if raw.startswith(_DOWNLOADS):
        return signing.URL_PREFIX + "<token>"
    return str(raw.decode("latin-1"))


def route_of(scope: Scope) -> str:
    """The route template that answered (``/api/v1/workspaces/{id}``), a bounded label."""
    route = scope.get("cubby.route")
    if route is not None:
        return str(route)
    matched = scope.get("route")
    path = getattr(matched, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def _workspace_of(scope: Scope, route: str) -> str:
    ws = scope.get("cubby.workspace")
    if ws:
        return str(ws)
    params = scope.get("path_params") or {}
    if "wsId" in params:
        return str(params["wsId"])
    if route.startswith("/api/v1/workspaces/{id}") and "id" in params:
        return str(params["id"])
    return ""


REQUEST_ID = "cubby.request_id"
ANSWER = "cubby.answer"
# An answered request, as the request log takes it: scope, seconds taken, [status, bytes sent,
# error code], request id, when it ended (``time.time()``: its line's time).
_Answered = tuple[Scope, float, list[Any], bytes, float]


class Observe:
    """Log one line and count one request per HTTP request.

    ``answered_directly``: ``(method, path)`` pairs whose handler reports its own answer
    instead of having its messages watched (the hot path: watching costs a wrapper call per
    message). Such a handler finds the request id at ``scope["cubby.request_id"]``, must send it
    as ``X-Request-Id``, and sets ``scope["cubby.answer"][:] = [status, bytes, error code]``.
    """

    def __init__(
        self,
        app: ASGIApp,
        actions: Iterable[tuple[str, str]] = (),
        answered_directly: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.app = app
        self.actions = frozenset(actions)
        self.answered_directly = frozenset(answered_directly)
        self._answered: EndOfTurn[_Answered] = EndOfTurn(self._record_all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value
                break
        if not _SAFE_ID.fullmatch(request_id):
            request_id = _next_request_id()
        state: list[Any] = [0, 0, ""]  # status, bytes sent, error code
        if (scope["method"], scope["path"]) in self.answered_directly:
            scope[REQUEST_ID] = request_id
            scope[ANSWER] = state
        else:
            send = _watching(send, state, request_id)
        try:
            await self.app(scope, receive, send)
        except BaseException:
            if not state[0]:
                state[0], state[2] = 500, "INTERNAL_ERROR"
            raise
        finally:
            self._done((scope, time.perf_counter() - start, state, request_id, time.time()))

    def _done(self, answered: _Answered) -> None:
        """Count and log the request at the end of this loop turn, with the turn's others
        (cubby.end_of_turn says why), where the line goes to ``cubby serve``'s own log
        handler; an error (5xx) line, and any other logging set-up, at once."""
        if answered[2][0] < 500 and _request_log.buffered():
            self._answered.add(answered)
            return
        self._answered.drain()  # the lines of requests answered before it come first
        self._record(answered)

    def _record_all(self, answered: list[_Answered]) -> None:
        for one in answered:
            self._record(one, flush=False)
        _request_log.flush()  # the turn's lines in one write, now (not a turn later)

    def _record(self, answered: _Answered, flush: bool = True) -> None:
        scope, seconds, state, request_id, ended = answered
        status, sent, code = state
        route = route_of(scope)
        method = scope["method"]
        action = scope.get("cubby.action")
        metrics.REQUEST_TALLY.count(
            (route, method, str(status or 499), code),
            seconds,
            action if action is not None and action in self.actions else None,
        )
        level = logging.ERROR if status >= 500 else logging.INFO
        if not log.isEnabledFor(level):
            return
        path = log_path(scope)
        ms = round(seconds * 1000, 2)
        ws = _workspace_of(scope, route) or None
        rid = request_id.decode("latin-1")
        named = f"{action[0]}/{action[1]}" if action is not None else None

        def fields() -> dict[str, Any]:
            return {
                "method": method,
                "path": path,
                "status": status or 499,  # 499: the client went away before an answer
                "code": code or None,
                "durationMs": ms,
                "bytes": sent,
                "workspaceId": ws,
                "requestId": rid,
                "action": named,  # execute: integrationName/actionName
            }

        message = (
            f"{method} {path} {status or 499} {code or '-'} {ms:.2f}ms {sent}B ws={ws or '-'} "
            f"id={rid}"
        )
        if named is not None:
            message += f" action={named}"
        _request_log.emit(level, message, fields, flush=flush, at=ended)


def _watching(send: Send, state: list[Any], request_id: bytes) -> Send:
    """``send`` that notes status, bytes and error code in ``state`` and adds X-Request-Id."""

    async def send_observed(message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            state[0] = message["status"]
            message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
        elif kind == "http.response.body":
            body = message.get("body", b"")
            if body:
                if state[0] >= 400 and not state[1]:
                    state[2] = _error_code(body)
                state[1] += len(body)
        elif kind == "http.response.zerocopysend":  # cubby.server.zerocopy: a file by sendfile
            state[1] += int(message.get("count") or 0)
        await send(message)

    return send_observed
