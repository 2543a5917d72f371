"""JSON values of the KV Store: list items as sent plus their canonical form, hashing, the
domain errors the backends raise, and the number rules of ``increment``.

A list item is stored as the compact JSON text the client sent (issue 16: ``0.10000000000000001``
stays that, ``{"a":1,"a":2}`` keeps both members); equality for ``remove_from_list`` uses a
canonical form (sorted object keys, numbers as msgspec reads them), kept next to the text only
when the two differ.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import msgspec

from cubby.errors import ActionFailed, PayloadTooLarge, ValidationError

_encoder = msgspec.json.Encoder(order="sorted")
_decoder = msgspec.json.Decoder()
_items_decoder = msgspec.json.Decoder(list[msgspec.Raw])

# A JSON number, and the integer subset of it (what `increment` keeps an integer).
NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
INTEGER = re.compile(rb"-?(?:0|[1-9][0-9]*)")
# Integers longer than this are refused by `increment` on every backend (Python's own int
# parsing limit is 4300 digits; PostgreSQL's numeric would take more).
MAX_INTEGER_DIGITS = 4000


class ListItem(NamedTuple):
    """One list item as the backends store it."""

    text: str  # compact JSON, as the client sent it
    canon: str | None  # the canonical form when it differs from ``text``
    hash: int  # value_hash of the canonical form


def _number(text: str) -> Any:
    """A number as msgspec reads it, or (out of its range) a canonical decimal text."""
    try:
        return _decoder.decode(text)
    except msgspec.ValidationError:
        try:
            return msgspec.Raw(format(Decimal(text).normalize(), "E").encode())
        except InvalidOperation:  # pragma: no cover - the text is a JSON number
            return msgspec.Raw(text.encode())


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted object keys, no whitespace, and a number with an integral value
    written as an integer (``1.0``, ``1e2`` and ``100.0`` are ``1``, ``100``: JSON numbers are
    equal by value, issue 28 item 8). Equal JSON values give equal bytes, so list removes can
    compare items by their text."""
    text = _encoder.encode(value)
    if not _MAY_HAVE_FLOAT.search(text):  # no float anywhere: the common case
        return text
    return _encoder.encode(_integral_floats_as_ints(value))


_MAY_HAVE_FLOAT = re.compile(rb"[.eE]")


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    return value


def canonical_raw(raw: bytes) -> bytes:
    """The canonical form of one JSON text. Numbers outside what msgspec represents (``1e400``,
    a 5,000-digit integer) get a normalised decimal form instead of failing."""
    try:
        return canonical(_decoder.decode(raw))
    except msgspec.ValidationError:
        pass
    try:
        value = json.loads(raw, parse_float=_number, parse_int=_number)
    except RecursionError:
        raise ValidationError.for_field("input.value", "the value is nested too deeply") from None
    return canonical(value)


def value_hash(item: bytes) -> int:
    """A signed 63-bit hash of a canonical item, for SQLite/PostgreSQL integer columns."""
    digest = hashlib.blake2b(item, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def list_item(text: bytes) -> ListItem:
    """A list item from its compact JSON text."""
    canon = canonical_raw(text)
    return ListItem(text.decode(), None if canon == text else canon.decode(), value_hash(canon))


def restated(text: str, canon: str | None, stored_hash: int) -> ListItem | None:
    """The item a stored row should hold when its canonical form or hash is out of date (made
    by an older rule, e.g. before numbers compared by value), else None."""
    item = list_item(text.encode())
    return item if (item.canon, item.hash) != (canon, stored_hash) else None


def is_json_array(raw: bytes) -> bool:
    return raw.lstrip()[:1] == b"["


def list_items(raw: bytes) -> list[ListItem]:
    """The items of a compact JSON array, each kept as sent."""
    return [list_item(bytes(item)) for item in _items_decoder.decode(raw)]


def list_size(items: list[ListItem]) -> int:
    """Bytes of the list as ``get`` returns it: ``[`` items joined by ``,`` ``]``."""
    return 2 + sum(len(i.text.encode()) for i in items) + max(len(items) - 1, 0)


# -- increment -------------------------------------------------------------------------------
def add_numbers(key: str, current: bytes, by: int | float) -> bytes:
    """``current + by`` as JSON text (SQLite's writer job; PostgreSQL does the same in SQL).

    An integer plus an integer stays an integer (any size up to MAX_INTEGER_DIGITS); anything
    else is a float; a non-number is NOT_A_NUMBER, an overflow OUT_OF_RANGE."""
    text = current.strip()
    if NUMBER.fullmatch(text) is None:
        raise not_a_number(key)
    if INTEGER.fullmatch(text) and isinstance(by, int):
        if len(text) > MAX_INTEGER_DIGITS:
            raise out_of_range(key)
        return str(int(text) + by).encode()
    result = float(text) + by
    if result in (float("inf"), float("-inf")) or result != result:
        raise out_of_range(key)
    return msgspec.json.encode(result)


# -- domain errors the backends raise --------------------------------------------------------
def not_a_list(key: str) -> ActionFailed:
    return ActionFailed(
        f"the value at key {key!r} is not a list; put a list there first or use another key",
        reason="NOT_A_LIST",
        key=key,
    )


def list_full(key: str, items: int, limit: int) -> PayloadTooLarge:
    """An append refused because the list is at (or, made before the cap, past) its cap."""
    return PayloadTooLarge(
        f"the list at key {key!r} already has {items} items; the limit is {limit}: remove "
        "items first, use another key, or raise CUBBY_KV_MAX_LIST_ITEMS",
        details={"field": "input.value", "limit": limit, "items": items},
    )


def not_a_number(key: str) -> ActionFailed:
    return ActionFailed(
        f"the value at key {key!r} is not a number; put a number there first or use another key",
        reason="NOT_A_NUMBER",
        key=key,
    )


def out_of_range(key: str) -> ActionFailed:
    return ActionFailed(
        f"incrementing key {key!r} leaves the range of numbers cubby stores "
        f"(floats up to about 1.8e308, integers up to {MAX_INTEGER_DIGITS} digits)",
        reason="OUT_OF_RANGE",
        key=key,
    )


def version_conflict(key: str, current: int) -> ActionFailed:
    return ActionFailed(
        f"key {key!r} is at version {current}, not the ifVersion given; read it again and retry",
        reason="CONFLICT",
        key=key,
        currentVersion=current,
    )
