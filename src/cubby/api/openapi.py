"""The OpenAPI 3.1 document, built from the same Endpoint declarations that build the routes
and the same action input Structs that validate requests."""

from __future__ import annotations

import copy
import json
import re
from http import HTTPStatus
from typing import Any

import msgspec
from msgspec import inspect as mi

from cubby import __version__, errors
from cubby.api.endpoint import Endpoint
from cubby.api.wire import ErrorBody
from cubby.core.execute import ExecuteRequest, ExecuteResponse
from cubby.core.fields import NO_NUL
from cubby.core.inputs import CreateIntegration, UpdateIntegration
from cubby.core.registry import Action, Integration, Registry
from cubby.core.schema_rules import apply_schema_rules

_REF = "#/components/schemas/{name}"
# What a path parameter names, by the collection it follows (``/workspaces/{wsId}``): every
# Endpoint's path parameters are described from here.
PATH_PARAMS = {
    "api-keys": "the API key's id",
    "end-users": "the end user's id (cubby's, not the externalId)",
    "workspaces": "the workspace's id",
    "integrations": "the workspace integration's id",
    "servers": "the MCP server's id",
    "access-tokens": "the access token's id (GET .../access-tokens lists them)",
    "tools": "a tool's id: a synced tool's (from GET .../servers/{id}) or an override's",
}


def status_text(status: int) -> str:
    """``Conflict (DUPLICATE, SLUG_EXISTS, ...)``: the status's phrase and the codes it has."""
    codes = [e.code for e in errors.catalog() if e.status == status]
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return f"{phrase} ({', '.join(codes)})" if codes else phrase


def _codes_of(status: int) -> list[str]:
    return [e.code for e in errors.catalog() if e.status == status]


