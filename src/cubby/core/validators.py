"""Field rules of API.md that a type alone cannot express.

Every format check is a full match (``re.fullmatch``): ``re.match`` with ``$`` also accepts a
trailing newline, which let ``kv\n`` live next to ``kv`` (issue 16).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import inspect as mi

from cubby.errors import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SLUG_MAX = 64
ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
ALIAS_MAX = 64
# C0 controls, DEL and the C1 controls: one rule for every identifier and name (KV keys took
# C1 as control characters while end-user ids did not: issue 28, item 8).
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")


def has_control_chars(text: str) -> bool:
    """``text`` holds a control character (C0, DEL or C1: U+0000-U+001F, U+007F-U+009F).
    A regular expression, not a loop over the characters: this runs on every request."""
    return _CONTROL.search(text) is not None


def check_slug(slug: str) -> str:
    if len(slug) > SLUG_MAX or not SLUG_RE.fullmatch(slug):
        raise ValidationError.for_field(
            "slug",
            f"slug must be lowercase letters, digits and '-', start with a letter or digit, "
            f"at most {SLUG_MAX} characters; got {slug!r}",
        )
    return slug


def ascii_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits. ``str.isdigit`` alone also takes ``²`` (which
    ``int`` refuses) and ``٣`` (which ``int`` reads as 3)."""
    return text.isascii() and text.isdigit()


def check_name(name: str, field: str = "name") -> str:
    if not name.strip():
        raise ValidationError.for_field(field, f"{field} must not be blank")
    if any(ord(ch) < 0x20 for ch in name):
        raise ValidationError.for_field(field, f"{field} must not contain control characters")
    return name


def check_alias(alias: str) -> str:
    if len(alias) > ALIAS_MAX or not ALIAS_RE.fullmatch(alias):
        raise ValidationError.for_field(
            "alias",
            "alias must match ^[a-z][a-z0-9_-]*$ (lowercase, starting with a letter) and be "
            f"at most {ALIAS_MAX} characters; got {alias!r}",
        )
    return alias


def parse_expiry(value: str) -> str:
    """An ISO-8601 timestamp in the future, normalised to UTC ``...Z``."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError.for_field(
            "expiresAt", f"expiresAt must be an ISO-8601 timestamp, got {value!r}"
        ) from None
    if parsed <= datetime.now(UTC):
        raise ValidationError.for_field("expiresAt", "expiresAt must be in the future")
    return parsed.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- what a database parameter can hold ---------------------------------------------------------
# PostgreSQL refuses a NUL (U+0000) in any text and an integer outside 64 bits (SQLite stores
# the text but overflows on the integer): sent as a parameter, either was a 500. The rule is
# checked here, on every decoded body and action input, so both backends answer the same 400
# whatever the field. Exempt: fields whose value is stored as JSON text or as a file body
# (declared ``Any``/``Raw``, or marked ``Meta(extra={"nul_ok": True})``, e.g. a file's text).
# A ``limit`` beyond 64 bits is read as the largest one (routes clamp limits, never refuse).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# The cheap pre-scan of the raw JSON (no false miss): an escaped NUL, or 19 digits in a row
# (digits all read as 0, then one substring search: about 5x faster than a regular expression
# with the two alternatives on a 120-byte execute body, where no position can be skipped).
DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN_DIGITS = b"0" * 19
_SKIP, _CHECK, _CLAMP = 0, 1, 2


def storable_suspect(raw: bytes) -> bool:
    """``raw`` JSON may hold a NUL or a 64-bit overflow (then :func:`check_storable`)."""
    return b"\\u0000" in raw or _NINETEEN_DIGITS in raw.translate(DIGITS_AS_ZERO)


def check_storable(value: Any, field: str = "") -> None:
    """ValidationError naming the field when a decoded value holds a NUL in a text or an
    integer outside 64 bits."""
    if value is None or isinstance(value, bool | float | msgspec.Raw):
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError.for_field(
                field or "body", f"{field or 'the body'} must not contain NUL (U+0000)"
            )
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValidationError.for_field(
                field or "body",
                f"{field or 'the body'} must be between {INT64_MIN} and {INT64_MAX}",
            )
    elif isinstance(value, msgspec.Struct):
        for attr, wire, mode in _plan(type(value)):
            child = getattr(value, attr)
            if mode == _CLAMP and isinstance(child, int) and child > INT64_MAX:
                setattr(value, attr, INT64_MAX)
            elif mode != _SKIP:
                check_storable(child, f"{field}.{wire}" if field else wire)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, field)
            check_storable(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            check_storable(item, f"{field}.{i}" if field else str(i))


@functools.lru_cache(maxsize=1024)
def _plan(struct: type[msgspec.Struct]) -> tuple[tuple[str, str, int], ...]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return tuple((f.name, f.encode_name, _mode(f.type, f.encode_name)) for f in info.fields)


def _mode(info: mi.Type, wire: str) -> int:
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    for member in members:
        if isinstance(member, mi.Metadata):
            if (member.extra or {}).get("nul_ok"):
                return _SKIP
            member = member.type
        if isinstance(member, mi.AnyType | mi.RawType):
            return _SKIP
    return _CLAMP if wire == "limit" else _CHECK
