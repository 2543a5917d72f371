"""Rules the validators enforce beyond what msgspec writes into a JSON Schema by itself.

Applied to the schemas of Structs wherever they are published: the OpenAPI document's
components and each action's input schema (MCP tools), so both state exactly what
validation does and cannot differ from each other.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from msgspec import inspect as mi

from cubby.core.fields import NO_NUL
from cubby.core.validators import INT64_MAX, INT64_MIN


def apply_schema_rules(components: dict[str, Any], types: list[Any], ref_template: str) -> None:
    """Tighten the component schemas of every Struct reachable from ``types`` (keyed by class
    name, as msgspec names them); ``ref_template`` says where components live."""
    _add_struct_rules(components, types)
    _storable_rules(components, types, ref_template)
    others = {name: schema for name, schema in components.items() if name != STORABLE_JSON}
    if ref_template.format(name=STORABLE_JSON) not in json.dumps(others):
        del components[STORABLE_JSON]  # no field of these types refers to it


def _add_struct_rules(components: dict[str, Any], types: list[Any]) -> None:
    """Merge each Struct's ``schema_extra`` (rules across its fields, e.g. ``minProperties``
    of a PATCH body: :class:`cubby.core.inputs.Patch`) into its component schema."""
    for info in _structs(types):
        extra = getattr(info.cls, "schema_extra", None)
        component = components.get(info.cls.__name__)
        if extra and component is not None:
            component.update(copy.deepcopy(extra))


STORABLE_JSON = "StorableJson"


def _storable_rules(components: dict[str, Any], types: list[Any], ref_template: str) -> None:
    """State :func:`cubby.core.validators.check_storable`'s rule on every field it checks: no
    NUL in a text (object keys included) and integers within 64 bits (``limit`` is clamped
    instead). Fields it skips (declared ``Any``/``Raw`` or ``Meta(extra={"nul_ok": True})``)
    are left as they are."""
    components[STORABLE_JSON] = {
        "title": "JSON without NUL in its texts",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": {"$ref": ref_template.format(name=STORABLE_JSON)}},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_NUL},
                "additionalProperties": {"$ref": ref_template.format(name=STORABLE_JSON)},
            },
        ],
    }
    for info in _structs(types):
        component = components.get(info.cls.__name__, {})
        props = component.get("properties", {})
        for f in info.fields:
            if f.encode_name in props and not _storable_exempt(f.type):
                _tighten(props[f.encode_name], f.encode_name == "limit", ref_template)


def _storable_exempt(info: mi.Type) -> bool:
    members = info.types if isinstance(info, mi.UnionType) else (info,)
    for member in members:
        if isinstance(member, mi.Metadata):
            if (member.extra or {}).get("nul_ok"):
                return True
            member = member.type
        if isinstance(member, mi.AnyType | mi.RawType):
            return True
    return False


def _tighten(schema: dict[str, Any], clamped: bool, ref_template: str) -> None:
    if "$ref" in schema:
        return  # a Struct: its own fields are tightened where it is defined
    for word in ("anyOf", "oneOf"):
        for option in schema.get(word, ()):
            _tighten(option, clamped, ref_template)
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return
    if kind == "string" and "pattern" not in schema:
        schema["pattern"] = NO_NUL
    elif kind == "integer" and not clamped:
        schema["minimum"] = max(schema.get("minimum", INT64_MIN), INT64_MIN)
        schema["maximum"] = min(schema.get("maximum", INT64_MAX), INT64_MAX)
    elif kind == "array" and isinstance(schema.get("items"), dict):
        _tighten(schema["items"], clamped, ref_template)
    elif kind == "object" and "properties" not in schema:
        schema["propertyNames"] = {"pattern": NO_NUL}
        values = schema.get("additionalProperties", True)
        if values is True or values == {}:
            schema["additionalProperties"] = {"$ref": ref_template.format(name=STORABLE_JSON)}
        elif isinstance(values, dict):
            _tighten(values, clamped, ref_template)


def _structs(types: list[Any]) -> list[mi.StructType]:
    """Every Struct reachable from ``types``."""
    found: dict[type, mi.StructType] = {}
    seen: set[int] = set()
    pending: list[mi.Type] = list(mi.multi_type_info(types))
    while pending:
        info = pending.pop()
        if id(info) in seen:
            continue
        seen.add(id(info))
        if isinstance(info, mi.StructType):
            found.setdefault(info.cls, info)
            pending += [f.type for f in info.fields]
        elif isinstance(info, mi.Metadata):
            pending.append(info.type)
        elif isinstance(info, mi.UnionType):
            pending += list(info.types)
        elif isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            pending.append(info.item_type)
        elif isinstance(info, mi.DictType):
            pending.append(info.value_type)
    return list(found.values())
