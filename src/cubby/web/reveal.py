"""One view of a new secret after POST-redirect-GET: API keys, MCP server and end-user tokens.

A form that creates a secret answers ``303 See Other`` to the new thing's page, so reloading
that page never creates a second one. The plain secret travels to that one page in a sealed
cookie: encrypted and authenticated with a key derived from the server secret, bound to the
signed-in session and to the page's path, sent only to that path, and expiring after
:data:`REVEAL_SECONDS`. The page shows it once and deletes the cookie; a reload shows the page
without it ("shown only once"). The cookie never holds the secret in the clear.

Sealing uses only the standard library: the keystream is HMAC-SHA256 of a random nonce and a
block counter (a PRF in counter mode), and an HMAC-SHA256 tag over the nonce and the ciphertext
is checked before anything is decrypted (encrypt-then-MAC), with separate derived keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from cubby.core import signing
from cubby.services import Services
from cubby.web import session as sessions
from cubby.web.session import WebSession

COOKIE = "cubby_reveal"
REVEAL_SECONDS = 300
_NONCE_BYTES = 16
_TAG_BYTES = 32
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(tuple[int, str, str, dict[str, str]])


def _keys(services: Services) -> tuple[bytes, bytes]:
    root = signing.signing_key(services.settings)
    return (
        hmac.new(root, b"cubby dashboard reveal v1 encrypt", hashlib.sha256).digest(),
        hmac.new(root, b"cubby dashboard reveal v1 mac", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, size: int) -> bytes:
    blocks = (size + 31) // 32
    stream = b"".join(
        hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(blocks)
    )
    return stream[:size]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def seal(services: Services, web_session: WebSession, path: str, values: dict[str, str]) -> str:
    """The cookie value carrying ``values`` to ``path`` for this session only."""
    enc_key, mac_key = _keys(services)
    plain = _encoder.encode((int(time.time()) + REVEAL_SECONDS, web_session.id_hash, path, values))
    nonce = secrets.token_bytes(_NONCE_BYTES)
    body = nonce + _xor(plain, _keystream(enc_key, nonce, len(plain)))
    tag = hmac.new(mac_key, body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(body + tag).rstrip(b"=").decode("ascii")


def unseal(
    services: Services, web_session: WebSession, path: str, token: str | None
) -> dict[str, str] | None:
    """The values sealed for this session and ``path``, or None (absent, tampered, expired,
    another session's or another page's)."""
    if not token or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= _NONCE_BYTES + _TAG_BYTES:
        return None
    enc_key, mac_key = _keys(services)
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(hmac.new(mac_key, body, hashlib.sha256).digest(), tag):
        return None
    nonce, cipher = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
    try:
        expires, owner, sealed_path, values = _decoder.decode(
            _xor(cipher, _keystream(enc_key, nonce, len(cipher)))
        )
    except msgspec.DecodeError:
        return None
    if expires < time.time() or owner != web_session.id_hash or sealed_path != path:
        return None
    return values


def send(
    response: Response,
    request: Request,
    services: Services,
    web_session: WebSession,
    path: str,
    values: dict[str, str],
) -> None:
    """Attach ``values`` to a redirect to ``path`` (the next GET of that page shows them)."""
    response.set_cookie(
        COOKIE,
        seal(services, web_session, path, values),
        max_age=REVEAL_SECONDS,
        path=path,
        httponly=True,
        samesite="strict",
        secure=sessions.secure_cookies(request, services),
    )


def take(request: Request, services: Services, web_session: WebSession) -> dict[str, str] | None:
    """What was sealed for this session and this page, or None."""
    return unseal(services, web_session, request.url.path, request.cookies.get(COOKIE))


def forget(response: Response, request: Request) -> None:
    """Delete the cookie of this page: the secret is shown only once."""
    response.delete_cookie(COOKIE, path=request.url.path)
