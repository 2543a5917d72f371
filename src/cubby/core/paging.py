"""Keyset paging shared by listings: opaque cursors and the bounds of a prefix range scan.

Listings sort in UTF-8 byte order, which is code point order (SQLite's BINARY collation,
PostgreSQL's "C"), so every string starting with a prefix lies in ``[prefix, upper)``.
"""

from __future__ import annotations

import base64
import binascii

from cubby.core.validators import has_control_chars
from cubby.errors import ValidationError

MAX_CODE_POINT = 0x10FFFF


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no bound).

    Trailing U+10FFFF characters cannot be incremented; they are dropped and the character
    before them is incremented instead (``"a\\U0010FFFF"`` -> ``"b"``). Surrogates are skipped,
    since no stored string can contain one.
    """
    stem = prefix.rstrip(chr(MAX_CODE_POINT))
    if not stem:
        return None
    nxt = ord(stem[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:
        nxt = 0xE000
    return stem[:-1] + chr(nxt)


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, field: str = "input.cursor") -> str:
    """The position a cursor names; a cursor that is not one cubby made is a 400 (including one
    that decodes to control characters such as NUL, which PostgreSQL text cannot hold)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        position = "\0"
    if has_control_chars(position):
        raise ValidationError.for_field(
            field, "invalid cursor; pass nextCursor from the previous page unchanged"
        )
    return position
