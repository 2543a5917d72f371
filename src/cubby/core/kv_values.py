"""JSON values of the KV Store: canonical form for list items, hashing, size checks."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder(order="sorted")
_decoder = msgspec.json.Decoder()


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted object keys, no whitespace. Equal JSON values give equal bytes,
    so list removes can compare items by their text."""
    return _encoder.encode(value)


def canonical_raw(raw: bytes) -> bytes:
    return canonical(_decoder.decode(raw))


def value_hash(item: bytes) -> int:
    """A signed 63-bit hash of a canonical item, for SQLite/PostgreSQL integer columns."""
    digest = hashlib.blake2b(item, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def is_json_array(raw: bytes) -> bool:
    return raw.lstrip()[:1] == b"["


def list_items(raw: bytes) -> list[bytes]:
    """The canonical items of a raw JSON array."""
    return [canonical(item) for item in _decoder.decode(raw)]
