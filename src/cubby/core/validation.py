"""Turn msgspec decode errors into API errors that name the offending field."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from cubby.errors import InvalidJSON, ValidationError

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


def validation_error(exc: msgspec.ValidationError, prefix: str = "") -> ValidationError:
    field, message = field_of(str(exc), prefix)
    where = f" at {field}" if field else ""
    return ValidationError(f"invalid request{where}: {message}", details={"field": field or None})


def check_utf8(raw: bytes) -> None:
    """JSON text is UTF-8 (RFC 8259). msgspec passes ``Raw`` values through unchecked, so a
    request body is validated once, whole, before anything can store a piece of it."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJSON(
            f"the request body is not valid UTF-8 (byte {exc.start}): JSON must be UTF-8",
            details={"position": exc.start},
        ) from None


def decode_or_raise(
    decoder: msgspec.json.Decoder[Any], raw: bytes | msgspec.Raw, prefix: str = ""
) -> Any:
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        # msgspec validates while it parses, so a body that is also malformed JSON further on
        # would be reported as a type error; check the syntax (only on this failure path).
        try:
            msgspec.json.decode(raw)
        except msgspec.DecodeError as syntax:
            raise InvalidJSON(f"the request body is not valid JSON: {syntax}") from None
        raise validation_error(exc, prefix) from None
    except msgspec.DecodeError as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:  # invalid UTF-8 inside a string
        raise InvalidJSON(
            f"the request body is not valid UTF-8 (byte {exc.start}): JSON must be UTF-8",
            details={"position": exc.start},
        ) from None


def decode_body(decoder: msgspec.json.Decoder[Any], raw: bytes) -> Any:
    """A whole request body: UTF-8 first, then JSON decoded and validated in one pass."""
    check_utf8(raw)
    return decode_or_raise(decoder, raw)
