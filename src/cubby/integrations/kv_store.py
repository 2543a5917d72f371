"""The ``kv-store`` integration ("State KV"): JSON values and atomic lists per namespace."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.core.kv_values import canonical_raw, is_json_array, list_items
from cubby.core.registry import ActionContext, Integration
from cubby.errors import PayloadTooLarge, ValidationError
from cubby.integrations import logo

MAX_KEY_BYTES = 512

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
        title="Key",
        description=f"1 to {MAX_KEY_BYTES} bytes of UTF-8, no control characters",
    ),
]
AnyValue = Annotated[
    msgspec.Raw,
    msgspec.Meta(title="Value", description="Any JSON value", extra={"prop_type": "JSON"}),
]


class KeyInput(msgspec.Struct, forbid_unknown_fields=True):
    key: Key


class KeyValueInput(msgspec.Struct, forbid_unknown_fields=True):
    key: Key
    value: AnyValue


class KeyValue(msgspec.Struct):
    key: str
    value: msgspec.Raw | None


class KeyDeleted(msgspec.Struct):
    key: str
    deleted: bool


class ListLength(msgspec.Struct):
    key: str
    length: int


class Removed(msgspec.Struct):
    key: str
    removed: int
    length: int


def check_key(key: str) -> str:
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ValidationError.for_field(
            "input.key", f"key is {size} bytes; the limit is {MAX_KEY_BYTES}", limit=MAX_KEY_BYTES
        )
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in key):
        raise ValidationError.for_field("input.key", "key must not contain control characters")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError.for_field("input.key", "key must be valid UTF-8") from None
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


@kv_store.action("put", "Put", "Set a key to any JSON value (creates or replaces)")
async def put(ctx: ActionContext, params: KeyValueInput) -> KeyValue:
    key = check_key(params.key)
    value = check_value(ctx, params.value)
    items = list_items(value) if is_json_array(value) else None
    await ctx.services.meta.kv.put(ctx.namespace, key, value, items)
    return KeyValue(key=key, value=msgspec.Raw(value))


@kv_store.action("get", "Get", "Retrieve the value for a key (null when the key is missing)")
async def get(ctx: ActionContext, params: KeyInput) -> KeyValue:
    key = check_key(params.key)
    value = await ctx.services.meta.kv.get(ctx.namespace, key)
    return KeyValue(key=key, value=msgspec.Raw(value) if value is not None else None)


@kv_store.action("delete", "Delete", "Delete a key and its value")
async def delete(ctx: ActionContext, params: KeyInput) -> KeyDeleted:
    key = check_key(params.key)
    return KeyDeleted(key=key, deleted=await ctx.services.meta.kv.delete(ctx.namespace, key))


@kv_store.action(
    "add_to_list", "Add to list", "Append a value to the list at a key (created when missing)"
)
async def add_to_list(ctx: ActionContext, params: KeyValueInput) -> ListLength:
    key = check_key(params.key)
    item = canonical_raw(check_value(ctx, params.value))
    length = await ctx.services.meta.kv.append(ctx.namespace, key, item)
    return ListLength(key=key, length=length)


@kv_store.action(
    "remove_from_list",
    "Remove from list",
    "Remove every element equal to a value (JSON equality) from the list at a key",
)
async def remove_from_list(ctx: ActionContext, params: KeyValueInput) -> Removed:
    key = check_key(params.key)
    item = canonical_raw(check_value(ctx, params.value))
    removed, length = await ctx.services.meta.kv.remove(ctx.namespace, key, item)
    return Removed(key=key, removed=removed, length=length)
