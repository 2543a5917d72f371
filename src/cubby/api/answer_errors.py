"""The last line of error handling: every exception a request raises is answered here, once,
and never raised further.

Why not Starlette's own handler for ``Exception``: it answers the 500 and then re-raises, so
uvicorn also sees the exception and closes the kept-alive connection without a
``Connection: close`` (issue 28, item 2: a client reusing it got a reset on its next, unrelated
request). Here an exception before the answer started gets the app's JSON error answer and the
connection stays usable; one after a complete answer is only logged; one in the middle of an
answer is raised on, because only closing the connection tells the client the body is cut.

It also refuses a URL holding a NUL (``%00`` in the path or the query): no path or query
parameter may carry one into a database text (see core/validators.check_storable).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cubby.api import observe
from cubby.errors import ValidationError

log = logging.getLogger("cubby")
Handler = Callable[[Request, Exception], Awaitable[Response]]


class AnswerErrors:
    def __init__(self, app: ASGIApp, handler: Handler) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            error = ValidationError("the URL must not contain NUL (%00)", details={"field": "url"})
            await self._answer(scope, receive, send, error)
            return
        progress = [False, False]  # answer started, answer complete

        async def send_tracked(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                progress[0] = True
            elif not message.get("more_body", False):
                progress[1] = True  # the last body (or zero-copy file) message
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if progress[1]:
                log.exception("error after the answer went out on %s", scope.get("path"))
                return
            if progress[0]:
                raise  # half an answer: closing the connection is the only honest end
            await self._answer(scope, receive, send, exc)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        response = await self.handler(Request(scope, receive), exc)
        answer = scope.get(observe.ANSWER)  # a path the request log does not watch itself
        if answer is not None:
            code = ""
            if response.status_code >= 400:
                try:
                    code = str(msgspec.json.decode(response.body).get("code", ""))
                except (msgspec.DecodeError, AttributeError):
                    code = ""
            answer[:] = [response.status_code, len(response.body), code]
            response.headers["x-request-id"] = scope[observe.REQUEST_ID].decode("latin-1")
        await response(scope, receive, send)
