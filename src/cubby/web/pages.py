"""The dashboard's page plumbing: templates, the session gate, CSRF, flash messages, errors.

A page handler receives a :class:`Ctx` (request, services, the signed-in session, the parsed
form of a POST) and returns a response; :func:`page` wraps it so no page can forget the session
or the CSRF check, and a :class:`~cubby.errors.CubbyError` becomes an HTML error page with the
same status the JSON API would answer (403 for another workspace, 404, 400 ...).

Every HTML response carries a Content-Security-Policy without inline script or style, so user
data (file names, keys, values, end-user ids), which templates autoescape, can never run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from cubby.api.endpoint import too_large
from cubby.auth import Principal
from cubby.errors import CubbyError
from cubby.services import Services
from cubby.web import reveal
from cubby.web import session as sessions
from cubby.web.session import WebSession

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "cubby_flash"
MAX_FORM_FIELD_BYTES = 2 * 1024 * 1024  # a KV value edited in the form, with room for JSON

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _human_bytes(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def build_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: user data is text only
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = _human_bytes
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.globals["query"] = lambda **params: urlencode(
        {k: v for k, v in params.items() if v not in (None, "")}
    )
    return env


_env = build_env()


@dataclass
class Ctx:
    request: Request
    services: Services
    session: WebSession
    form: FormData | None

    @property
    def principal(self) -> Principal:
        return self.session.principal

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def arg(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def field(self, name: str, default: str = "") -> str:
        """A text field of the POSTed form ('' when absent; files are not text)."""
        if self.form is None:
            return default
        value = self.form.get(name)
        return value if isinstance(value, str) else default

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return render(self.request, template, status, session=self.session, **context)

    def redirect(self, url: str, flash: str | None = None) -> Response:
        response = RedirectResponse(url, status_code=303)
        if flash:
            response.set_cookie(
                FLASH_COOKIE, quote(flash[:300]), path="/", httponly=True, samesite="strict"
            )
        return response

    def redirect_revealing(
        self, path: str, secrets: dict[str, str], flash: str | None = None
    ) -> Response:
        """POST-redirect-GET to the page ``path`` that shows ``secrets`` once
        (:mod:`cubby.web.reveal`): reloading that page never repeats the POST."""
        response = self.redirect(path, flash)
        reveal.send(response, self.request, self.services, self.session, path, secrets)
        return response

    def revealed(self) -> dict[str, str]:
        """What :meth:`redirect_revealing` sealed for this page ({} when nothing is, or it
        expired, or it was sealed for another session)."""
        return reveal.take(self.request, self.services, self.session) or {}

    def render_revealing(
        self, template: str, revealed: dict[str, str] | None = None, **context: Any
    ) -> Response:
        """Render a page with ``revealed`` (default: :meth:`revealed`), deleting the sealed
        cookie so the secrets show only this once."""
        shown = self.revealed() if revealed is None else revealed
        response = self.render(template, revealed=shown, **context)
        if reveal.COOKIE in self.request.cookies:
            reveal.forget(response, self.request)
        return response


def render(
    request: Request,
    template: str,
    status: int = 200,
    session: WebSession | None = None,
    **context: Any,
) -> Response:
    flash = request.cookies.get(FLASH_COOKIE)
    html = _env.get_template(template).render(
        request=request,
        session=session,
        csrf=session.csrf if session is not None else "",
        flash=unquote(flash) if flash else None,
        **context,
    )
    response = HTMLResponse(html, status, headers=SECURITY_HEADERS)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: Request, error: CubbyError, session: WebSession | None) -> Response:
    if _wants_json(request):
        return JSONResponse(error.to_body(), error.status, headers=SECURITY_HEADERS)
    return render(request, "error.html", error.status, session=session, error=error)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


PageHandler = Callable[[Ctx], Awaitable[Response]]


def page(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    """Gate a handler behind a live session (and, for POST, the session's CSRF token)."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        web_session = await sessions.current(request, services)
        if web_session is None:
            if request.method == "GET" and not _wants_json(request):
                return RedirectResponse("/?" + urlencode({"next": _local(request)}), 303)
            error = CubbyError("your dashboard session has ended; sign in again")
            error.status, error.code = 401, "UNAUTHENTICATED"
            return error_page(request, error, None)
        try:
            form = None
            if request.method == "POST":
                form = await read_form(request)
                given = form.get(sessions.CSRF_FIELD) or request.headers.get(sessions.CSRF_HEADER)
                sessions.check_token(web_session.csrf, given if isinstance(given, str) else None)
            return await handler(Ctx(request, services, web_session, form))
        except CubbyError as exc:
            return error_page(request, exc, web_session)

    endpoint.__name__ = handler.__name__
    return endpoint


async def read_form(request: Request, max_files: int = 1000) -> FormData:
    """The POSTed form (urlencoded or multipart), within CUBBY_MAX_BODY_BYTES; any other body
    (a raw upload) is left unread for the handler."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        limit = request.app.state.services.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        return await request.form(max_files=max_files, max_part_size=MAX_FORM_FIELD_BYTES)
    return FormData()


def _local(request: Request) -> str:
    query = request.url.query
    return request.url.path + ("?" + query if query else "")


def safe_next(value: str | None) -> str:
    """Only a local path may be the target after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"
