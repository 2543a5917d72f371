"""Query parameters shared by list routes: ``limit``/``offset`` paging and boolean flags.

A ``limit`` above a route's maximum is clamped to it, not refused (the Weavz clients ask for
more than some routes serve); below 1, or not an integer, is a 400 naming the parameter.
"""

from __future__ import annotations

from cubby.api.endpoint import Call, QueryParam
from cubby.core.validators import ascii_digits
from cubby.errors import ValidationError

MAX_OFFSET = 2**31 - 1  # far past any real listing; keeps the value inside every SQL integer
_MAX_DIGITS = 30  # far past every bound below; a 5,000-digit number is not worth parsing
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def int_param(call: Call, name: str, default: int, low: int, high: int | None) -> int:
    """An integer query parameter: below ``low`` is a 400, above ``high`` is clamped."""
    raw = call.request.query_params.get(name)
    if raw is None:
        return default
    negative = raw[:1] == "-"
    digits = raw[1:] if negative else raw
    if not ascii_digits(digits):  # int() also reads "٣" as 3
        raise ValidationError.for_field(name, f"{name} must be an integer")
    if len(digits) > _MAX_DIGITS:  # not worth parsing: past every bound either way
        if negative or high is None:
            raise ValidationError.for_field(name, f"{name} is out of range")
        return high  # clamped, like any other value above the maximum (issue 28, item 8)
    value = int(raw)
    if value < low:
        raise ValidationError.for_field(name, f"{name} must be >= {low}")
    return value if high is None else min(value, high)


def page(call: Call, default_limit: int, max_limit: int) -> tuple[int, int]:
    """``(limit, offset)`` of a list route."""
    limit = int_param(call, "limit", default_limit, 1, max_limit)
    offset = int_param(call, "offset", 0, 0, None)
    if offset > MAX_OFFSET:
        raise ValidationError.for_field("offset", f"offset must be at most {MAX_OFFSET}")
    return limit, offset


def page_query(default_limit: int, max_limit: int) -> list[QueryParam]:
    """The OpenAPI description of :func:`page`'s parameters."""
    return [
        QueryParam(
            "limit",
            {"type": "integer", "minimum": 1, "default": default_limit},
            f"page size; values above {max_limit} are clamped to {max_limit}",
        ),
        QueryParam(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            "how many items to skip: the previous page's offset plus its limit",
        ),
    ]


def bool_param(call: Call, name: str, default: bool = False) -> bool:
    raw = call.request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ValidationError.for_field(name, f"{name} must be true or false, got {raw!r}")
