"""Example values made from JSON Schemas (the OpenAPI document's), for the docs page.

The examples come from the same declarations that validate requests, so they cannot drift
from the API: a field's own ``examples``/``default``/``enum``/``const`` wins, else a plausible
value for its name and type.
"""

from __future__ import annotations

from typing import Any

REF_PREFIX = "#/components/schemas/"
_UUID = "3f2b8c1e-4a5d-4e6f-9a0b-1c2d3e4f5a6b"
_TIME = "2025-01-15T10:00:00Z"
_CONTENT = '{"month": "January", "total": 1500}'
# Plausible strings by field name (the spec's own examples where it has them).
_BY_NAME = {
    "path": "reports/monthly.json",
    "from": "reports/monthly.json",
    "to": "archive/monthly.json",
    "prefix": "reports/",
    "key": "last_sync_timestamp",
    "content": _CONTENT,
    "contentType": "application/json",
    "name": "Acme",
    "displayName": "Workspace Files",
    "slug": "acme",
    "alias": "files",
    "integrationName": "storage",
    "integrationAlias": "files",
    "actionName": "write_file",
    "endUserId": "user_12345",
    "externalId": "tenant_123",
    "url": "http://127.0.0.1:8080/downloads/eyJ2IjoxfQ.c2lnbmF0dXJl",
    "etag": "9a0b1c2d3e4f",
    "keyPrefix": "cby_AbCd",
    "plainKey": "cby_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd",
    "error": "workspace not found",
    "code": "NOT_FOUND",
    "status": "healthy",
    "cursor": None,
    "nextCursor": None,
}


def resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = components.get(schema["$ref"].removeprefix(REF_PREFIX), {})
        seen += 1
    return schema


def _non_null(options: list[dict[str, Any]], components: dict[str, Any]) -> dict[str, Any]:
    for option in options:
        if resolve(option, components).get("type") != "null":
            return option
    return options[0] if options else {}


def example(
    schema: dict[str, Any],
    components: dict[str, Any],
    name: str = "",
    depth: int = 0,
    all_fields: bool = True,
) -> Any:
    """A value that ``schema`` accepts. ``all_fields=False``: objects get only their required
    fields and those with a non-null default (a minimal request)."""
    schema = resolve(schema, components)
    if depth > 8:
        return None
    for word in ("examples",):
        if schema.get(word):
            return schema[word][0]
    if "example" in schema:
        return schema["example"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for word in ("anyOf", "oneOf"):
        if word in schema:
            chosen = _non_null(schema[word], components)
            if "default" in schema and schema["default"] is not None and depth:
                return schema["default"]
            return example(chosen, components, name, depth + 1, all_fields)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        out = {}
        for prop, sub in schema.get("properties", {}).items():
            wanted = all_fields or prop in required
            if not wanted:
                continue
            out[prop] = example(sub, components, prop, depth + 1, all_fields)
        return out
    if kind == "array":
        return [example(schema.get("items", {}), components, name, depth + 1, all_fields)]
    if kind == "string":
        return _string(schema, name)
    if kind == "integer":
        return _number(schema, name, 1)
    if kind == "number":
        return _number(schema, name, 1.5)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _BY_NAME.get(name, "2025-01-15T10:00:00Z" if name == "value" else {"any": "JSON"})


def _string(schema: dict[str, Any], name: str) -> Any:
    if schema.get("format") == "date-time" or name.endswith("At"):
        return _TIME
    if schema.get("format") == "uuid" or name == "id" or name.endswith("Id"):
        return _BY_NAME.get(name, _UUID)
    if name in _BY_NAME:
        return _BY_NAME[name]
    return "string"


def _number(schema: dict[str, Any], name: str, fallback: float) -> Any:
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if name in ("size", "length", "total", "bytes"):
        return len(_CONTENT.encode()) if name == "size" else 1  # the example content's size
    if "minimum" in schema:
        return schema["minimum"]
    return fallback
