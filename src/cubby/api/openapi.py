"""The OpenAPI 3.1 document, built from the same Endpoint declarations that build the routes
and the same action input Structs that validate requests."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from cubby import __version__
from cubby.api.endpoint import Endpoint
from cubby.api.wire import ErrorBody
from cubby.core.registry import Registry

_REF = "#/components/schemas/{name}"
_STATUS_TEXT = {
    400: "Invalid input (VALIDATION_ERROR, INVALID_JSON, AMBIGUOUS_INTEGRATION, ACTION_FAILED)",
    401: "Missing, unknown, revoked or expired API key (UNAUTHENTICATED)",
    403: "Not allowed (FORBIDDEN, SCOPE_DENIED, ACTION_NOT_ALLOWED)",
    404: "Not found",
    409: "Conflict (SLUG_EXISTS, ALIAS_CONFLICT)",
    413: "Payload too large (PAYLOAD_TOO_LARGE)",
}


def build_openapi(endpoints: list[Endpoint], registry: Registry) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for ep in endpoints:
        if ep.body is not None:
            types.append(ep.body)
        if isinstance(ep.response, list):
            types.extend(ep.response)
        elif ep.response is not None:
            types.append(ep.response)
    action_types: list[Any] = []
    for integration in registry.all():
        for action in integration.actions.values():
            action_types.append(action.input_type)
    schemas, components = msgspec.json.schema_components(types + action_types, ref_template=_REF)
    by_type = dict(zip(types, schemas[: len(types)], strict=True))

    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        paths.setdefault(ep.path, {})[ep.method.lower()] = _operation(ep, by_type)

    actions_doc = []
    for integration in registry.all():
        for action in integration.actions.values():
            ref = _REF.format(name=action.input_type.__name__)
            actions_doc.append(f"- `{integration.name}` / `{action.name}`: input `{ref}`")
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


def _operation(ep: Endpoint, by_type: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.handler.__name__,
        "summary": ep.summary,
        "tags": [ep.tag],
    }
    if ep.description:
        op["description"] = ep.description
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", ep.path)
    ]
    params += [
        {
            "name": q.name,
            "in": "query",
            "required": False,
            "schema": q.schema,
            "description": q.description,
        }
        for q in ep.query
    ]
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": by_type[ep.body]}},
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
            "content": {"application/json": {"schema": ok_schema}},
        }
    }
    codes = set(ep.errors)
    if ep.body is not None:
        codes |= {400, 413}
    for code in sorted(codes):
        responses[str(code)] = {"description": _STATUS_TEXT.get(code, "Error"), "content": error}
    responses["500"] = {"description": "Internal error (a bug)", "content": error}
    op["responses"] = responses
    if ep.auth:
        op["security"] = [{"bearer": []}]
    return op
