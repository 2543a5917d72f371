"""The ``kv-store`` integration ("State KV"): JSON values and atomic lists per namespace."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.backends.base import KeyInfo
from cubby.core import clock
from cubby.core.fields import NO_CONTROL
from cubby.core.kv_values import ListItem, is_json_array, list_item, list_items
from cubby.core.paging import decode_cursor, encode_cursor
from cubby.core.registry import ActionContext, Integration
from cubby.core.validation import off_loop
from cubby.core.validators import has_control_chars
from cubby.errors import PayloadTooLarge, ValidationError
from cubby.integrations.assets import logo

MAX_KEY_BYTES = 512
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600  # ten years
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
_raw_items = msgspec.json.Decoder(list[msgspec.Raw])

kv_store = Integration(
    name="kv-store",
    display_name="State KV",
    description="Key-value persistence for caching, workflow state, counters and lists, "
    "isolated per end user, workspace or namespace key.",
    categories=["DEVELOPER_TOOLS"],
    logo_svg=logo("kv-store"),
)

Key = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        pattern=NO_CONTROL,  # the schema states it; check_key also checks the bytes
        title="Key",
        description=f"1 to {MAX_KEY_BYTES} bytes of UTF-8, no control characters",
    ),
]
AnyValue = Annotated[
    msgspec.Raw,
    msgspec.Meta(title="Value", description="Any JSON value", extra={"prop_type": "JSON"}),
]


ExpiresIn = Annotated[
    float,
    msgspec.Meta(
        ge=1,
        le=MAX_TTL_SECONDS,
        title="Expires in (seconds)",
        description="Delete the key this many seconds from now (whole seconds, 1 to "
        f"{MAX_TTL_SECONDS}, i.e. ten years); without it the key never expires",
    ),
]
IfVersion = Annotated[
    int,
    msgspec.Meta(
        ge=0,
        title="If version",
        description="Write only if the key is at this version (0: only if it does not exist); "
        "else the action fails with reason CONFLICT and details.currentVersion",
    ),
]
By = Annotated[
    int | float,
    msgspec.Meta(
        title="By",
        description="The number to add (integer or float; negative to subtract)",
        extra={"prop_type": "NUMBER"},
    ),
]
Prefix = Annotated[
    str,
    msgspec.Meta(title="Prefix", description="Only keys starting with this, e.g. user:"),
]
Limit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Keys per page (default {DEFAULT_LIST_LIMIT}, at most {MAX_LIST_LIMIT}; "
        "larger values are clamped)",
    ),
]
Cursor = Annotated[
    str,
    msgspec.Meta(title="Cursor", description="nextCursor of the previous page"),
]


# Optional inputs also accept an explicit null, meaning the default: SDKs and form-driven
# callers often send every field.


class KeyInput(msgspec.Struct, forbid_unknown_fields=True):
    key: Key


class PutInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    key: Key
    value: AnyValue
    expires_in_seconds: ExpiresIn | None = None
    if_version: IfVersion | None = None


class AddToListInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    key: Key
    value: AnyValue
    expires_in_seconds: ExpiresIn | None = None


class KeyValueInput(msgspec.Struct, forbid_unknown_fields=True):
    key: Key
    value: AnyValue


class IncrementInput(msgspec.Struct, forbid_unknown_fields=True):
    key: Key
    by: By | None = 1


class ListKeysInput(msgspec.Struct, forbid_unknown_fields=True):
    prefix: Prefix | None = ""
    limit: Limit | None = DEFAULT_LIST_LIMIT
    cursor: Cursor | None = None


class KeyValue(msgspec.Struct, rename="camel"):
    key: str
    value: msgspec.Raw | None
    version: int
    expires_at: str | None


class KeyDeleted(msgspec.Struct):
    key: str
    deleted: bool


class ListLength(msgspec.Struct):
    key: str
    length: int
    version: int


class Removed(msgspec.Struct):
    key: str
    removed: int
    length: int


class Counter(msgspec.Struct):
    key: str
    value: msgspec.Raw
    version: int


class KeyEntry(msgspec.Struct, rename="camel"):
    key: str
    size: int
    is_list: bool
    length: int | None  # items of a list; null for any other value
    version: int
    updated_at: str
    expires_at: str | None


class KeyList(msgspec.Struct, rename="camel"):
    keys: list[KeyEntry]
    next_cursor: str | None


def check_key(key: str, field: str = "input.key") -> str:
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ValidationError.for_field(
            field, f"key is {size} bytes; the limit is {MAX_KEY_BYTES}", limit=MAX_KEY_BYTES
        )
    if has_control_chars(key):
        raise ValidationError.for_field(field, "key must not contain control characters")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError.for_field(field, "key must be valid UTF-8") from None
    return key


def check_value(ctx: ActionContext, value: msgspec.Raw) -> bytes:
    """The value as compact JSON, within CUBBY_KV_MAX_VALUE_BYTES."""
    limit = ctx.services.settings.kv_max_value_bytes
    compact = msgspec.json.format(bytes(value), indent=-1)
    if len(compact) > limit:
        raise PayloadTooLarge(
            f"the value is {len(compact)} bytes of JSON; the limit is {limit}",
            details={"field": "input.value", "limit": limit, "size": len(compact)},
        )
    return compact


async def _list_items(ctx: ActionContext, value: bytes) -> list[ListItem]:
    """A list value's items, within CUBBY_KV_MAX_LIST_ITEMS (counted before any per-item work;
    each item is a row for the single SQLite writer). Big lists are prepared off the loop."""
    limit = ctx.services.settings.kv_max_list_items
    count = len(_raw_items.decode(value))
    if count > limit:
        raise PayloadTooLarge(
            f"the list has {count} items; the limit is {limit}",
            details={"field": "input.value", "limit": limit, "items": count},
        )
    return await off_loop(list_items, value, size=len(value))


def expiry(seconds: float | None) -> float | None:
    """The epoch second a key expires at, from ``expiresInSeconds`` (whole seconds)."""
    if seconds is None:
        return None
    if seconds != int(seconds):
        raise ValidationError.for_field(
            "input.expiresInSeconds", f"expiresInSeconds must be whole seconds, got {seconds}"
        )
    return clock.now() + int(seconds)


def iso_or_none(at: float | None) -> str | None:
    return clock.iso(at) if at is not None else None


@kv_store.action(
    "put",
    "Put",
    "Set a key to any JSON value (creates or replaces), optionally with an expiry and only "
    "if the key is at a given version",
)
async def put(ctx: ActionContext, params: PutInput) -> KeyValue:
    key = check_key(params.key)
    value = check_value(ctx, params.value)
    items = await _list_items(ctx, value) if is_json_array(value) else None
    expires_at = expiry(params.expires_in_seconds)
    version = await ctx.services.meta.kv.put(
        ctx.namespace, key, value, items, expires_at, params.if_version
    )
    return KeyValue(
        key=key, value=msgspec.Raw(value), version=version, expires_at=iso_or_none(expires_at)
    )


@kv_store.action(
    "get", "Get", "Retrieve the value for a key (null when the key is missing)", read_only=True
)
async def get(ctx: ActionContext, params: KeyInput) -> KeyValue:
    key = check_key(params.key)
    found = await ctx.services.meta.kv.get(ctx.namespace, key)
    if found is None:
        return KeyValue(key=key, value=None, version=0, expires_at=None)
    return KeyValue(
        key=key,
        value=msgspec.Raw(found.value),
        version=found.version,
        expires_at=iso_or_none(found.expires_at),
    )


@kv_store.action("delete", "Delete", "Delete a key and its value")
async def delete(ctx: ActionContext, params: KeyInput) -> KeyDeleted:
    key = check_key(params.key)
    return KeyDeleted(key=key, deleted=await ctx.services.meta.kv.delete(ctx.namespace, key))


@kv_store.action(
    "add_to_list",
    "Add to list",
    "Append a value to the list at a key (created when missing); expiresInSeconds sets the "
    "list's expiry, else it keeps the one it has. A list holds at most CUBBY_KV_MAX_LIST_ITEMS "
    "items (1000 by default): an append to a full list is 413 PAYLOAD_TOO_LARGE and changes "
    "nothing",
)
async def add_to_list(ctx: ActionContext, params: AddToListInput) -> ListLength:
    key = check_key(params.key)
    item = list_item(check_value(ctx, params.value))
    expires_at = expiry(params.expires_in_seconds)
    length, version = await ctx.services.meta.kv.append(
        ctx.namespace, key, item, expires_at, max_items=ctx.services.settings.kv_max_list_items
    )
    return ListLength(key=key, length=length, version=version)


@kv_store.action(
    "remove_from_list",
    "Remove from list",
    "Remove every element equal to a value (JSON equality) from the list at a key",
)
async def remove_from_list(ctx: ActionContext, params: KeyValueInput) -> Removed:
    key = check_key(params.key)
    item = list_item(check_value(ctx, params.value))
    removed, length = await ctx.services.meta.kv.remove(ctx.namespace, key, item)
    return Removed(key=key, removed=removed, length=length)


@kv_store.action(
    "increment",
    "Increment",
    "Add a number to the number at a key, atomically (a missing key counts as 0); "
    "fails with reason NOT_A_NUMBER when the key holds anything else",
)
async def increment(ctx: ActionContext, params: IncrementInput) -> Counter:
    key = check_key(params.key)
    by = 1 if params.by is None else params.by
    value, version = await ctx.services.meta.kv.increment(ctx.namespace, key, by)
    return Counter(key=key, value=msgspec.Raw(value), version=version)


def _entry(info: KeyInfo) -> KeyEntry:
    return KeyEntry(
        key=info.key,
        size=info.size,
        is_list=info.is_list,
        length=info.length if info.is_list else None,
        version=info.version,
        updated_at=info.updated_at,
        expires_at=iso_or_none(info.expires_at),
    )


@kv_store.action(
    "list_keys",
    "List keys",
    "List keys sorted by key (UTF-8 byte order), optionally under a prefix, a page at a time",
    read_only=True,
)
async def list_keys(ctx: ActionContext, params: ListKeysInput) -> KeyList:
    prefix = params.prefix or ""
    if prefix:
        check_key(prefix, "input.prefix")
    after = decode_cursor(params.cursor) if params.cursor else None
    limit = min(params.limit or DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
    infos = await ctx.services.meta.kv.page(ctx.namespace, prefix, after, limit + 1)
    more = len(infos) > limit
    infos = infos[:limit]
    next_cursor = encode_cursor(infos[-1].key) if more else None
    return KeyList(keys=[_entry(i) for i in infos], next_cursor=next_cursor)
