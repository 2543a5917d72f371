"""Dashboard sign-in: sessions in an HttpOnly cookie, and CSRF tokens.

Signing in trades a pasted API key for a session: a random id in an ``HttpOnly``,
``SameSite=Strict`` cookie (``Secure`` over https), stored only as its SHA-256, expiring after
:data:`SESSION_SECONDS` (or with its key). The key itself is never stored, put in a URL, a page,
a cookie or a log line: the session row points at the key's record, and every request looks the
session up joined to that record, so revoking or expiring the key ends its sessions at once on
every process. The session's :class:`~cubby.auth.Principal` is the one the JSON API would
build for the same key, so the dashboard has no permission rules of its own.

Every state-changing request carries the session's CSRF token (a form field or the
``X-CSRF-Token`` header). The sign-in form, which has no session yet, uses a double-submit
token: a random value in a ``SameSite=Strict`` cookie that the form must echo.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from cubby.auth import Principal, expiry_epoch, hash_key
from cubby.core import clock, keys
from cubby.errors import Forbidden, Unauthenticated
from cubby.services import Services

COOKIE = "cubby_session"
SIGNIN_COOKIE = "cubby_signin"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf: str
    id_hash: str


def secure_cookies(request: Request, services: Services) -> bool:
    return request.url.scheme == "https" or services.settings.public_url.startswith("https://")


def set_cookie(
    response: Response, request: Request, services: Services, name: str, value: str, age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, services),
    )


def clear_cookie(response: Response, request: Request, services: Services, name: str) -> None:
    set_cookie(response, request, services, name, "", 0)


async def current(request: Request, services: Services) -> WebSession | None:
    """The request's live session, or None (no cookie, unknown, expired, key revoked)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    id_hash = hash_key(raw)
    found = await services.meta.sessions.find(id_hash)
    if found is None or found.key.revoked:
        return None
    now = clock.now()
    expires = expiry_epoch(found.expires_at)
    if expires is not None and expires <= now:
        return None
    if not keys.usable(found.key.key, now):
        return None
    return WebSession(Principal(found.key.key), found.csrf_token, id_hash)


async def sign_in(services: Services, plain_key: str) -> tuple[str, int]:
    """Check a pasted key exactly as the API would and open a session for it.

    Returns the cookie value (the session id) and its lifetime in seconds.
    """
    plain_key = plain_key.strip()
    if not plain_key:
        raise Unauthenticated("paste an API key to sign in")
    principal = await services.auth.authenticate("Bearer " + plain_key)
    now = clock.now()
    expires = now + SESSION_SECONDS
    key_expires = expiry_epoch(principal.key.expires_at)
    if key_expires is not None:
        expires = min(expires, key_expires)
    session_id = secrets.token_urlsafe(32)
    await services.meta.sessions.delete_expired(clock.iso(now))
    await services.meta.sessions.create(
        hash_key(session_id),
        principal.key.id,
        secrets.token_urlsafe(32),
        clock.iso(now),
        clock.iso(expires),
    )
    return session_id, max(1, int(expires - now))


async def sign_out(services: Services, session: WebSession) -> None:
    await services.meta.sessions.delete(session.id_hash)


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def check_token(expected: str | None, given: str | None) -> None:
    """Refuse (403) a state-changing request whose CSRF token is missing or wrong."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise Forbidden(
            "this form has expired or did not come from this dashboard (CSRF token "
            "missing or wrong); reload the page and try again",
            code="CSRF_FAILED",
        )
