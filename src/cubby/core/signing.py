"""Signed download URLs: an expiring grant to read one path of one namespace, without an API key.

URL format (decided): ``<base url>/downloads/<payload>.<signature>`` where

- ``payload`` is unpadded base64url of the JSON array ``[1, workspaceId, ns, path, expiresAt]``
  (format version, the namespace the file lives in, its path, expiry in Unix seconds), and
- ``signature`` is unpadded base64url of HMAC-SHA256 over the ASCII payload text, keyed with a
  key derived from the server secret.

The grant names a path, not a version: like an S3 presigned URL it serves whatever that path
holds in that namespace when it is fetched, until it expires. The namespace is inside the signed
payload, so a URL made in one scope can never name another scope's file. The payload is signed,
not encrypted: whoever holds the URL can read the path and owner id in it (as with S3 keys).

The server secret is ``CUBBY_SECRET_KEY`` when set (give every replica the same value), else
32 random bytes generated once into ``<data dir>/secret_key`` (mode 0600). Processes sharing a
data dir race safely: the file is published with a hard link, which fails if another process got
there first, and then everyone reads the winner's secret.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from cubby.errors import Forbidden
from cubby.settings import Settings

SECRET_FILE = "secret_key"
MIN_SECRET_CHARS = 16
URL_PREFIX = "/downloads/"
_VERSION = 1
_KEY_CONTEXT = b"cubby download url v1"
_payload_decoder = msgspec.json.Decoder(tuple[int, str, str, str, int])


class SecretError(RuntimeError):
    """The server secret cannot be read or made; the message says what to fix."""


@dataclass(frozen=True)
class Grant:
    """What a valid download URL allows: reading ``path`` in one namespace until ``expires``."""

    workspace_id: str
    ns: str
    path: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(secret: bytes) -> bytes:
    return hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()


def _load_or_create(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read the server secret {path}: {exc}") from None
    if not text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic publish; loses cleanly to a concurrent winner
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        text = path.read_text(encoding="ascii").strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SecretError(
            f"the server secret {path} is corrupt; delete it (download URLs already handed "
            "out stop working) or set CUBBY_SECRET_KEY"
        ) from None


@functools.lru_cache(maxsize=16)
def _secret(data_dir: Path, configured: str) -> bytes:
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise SecretError(
                f"CUBBY_SECRET_KEY must be at least {MIN_SECRET_CHARS} characters "
                "(use e.g. 32 random bytes as hex)"
            )
        return _signing_key(configured.encode("utf-8"))
    return _signing_key(_load_or_create(data_dir / SECRET_FILE))


def signing_key(settings: Settings) -> bytes:
    """The HMAC key for download URLs (read or generated once per process and data dir)."""
    return _secret(settings.data_dir.resolve(), settings.secret_key)


def sign(key: bytes, grant: Grant) -> str:
    """The URL token (``payload.signature``) for ``grant``."""
    payload = _b64(
        msgspec.json.encode([_VERSION, grant.workspace_id, grant.ns, grant.path, grant.expires])
    )
    signature = _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def verify(key: bytes, token: str, now: float) -> Grant:
    """The grant in ``token``; 403 FORBIDDEN if it is tampered with, malformed or expired."""
    payload, dot, signature = token.partition(".")
    if not dot or not payload.isascii() or not signature.isascii():
        raise _invalid()
    expected = _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise _invalid()
    try:
        version, workspace_id, ns, path, expires = _payload_decoder.decode(_unb64(payload))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise _invalid() from None
    if version != _VERSION:
        raise _invalid()
    if expires <= now:
        raise Forbidden(
            "this download URL has expired; ask for a new one with get_download_url",
            details={"reason": "EXPIRED", "expiresAt": iso_utc(expires)},
        )
    return Grant(workspace_id, ns, path, expires)


def iso_utc(unix_seconds: int) -> str:
    """``expiresAt`` as API.md writes timestamps (ISO-8601 UTC, milliseconds)."""
    moment = datetime.fromtimestamp(unix_seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _invalid() -> Forbidden:
    return Forbidden(
        "invalid download URL signature (the URL was changed or signed by another server secret)",
        details={"reason": "BAD_SIGNATURE"},
    )
