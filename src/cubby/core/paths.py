"""Storage paths: validation and normalisation (API.md, "Storage").

A path is relative, ``/``-separated UTF-8 text, at most :data:`MAX_PATH_BYTES` bytes after NFC
normalisation. It is rejected (400 ``VALIDATION_ERROR``, ``details.field`` names the input) when
it is empty, starts with ``/``, has an empty segment (``a//b``, a trailing ``/``), a ``.`` or
``..`` segment, a backslash, NUL or any other control character (Unicode category ``Cc``: C0,
DEL and C1), or is not encodable as UTF-8 (lone surrogates).

The one normalisation is NFC, so ``e`` + combining acute and the precomposed ``é`` name the same
file. Nothing else is rewritten: ``a/./b`` is rejected, not collapsed, so what a caller reads back
is exactly what it wrote.

Stricter than API.md, deliberately: a segment is also rejected when another reading of it -
percent-decoding (repeated, to catch ``%252e``) and Unicode compatibility folding (NFKC: the
full-width full stop U+FF0E becomes ``.``, the full-width solidi U+FF0F and U+FF3C become ``/``
and ``\\``, the dot leaders U+2024 and U+2025 become dots), applied until nothing changes - is
``.`` or ``..``, is empty, or contains ``/``, ``\\`` or a control character. cubby itself never
interprets a path (bodies live under opaque blob keys, see :mod:`cubby.backends.blobs`), but
paths travel on to places that might: download file names, sandbox mounts, sync tools, other
people's HTTP stacks. Refusing every path whose structure depends on who reads it keeps them all
contained. ``100%.txt``, ``%41`` or ``…`` (which folds to ``...``, an ordinary name) stay valid.

List prefixes (:func:`normalize_prefix`) are only compared with stored paths inside one
namespace, so they get NFC, the size limit and the control-character rule and nothing else
(``reports/`` must work).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from cubby.errors import ValidationError

MAX_PATH_BYTES = 1024
# Anything this long cannot be a valid path even after NFC composes it; refuse it before
# spending time on normalisation.
_MAX_RAW_CHARS = 4 * MAX_PATH_BYTES
_MAX_FOLD_ROUNDS = 8
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


def _reject(field: str, message: str) -> ValidationError:
    return ValidationError.for_field(field, f"invalid {field}: {message}")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _nfc(raw: str, field: str) -> str:
    """NFC form of ``raw``, after checking it is valid UTF-8 text of a sane length."""
    if len(raw) > _MAX_RAW_CHARS:
        raise _reject(field, f"longer than {MAX_PATH_BYTES} bytes")
    if raw.isascii():
        return raw  # ASCII is its own NFC and NFKC form
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise _reject(field, "not valid UTF-8 (lone surrogate)") from None
    return unicodedata.normalize("NFC", raw)


def _check_size(path: str, field: str) -> None:
    size = len(path.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        raise ValidationError.for_field(
            field,
            f"invalid {field}: {size} bytes of UTF-8; the limit is {MAX_PATH_BYTES}",
            limit=MAX_PATH_BYTES,
        )


def _check_controls(path: str, field: str) -> None:
    if path.isascii():
        if _PRINTABLE_ASCII.fullmatch(path) is None:
            raise _reject(field, "contains NUL or a control character")
    elif any(_is_control(ch) for ch in path):
        raise _reject(field, "contains NUL or a control character")


def _fold(segment: str) -> str | None:
    """Every reading of ``segment`` applied until stable; None if it never settles."""
    current = segment
    for _ in range(_MAX_FOLD_ROUNDS):
        folded = unicodedata.normalize("NFKC", unquote(current))
        if folded == current:
            return current
        current = folded
    return None


def _check_segment(segment: str, field: str) -> None:
    if segment == "":
        raise _reject(field, "empty segment ('//', or a leading or trailing '/')")
    if segment in (".", ".."):
        raise _reject(field, f"{segment!r} segments are not allowed")
    if segment.isascii() and "%" not in segment:
        return  # plain ASCII without escapes reads the same everywhere
    folded = _fold(segment)
    if (
        folded is None
        or folded in ("", ".", "..")
        or "/" in folded
        or "\\" in folded
        or any(_is_control(ch) for ch in folded)
    ):
        raise _reject(
            field,
            f"segment {segment!r} reads as {folded!r} once percent-escapes and Unicode "
            "compatibility forms are decoded; use plain characters",
        )


def normalize_path(raw: str, field: str = "input.path") -> str:
    """The NFC form of a valid path; raises ValidationError naming ``field`` otherwise."""
    path = _nfc(raw, field)
    if path == "":
        raise _reject(field, "must not be empty")
    _check_size(path, field)
    if path.startswith("/"):
        raise _reject(field, "must be relative (no leading '/')")
    if "\\" in path:
        raise _reject(field, "must use '/' as separator (no backslash)")
    _check_controls(path, field)
    for segment in path.split("/"):
        _check_segment(segment, field)
    return path


def normalize_prefix(raw: str, field: str = "input.prefix") -> str:
    """The NFC form of a listing prefix (may be empty, may end with '/')."""
    prefix = _nfc(raw, field)
    _check_size(prefix, field)
    _check_controls(prefix, field)
    return prefix
