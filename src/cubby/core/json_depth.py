"""The nesting limit of request JSON (issue 16: ``[[[[...]]]]`` 1,000 deep gave a 500).

msgspec decodes recursively and raises ``RecursionError`` somewhere near Python's recursion
limit, which depends on how deep the stack already is. So the limit is ours and exact:
:data:`MAX_JSON_DEPTH` levels of arrays and objects, checked before decoding, with bytes
operations only (no Python loop per byte): counting for any body with fewer brackets than the
limit (nearly all); otherwise the brackets outside strings, from which each pass removes every
innermost pair ``()``. After k passes every subtree of height <= k is gone, so the text nests
deeper than the limit exactly when something is left after ``limit`` passes. Real documents
need a pass or two per level they actually use; a long run of openers ends the scan at once.
"""

from __future__ import annotations

from cubby.errors import InvalidJSON

MAX_JSON_DEPTH = 512

_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_PARENS = bytes.maketrans(b"[{]}", b"(())")


# Counted this many bytes at a time: one count of a 27 MB body holds the GIL for ~12 ms, and
# the event loop waits on it (issue 28, item 10); a window at a time lets it in between.
_WINDOW = 1 << 20


def _opening(raw: bytes) -> int:
    if len(raw) <= _WINDOW:
        return raw.count(b"[") + raw.count(b"{")
    total = 0
    for start in range(0, len(raw), _WINDOW):
        end = start + _WINDOW
        total += raw.count(b"[", start, end) + raw.count(b"{", start, end)
    return total


def _outside_strings(raw: bytes) -> bytes:
    """``raw`` without its JSON strings: escaped backslashes and quotes go first (pairs left
    to right, as a JSON parser reads them), then every other quote opens or closes a string."""
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(plain.split(b'"')[0::2])


def depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays/objects deeper than ``limit``."""
    if _opening(raw) <= limit:
        return False
    structure = _outside_strings(raw)
    if _opening(structure) <= limit:
        return False
    parens = structure.translate(_PARENS, _NOT_BRACKET)
    run = b"(" * (limit + 1)
    for _ in range(limit):
        if run in parens:
            return True
        reduced = parens.replace(b"()", b"")
        if len(reduced) == len(parens):  # unbalanced leftovers ")))(((": malformed anyway
            return parens.count(b"(") > limit
        parens = reduced
        if not parens:
            return False
    return bool(parens)


def too_deep(limit: int = MAX_JSON_DEPTH) -> InvalidJSON:
    return InvalidJSON(
        f"the JSON is nested deeper than {limit} levels of arrays and objects",
        details={"maxDepth": limit},
    )


def check_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise 400 ``INVALID_JSON`` (naming the limit) for JSON nested deeper than ``limit``."""
    if depth_exceeds(raw, limit):
        raise too_deep(limit)
