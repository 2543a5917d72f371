"""Field rules of API.md that a type alone cannot express.

Every format check is a full match (``re.fullmatch``): ``re.match`` with ``$`` also accepts a
trailing newline, which let ``kv\n`` live next to ``kv`` (issue 16).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cubby.errors import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
SLUG_MAX = 64
ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
ALIAS_MAX = 64
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # C0 controls and DEL
_CONTROL_C1 = re.compile("[\x00-\x1f\x7f-\x9f]")  # and the C1 controls


def has_control_chars(text: str, *, c1: bool = False) -> bool:
    """``text`` holds a C0 control character or DEL (with ``c1``, also U+0080-U+009F).
    A regular expression, not a loop over the characters: this runs on every request."""
    return (_CONTROL_C1 if c1 else _CONTROL).search(text) is not None


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