def error_response(status: int, codes: list[str], content: dict[str, Any]) -> dict[str, Any]:
    """One error status of an operation: the codes the route answers with it (``x-codes``,
    which /docs lists), and ``Retry-After`` where the client should wait and retry."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    response: dict[str, Any] = {
        "description": f"{phrase} ({', '.join(codes)})",
        "content": content,
        "x-codes": codes,
    }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response


def build_openapi(
    endpoints: list[Endpoint],
    registry: Registry,
    extra_paths: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``extra_paths``: operations of routes that are not Endpoints (e.g. downloads), as
    OpenAPI path items; their error responses may give ``"content": "error"``."""
    types: list[Any] = [ErrorBody]
    for ep in endpoints:
        if ep.body is not None:
            types.append(ep.body)
        if isinstance(ep.response, list):
            types.extend(ep.response)
        elif ep.response is not None:
            types.append(ep.response)
    actions = [(i, a) for i in registry.all() for a in i.actions.values()]
    action_types: list[Any] = []
    for _, action in actions:
        action_types += [action.input_type, action.output_type]
    schemas, components = msgspec.json.schema_components(types + action_types, ref_template=_REF)
    by_type = dict(zip(types, schemas[: len(types)], strict=True))
    action_schemas = schemas[len(types) :]
    inputs = list(action_schemas[0::2])
    outputs = list(action_schemas[1::2])
    apply_schema_rules(components, types + action_types, _REF)
    _describe_actions(components, actions, inputs, outputs)
    _integration_rules(components, registry)
    error_body = components[ErrorBody.__name__]
    error_body["properties"]["code"]["enum"] = [e.code for e in errors.catalog()]

    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, by_type)
    error_content = {"application/json": {"schema": by_type[ErrorBody]}}
    for path, item in (extra_paths or {}).items():
        for method, op in item.items():
            op = copy.deepcopy(op)
            for param in op.get("parameters", []):
                if param.get("in") in ("path", "query"):
                    param["schema"] = _url_text(param.get("schema", {}))
            for status, response in op.get("responses", {}).items():
                if response.get("content") == "error":
                    codes = response.get("x-codes") or _codes_of(int(status))
                    op["responses"][status] = error_response(int(status), codes, error_content)
                else:
                    response.setdefault("description", status_text(int(status)))
            paths.setdefault(path, {})[method] = op

    actions_doc = [
        f"- `{integration.name}` / `{action.name}`: input `{ref['$ref'].rsplit('/', 1)[1]}`"
        for (integration, action), ref in zip(actions, inputs, strict=True)
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cubby",
            "version": __version__,
            "description": "Files (storage) and state (kv-store) for apps and AI agents.\n\n"
            "Actions and their input schemas:\n" + "\n".join(actions_doc),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _describe_actions(
    components: dict[str, Any],
    actions: list[tuple[Integration, Action]],
    inputs: list[dict[str, Any]],
    outputs: list[dict[str, Any]],
) -> None:
    """Make the execute request and response precise: the request is one of the registered
    (integrationName, actionName) pairs with that action's input schema, and ``output`` is one
    of the actions' output schemas. Clients and fuzzers then see exactly what each action takes.
    """
    generic = components.get(ExecuteRequest.__name__)
    if generic is None or not actions:
        return
    variants = []
    pairs = zip(actions, inputs, outputs, strict=True)
    for (integration, action), input_ref, output_ref in pairs:
        name = f"Execute.{integration.name}.{action.name}"
        variant = copy.deepcopy(generic)
        variant["title"] = f"Execute {integration.name} {action.name}"
        variant["properties"]["integrationName"] = {"const": integration.name}
        variant["properties"]["actionName"] = {"const": action.name}
        variant["properties"]["input"] = input_ref
        variant["description"] = action.description
        variant["x-integration"] = {
            "displayName": integration.display_name,
            "description": integration.description,
        }
        # which output this action answers with (the response's `output` is their union):
        # the TypeScript SDK's generated types pair each action with it
        variant["x-output"] = output_ref
        if _has_required_fields(action.input_type):
            variant["required"] = [*variant["required"], "input"]
        components[name] = variant
        variants.append({"$ref": _REF.format(name=name)})
    components[ExecuteRequest.__name__ + "ByAction"] = {
        "title": "ExecuteRequest (one per registered action)",
        "oneOf": variants,
    }
    response = components.get(ExecuteResponse.__name__)
    if response is not None:
        unique = list({json.dumps(o, sort_keys=True): o for o in outputs}.values())
        response["properties"]["output"] = {"anyOf": unique}


def _integration_rules(components: dict[str, Any], registry: Registry) -> None:
    """A workspace integration names a registered integration, and its enabledActions are
    that integration's actions (core.workspace_integrations checks both)."""
    every = sorted({a for i in registry.all() for a in i.actions})
    for name in (CreateIntegration.__name__, UpdateIntegration.__name__):
        props = components.get(name, {}).get("properties", {})
        for option in props.get("enabledActions", {}).get("anyOf", []):
            if option.get("type") == "array":
                option["items"] = {"enum": every}
    create = components.get(CreateIntegration.__name__)
    if create is None:
        return
    create["properties"]["integrationName"]["enum"] = registry.names()
    create["oneOf"] = [
        {
            "properties": {
                "integrationName": {"const": i.name},
                "enabledActions": {
                    "anyOf": [
                        {"type": "array", "items": {"enum": list(i.actions)}},
                        {"type": "null"},
                    ]
                },
            }
        }
        for i in registry.all()
    ]


def _has_required_fields(struct: type) -> bool:
    info = mi.type_info(struct)
    return isinstance(info, mi.StructType) and any(f.required for f in info.fields)


def _url_text(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") != "string" or "pattern" in schema or "enum" in schema:
        return schema
    return {**schema, "pattern": NO_NUL}


def _operation(ep: Endpoint, by_type: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.handler.__name__,
        "summary": ep.summary,
        "tags": [ep.tag],
    }
    if ep.description:
        op["description"] = ep.description
    # no URL may carry a NUL (cubby.api.answer_errors): path and query texts say so
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _url_text({"type": "string"}),
            "description": PATH_PARAMS[collection],  # a new collection: describe it above
        }
        for collection, name in re.findall(r"(?:([\w-]+)/)?{(\w+)}", ep.path)
    ]
    params += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": _url_text(q.schema),
            "description": q.description,
        }
        for q in ep.query
    ]
    if params:
        op["parameters"] = params
    if ep.body is not None:
        body_schema = by_type[ep.body]
        if ep.body is ExecuteRequest:
            body_schema = {"$ref": _REF.format(name=ExecuteRequest.__name__ + "ByAction")}
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    if isinstance(ep.response, list):
        ok_schema: dict[str, Any] = {"oneOf": [by_type[t] for t in ep.response]}
    elif ep.response is not None:
        ok_schema = by_type[ep.response]
    else:
        ok_schema = {}
    error = {"application/json": {"schema": by_type[ErrorBody]}}
    responses: dict[str, Any] = {
        str(ep.status): {
            "description": "OK",
            "content": {ep.media_type: {"schema": ok_schema}},
        }
    }
    for status, codes in ep.error_codes().items():
        responses[str(status)] = error_response(status, codes, error)
    op["responses"] = responses
    if ep.auth:
        op["security"] = [{"bearer": []}]
    return op
