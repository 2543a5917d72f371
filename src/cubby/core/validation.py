"""Decode request JSON into the declared Structs; errors become API errors naming the field.

Shared by every body and every action input, so a rule here holds for all of them. One such
rule: where an integer is declared, a JSON number with an integral value written as a float
(``120.0``, as the Weavz clients' typed layer sends integer props) is accepted as that integer;
``120.5`` stays a 400 naming the field. msgspec's own lax mode would also take ``"120"`` and
``"true"`` strings, so the conversion is ours: only when strict decoding fails on a float, the
body is rebuilt with those floats written as integers (every other value kept byte for byte)
and decoded once more. The hot path never pays for it.
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from cubby.core.fields import MEANINGS
from cubby.core.heavy import HEAVY_BYTES
from cubby.core.json_depth import check_depth, too_deep
from cubby.core.validators import check_storable, storable_suspect
from cubby.errors import InvalidJSON, ValidationError

T = TypeVar("T")

_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD = re.compile(r"(?:unknown|required) field `(?P<name>[^`]+)`")


def field_of(message: str, prefix: str = "") -> tuple[str, str]:
    """``("input.key", "Expected `str`, got `int`")`` from a msgspec validation message."""
    path = ""
    match = _AT_PATH.search(message)
    if match:
        path = match.group("path")
        message = message[: match.start()]
    named = _FIELD.search(message)
    if named:
        path = f"{path}.{named.group('name')}"
    path = re.sub(r"\[(\d+)\]", r".\1", path).lstrip(".")
    field = ".".join(part for part in (prefix, path) if part)
    return field, message


def validation_error(
    exc: msgspec.ValidationError, prefix: str = "", declared: Hashable | None = None
) -> ValidationError:
    """The 400 for a msgspec error. With ``declared`` (the decoded type), a broken rule of
    :mod:`cubby.core.fields` is said in words: "name must not contain control characters",
    "mode must be one of 'TOOLS'", "nothing to update: send name and/or slug"."""
    field, message = field_of(str(exc), prefix)
    friendly = _in_words(message, field, prefix, declared)
    if friendly is not None:
        text, extra = friendly
        return ValidationError(text, details={"field": field or None, **extra})
    where = f" at {field}" if field else ""
    return ValidationError(f"invalid request{where}: {message}", details={"field": field or None})


_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_LENGTH = re.compile(r"^Expected `str` of length (?P<op>[<>]=) (?P<n>\d+)$")


def _in_words(
    message: str, field: str, prefix: str, declared: Hashable | None
) -> tuple[str, dict[str, Any]] | None:
    if not field:  # a rule of the whole body (cubby.core.inputs.Patch)
        return (message, {}) if message.startswith("nothing to update") else None
    for pattern, meaning in MEANINGS.items():
        if message == f"Expected `str` matching regex {pattern!r}":
            return f"{field} {meaning}", {}
    length = _LENGTH.match(message)
    if length is not None:
        if length["op"] == ">=" and length["n"] == "1":
            return f"{field} must not be empty", {}
        limit = int(length["n"])
        bound = "at least" if length["op"] == ">=" else "at most"
        return f"{field} must be {bound} {limit} characters", {"limit": limit}
    enum = _ENUM.match(message)
    if enum is not None and declared is not None:
        path = field.removeprefix(prefix).lstrip(".")
        allowed = _literal_at(_type_info(declared), path.split(".") if path else [])
        if allowed:
            listed = ", ".join(repr(v) for v in allowed)
            return f"{field} must be one of {listed}; got {enum['value']}", {"allowed": allowed}
    return None


def _literal_at(info: mi.Type, path: list[str]) -> list[Any]:
    """The values of the ``Literal`` found at ``path`` (encoded field names and list indexes)
    inside ``info``; empty when there is none."""
    for member in _members(info):
        if not path:
            if isinstance(member, mi.LiteralType):
                return list(member.values)
            continue
        head, rest = path[0], path[1:]
        if isinstance(member, mi.StructType):
            for f in member.fields:
                if f.encode_name == head:
                    return _literal_at(f.type, rest)
        elif isinstance(member, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            if head.isdigit():
                return _literal_at(member.item_type, rest)
        elif isinstance(member, mi.DictType):
            return _literal_at(member.value_type, rest)
    return []


def check_utf8(raw: bytes) -> None:
    """JSON text is UTF-8 (RFC 8259). msgspec passes ``Raw`` values through unchecked, so a
    request body is validated once, whole, before anything can store a piece of it."""
    if raw.isascii():  # nearly every body (JSON escapes non-ASCII text): no copy made
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJSON(
            f"the request body is not valid UTF-8 (byte {exc.start}): JSON must be UTF-8",
            details={"position": exc.start},
        ) from None


_GOT_FLOAT = "got `float`"
_MAX_EXACT = 2**63  # integral floats beyond this are not exact integers any more
_raw_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
_raw_array = msgspec.json.Decoder(list[msgspec.Raw])
_number = msgspec.json.Decoder(float | int)


@functools.lru_cache(maxsize=512)
def _type_info(declared: Hashable) -> mi.Type:
    return mi.type_info(declared)


def _members(info: mi.Type) -> list[mi.Type]:
    """The alternatives a value may take (unions flattened, metadata unwrapped)."""
    if isinstance(info, mi.Metadata):
        return _members(info.type)
    if isinstance(info, mi.UnionType):
        return [m for member in info.types for m in _members(member)]
    return [info]


def _integral(raw: bytes) -> bytes | None:
    """``raw`` rewritten as an integer when it is a float with an integral value."""
    text = raw.strip()
    if not text or text[:1] not in b"-0123456789":
        return None
    try:
        value = _number.decode(text)
    except msgspec.DecodeError:
        return None
    if not isinstance(value, float) or not math.isfinite(value) or abs(value) >= _MAX_EXACT:
        return None
    return str(int(value)).encode() if value.is_integer() else None


def _rewrite(info: mi.Type, raw: bytes) -> bytes | None:
    """``raw`` with integral floats at integer positions of ``info`` written as integers;
    None when nothing needed rewriting (then the first error stands)."""
    members = _members(info)
    if any(isinstance(m, mi.IntType) for m in members):
        fixed = _integral(raw)
        if fixed is not None:
            return fixed
    head = raw.lstrip()[:1]
    for member in members:
        if isinstance(member, mi.StructType) and head == b"{":
            return _rewrite_object(raw, {f.encode_name: f.type for f in member.fields})
        if isinstance(member, mi.DictType) and head == b"{":
            return _rewrite_object(raw, None, member.value_type)
        sequence = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)
        if isinstance(member, sequence) and head == b"[":
            return _rewrite_array(raw, member.item_type)
    return None


def _rewrite_object(
    raw: bytes, fields: dict[str, mi.Type] | None, values: mi.Type | None = None
) -> bytes | None:
    try:
        items = _raw_object.decode(raw)
    except msgspec.DecodeError:
        return None
    changed = False
    parts = []
    for name, value in items.items():
        field = values if fields is None else fields.get(name)
        fixed = _rewrite(field, bytes(value)) if field is not None else None
        changed |= fixed is not None
        parts.append(msgspec.json.encode(name) + b":" + (fixed if fixed is not None else value))
    return b"{" + b",".join(parts) + b"}" if changed else None


def _rewrite_array(raw: bytes, item: mi.Type) -> bytes | None:
    try:
        items = _raw_array.decode(raw)
    except msgspec.DecodeError:
        return None
    fixed = [_rewrite(item, bytes(value)) for value in items]
    if all(f is None for f in fixed):
        return None
    parts = (f if f is not None else bytes(v) for f, v in zip(fixed, items, strict=True))
    return b"[" + b",".join(parts) + b"]"


def integral_floats_as_ints(decoder: msgspec.json.Decoder[Any], raw: bytes) -> bytes | None:
    """The body with every integral float at a declared integer written as an integer, or
    None when there is none (so the decoder's first error stands)."""
    declared: Any = decoder.type
    return _rewrite(_type_info(declared), raw)


# Bodies from this size on skip the regular-expression pre-scan of storable_suspect.
PRESCAN_MAX_BYTES = 64 * 1024


def decode_or_raise(
    decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, prefix: str = ""
) -> Any:
    """Decode and validate; then the database rule (no NUL in text, 64-bit integers: see
    validators.check_storable), walked only when the raw text may break it."""
    value = _decode(decoder, raw, prefix)
    # The pre-scan is a regular expression: cheap on a small body, but seconds of CPU (with the
    # GIL held) on a 27 MB base64 file (issue 28, item 10), while walking the decoded value
    # costs its number of fields, not its bytes (stored JSON and file bodies are skipped).
    if len(raw) >= PRESCAN_MAX_BYTES or storable_suspect(
        raw if isinstance(raw, bytes) else bytes(raw)
    ):
        check_storable(value, prefix)
    return value


def _decode(decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, prefix: str) -> Any:
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        if _GOT_FLOAT in str(exc):
            fixed = integral_floats_as_ints(decoder, bytes(raw))
            if fixed is not None:
                return _decode(decoder, fixed, prefix)
        # msgspec validates while it parses, so a body that is also malformed JSON further on
        # would be reported as a type error; check the syntax (only on this failure path).
        try:
            msgspec.json.decode(raw)
        except msgspec.DecodeError as syntax:
            raise InvalidJSON(f"the request body is not valid JSON: {syntax}") from None
        declared: Any = decoder.type
        raise validation_error(exc, prefix, declared) from None
    except msgspec.DecodeError as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:  # a caller that skipped check_depth
        raise too_deep() from None
    except UnicodeDecodeError as exc:  # invalid UTF-8 inside a string
        raise InvalidJSON(
            f"the request body is not valid UTF-8 (byte {exc.start}): JSON must be UTF-8",
            details={"position": exc.start},
        ) from None


# Bodies at least this big are decoded on a worker thread: the event loop keeps serving other
# requests meanwhile (it gets the GIL back every few milliseconds) instead of stalling for the
# whole decode of a multi-megabyte body (issue 16, item 9).
OFF_LOOP_BYTES = HEAVY_BYTES


async def off_loop(fn: Callable[..., T], *args: Any, size: int) -> T:
    """``fn(*args)`` here, or on a worker thread when ``size`` is at least OFF_LOOP_BYTES."""
    if size < OFF_LOOP_BYTES:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


async def decode_body_off_loop(decoder: msgspec.json.Decoder[Any], raw: bytes) -> Any:
    """:func:`decode_body`, on a worker thread for a big body."""
    return await off_loop(decode_body, decoder, raw, size=len(raw))


def decode_body(decoder: msgspec.json.Decoder[Any], raw: bytes) -> Any:
    """A whole request body: UTF-8 and the nesting limit first, then JSON decoded and
    validated in one pass."""
    check_utf8(raw)
    check_depth(raw)
    return decode_or_raise(decoder, raw)
