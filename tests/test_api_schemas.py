"""Every record shape, through a whole round trip, against JSON Schemas written here from
API.md's field lists (issue 13, acceptance 2): types and nullability exactly as API.md states
them, so a null where a string is promised, a missing field or an extra one fails.

The schemas are deliberately not generated from cubby's own declarations: they are the
contract, written down independently, and cubby's answers must match them.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tests.backends import enabled_combos
from tests.helpers import Api

META = pytest.mark.parametrize(
    "backend", [c for c in enabled_combos() if not c.endswith("+s3")], indirect=True
)

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"}
UUID = {
    "type": "string",
    "pattern": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}
SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}
KEY_PREFIX = {"type": "string", "minLength": 8, "maxLength": 8}


def record(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these fields, all present."""
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


# API.md "Workspaces": Workspace: id, orgId, name, slug, createdAt, updatedAt.
WORKSPACE = record({
    "id": UUID, "orgId": UUID, "name": STRING, "slug": SLUG,
    "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
})  # fmt: skip

# API.md "API keys" and "Client compatibility details": permissions is null, {"scope": "org"}
# or {"scope": "workspace", "workspaceIds": [...]}, either with approvals: {"decide": bool}.
APPROVALS = record({"decide": {"type": "boolean"}})
PERMISSIONS = {
    "oneOf": [
        {"type": "null"},
        {
            "type": "object",
            "properties": {"scope": {"const": "org"}, "approvals": APPROVALS},
            "required": ["scope"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "scope": {"const": "workspace"},
                "workspaceIds": {"type": "array", "items": UUID, "minItems": 1},
                "approvals": APPROVALS,
            },
            "required": ["scope", "workspaceIds"],
            "additionalProperties": False,
        },
    ]
}
API_KEY = record({
    "id": UUID, "orgId": UUID, "name": STRING, "keyPrefix": KEY_PREFIX,
    "permissions": PERMISSIONS, "lastUsedAt": {"oneOf": [TIMESTAMP, {"type": "null"}]},
    "expiresAt": {"oneOf": [TIMESTAMP, {"type": "null"}]}, "createdAt": TIMESTAMP,
})  # fmt: skip

# API.md "Workspace integrations" and "Client compatibility details".
WORKSPACE_INTEGRATION = record({
    "id": UUID, "workspaceId": UUID, "integrationName": STRING, "alias": STRING,
    "displayName": STRING,
    "connectionStrategy": {"enum": ["fixed", "per_user", "per_user_with_fallback"]},
    "connectionId": NULLABLE_STRING, "authMethodKey": NULLABLE_STRING,
    "oauthAppMode": NULLABLE_STRING, "oauthAppId": NULLABLE_STRING,
    "enabledActions": {"type": "array", "items": STRING},
    "settings": {"type": "object"}, "sortOrder": {"type": "number"},
    "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
})  # fmt: skip

# API.md "End users".
END_USER = record({
    "id": UUID, "workspaceId": UUID, "externalId": STRING, "displayName": NULLABLE_STRING,
    "email": NULLABLE_STRING, "metadata": {"type": "object"}, "connectionCount": {"const": 0},
    "type": {"const": "external"}, "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
})  # fmt: skip
# API.md: {keys, files, bytes}; the agent tools add "items" (memory entities, pages, thoughts).
USAGE = record({k: {"type": "integer", "minimum": 0} for k in ("keys", "files", "bytes", "items")})

# API.md "Integration catalog" and "Client compatibility details".
CATEGORIES = {
    "enum": [
        "AI", "ANALYTICS", "COMMERCE", "COMMUNICATION", "CONTENT_AND_FILES", "CUSTOMER_SUPPORT",
        "DEVELOPER_TOOLS", "FINANCE", "FORMS_AND_SURVEYS", "HR_AND_RECRUITING", "MARKETING",
        "PROJECT_MANAGEMENT", "PRODUCTIVITY", "SALES_AND_CRM",
    ]
}  # fmt: skip
PROP = {
    "type": "object",
    "properties": {
        "type": {"enum": ["SHORT_TEXT", "LONG_TEXT", "NUMBER", "CHECKBOX", "JSON", "DROPDOWN"]},
        "required": {"type": "boolean"},
        "displayName": STRING,
        "description": STRING,
        "options": record({
            "options": {
                "type": "array", "minItems": 1, "items": record({"label": STRING, "value": {}}),
            }
        }),
    },
    "required": ["type", "required", "displayName", "description"],
    # a DROPDOWN carries options.options (the tool adapters read them)
    "if": {"properties": {"type": {"const": "DROPDOWN"}}},
    "then": {"required": ["options"]},
}  # fmt: skip
ACTION = {
    "type": "object",
    "properties": {
        "name": STRING, "displayName": STRING, "description": STRING,
        "props": {"type": "object", "additionalProperties": PROP},
    },
    "required": ["name", "displayName", "description", "props"],
}  # fmt: skip
LOGO_URL = {"type": "string", "pattern": r"^https?://.+\.svg$"}
INTEGRATION = record({
    "name": STRING, "displayName": STRING, "description": STRING, "logoUrl": LOGO_URL,
    "categories": {"type": "array", "items": CATEGORIES, "minItems": 1},
    "auth": {"type": "object"}, "authOptions": {"type": "array"},
    "actions": {"type": "object", "additionalProperties": ACTION, "minProperties": 1},
    "triggers": {"type": "object"},
})  # fmt: skip
INTEGRATION_SUMMARY = record({
    "name": STRING, "displayName": STRING, "description": STRING, "logoUrl": LOGO_URL,
    "categories": {"type": "array", "items": CATEGORIES, "minItems": 1},
    "actionCount": {"type": "integer", "minimum": 1}, "triggerCount": {"type": "integer"},
    "auth": {"type": "object"},
})  # fmt: skip


def envelope(**fields: Any) -> dict[str, Any]:
    return record(fields)


def listing(name: str, item: dict[str, Any], **more: Any) -> dict[str, Any]:
    items = {"type": "array", "items": item}
    return envelope(**{name: items, "total": {"type": "integer"}}, **more)


DELETED = envelope(deleted={"const": True}, id=UUID)


class Checked:
    """Calls the API and validates each answer against its schema; counts what it saw."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: dict[str, int] = {}

    def call(
        self, schema: dict[str, Any], name: str, method: str, path: str, json: Any = None,
        status: int = 200, **kw: Any,
    ) -> Any:  # fmt: skip
        body = self.api.ok(method, path, json, status, **kw)
        jsonschema.Draft202012Validator(schema).validate(body)
        self.seen[name] = self.seen.get(name, 0) + 1
        return body


def test_the_schemas_catch_what_they_should() -> None:
    """The schemas are strict where API.md is: a null string, a missing field, an extra one."""
    some_id, at = "00000000-0000-4000-8000-000000000000", "2026-01-01T00:00:00.000Z"
    good = {
        "id": some_id, "workspaceId": some_id, "externalId": "u", "displayName": None,
        "email": None, "metadata": {}, "connectionCount": 0, "type": "external",
        "createdAt": at, "updatedAt": at,
    }  # fmt: skip
    jsonschema.validate(good, END_USER)
    for bad in ({**good, "externalId": None}, {**good, "extra": 1}, {**good, "metadata": None}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, END_USER)
    missing = dict(good)
    del missing["type"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(missing, END_USER)
    wi = {
        "id": good["id"], "workspaceId": good["id"], "integrationName": "kv-store",
        "alias": "kv-store", "displayName": None, "connectionStrategy": None,
        "connectionId": None, "authMethodKey": None, "oauthAppMode": None, "oauthAppId": None,
        "enabledActions": None, "settings": {}, "sortOrder": 0,
        "createdAt": good["createdAt"], "updatedAt": good["createdAt"],
    }  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):  # the shape before issue 13
        jsonschema.validate(wi, WORKSPACE_INTEGRATION)


@META
def test_round_trip_of_every_record_shape_matches_api_md(api: Api) -> None:
    c = Checked(api)
    ws_one = envelope(workspace=WORKSPACE)
    ws = c.call(ws_one, "Workspace", "POST", "/api/v1/workspaces", {"name": "S", "slug": "s"}, 201)
    ws_id = ws["workspace"]["id"]
    c.call(ws_one, "Workspace", "GET", f"/api/v1/workspaces/{ws_id}")
    c.call(ws_one, "Workspace", "PATCH", f"/api/v1/workspaces/{ws_id}", {"name": "T"})
    c.call(listing("workspaces", WORKSPACE), "Workspace", "GET", "/api/v1/workspaces")

    # API keys: the three permission forms, with and without approvals
    created = envelope(apiKey=API_KEY, plainKey={"type": "string", "pattern": "^cby_"})
    key_ids = []
    for permissions in (
        None,
        {"scope": "org"},
        {"scope": "org", "approvals": {"decide": True}},
        {"scope": "workspace", "workspaceIds": [ws_id]},
        {"scope": "workspace", "workspaceIds": [ws_id], "approvals": {"decide": False}},
    ):
        body: dict[str, Any] = {"name": "k", "expiresAt": "2099-01-01T00:00:00Z"}
        if permissions is not None:
            body["permissions"] = permissions
        made = c.call(created, "ApiKey", "POST", "/api/v1/api-keys", body, 201)
        key_ids.append(made["apiKey"]["id"])
        api.ok("GET", "/api/v1/workspaces", key=made["plainKey"])  # sets lastUsedAt
    c.call(listing("apiKeys", API_KEY), "ApiKey", "GET", "/api/v1/api-keys")
    c.call(DELETED, "ApiKey", "DELETE", f"/api/v1/api-keys/{key_ids[0]}")

    # workspace integrations: defaults, everything set, a restriction, a PATCH back to nulls
    wi_one = envelope(integration=WORKSPACE_INTEGRATION)
    base = f"/api/v1/workspaces/{ws_id}/integrations"
    storage = {"integrationName": "storage"}
    plain = c.call(wi_one, "WorkspaceIntegration", "POST", base, storage, 201)
    full = c.call(
        wi_one, "WorkspaceIntegration", "POST", base,
        {
            "integrationName": "kv-store", "alias": "state", "displayName": "State",
            "enabledActions": ["get"], "settings": {"persistence": {"scope": "workspace"}},
            "sortOrder": 2, "connectionStrategy": "per_user", "connectionId": "c",
            "authMethodKey": "a", "oauthAppMode": "platform", "oauthAppId": "o",
        },
        201,
    )  # fmt: skip
    wi_id = full["integration"]["id"]
    c.call(wi_one, "WorkspaceIntegration", "GET", f"{base}/{wi_id}")
    c.call(
        wi_one, "WorkspaceIntegration", "PATCH", f"{base}/{wi_id}",
        {
            "displayName": None, "enabledActions": None, "connectionStrategy": None,
            "connectionId": None, "authMethodKey": None, "oauthAppMode": None,
            "oauthAppId": None,
        },
    )  # fmt: skip
    c.call(listing("integrations", WORKSPACE_INTEGRATION), "WorkspaceIntegration", "GET", base)
    c.call(DELETED, "WorkspaceIntegration", "DELETE", f"{base}/{plain['integration']['id']}")

    # end users
    eu_one = envelope(endUser=END_USER)
    bare = c.call(
        eu_one, "EndUser", "POST", "/api/v1/end-users", {"workspaceId": ws_id, "externalId": "a"},
        201,
    )  # fmt: skip
    rich = c.call(
        eu_one, "EndUser", "POST", "/api/v1/end-users",
        {"workspaceId": ws_id, "externalId": "b", "displayName": "B", "email": "b@example.com",
         "metadata": {"tier": 1}},
        201,
    )  # fmt: skip
    eu_id = rich["endUser"]["id"]
    c.call(eu_one, "EndUser", "GET", f"/api/v1/end-users/{eu_id}")
    c.call(
        eu_one, "EndUser", "PATCH", f"/api/v1/end-users/{eu_id}",
        {"displayName": None, "email": None, "metadata": None},
    )  # fmt: skip
    c.call(
        listing("endUsers", END_USER), "EndUser", "GET", "/api/v1/end-users",
        params={"workspaceId": ws_id},
    )  # fmt: skip
    c.call(envelope(usage=USAGE), "EndUser", "GET", f"/api/v1/end-users/{eu_id}/usage")
    c.call(DELETED, "EndUser", "DELETE", f"/api/v1/end-users/{bare['endUser']['id']}")
    c.call(
        envelope(deleted={"const": True}, id=UUID, erased=USAGE), "EndUser", "DELETE",
        f"/api/v1/end-users/{eu_id}", params={"eraseData": "true"},
    )  # fmt: skip
    c.call(
        envelope(workspaceId=UUID, endUserId=STRING, erased=USAGE), "EndUser", "POST",
        f"/api/v1/workspaces/{ws_id}/erase-end-user-data", {"endUserId": "a"},
    )  # fmt: skip

    # the catalog: full, one, summary
    c.call(
        listing("integrations", INTEGRATION, registered={"type": "array", "items": STRING}),
        "Integration", "GET", "/api/v1/integrations",
    )  # fmt: skip
    for name in ("storage", "kv-store"):
        c.call(envelope(integration=INTEGRATION), "Integration", "GET", "/api/v1/integrations",
               params={"name": name})  # fmt: skip
    c.call(
        listing("integrations", INTEGRATION_SUMMARY), "IntegrationSummary", "GET",
        "/api/v1/integrations", params={"summary": "true"},
    )  # fmt: skip

    c.call(DELETED, "Workspace", "DELETE", f"/api/v1/workspaces/{ws_id}")
    assert set(c.seen) == {
        "Workspace", "ApiKey", "WorkspaceIntegration", "EndUser", "Integration",
        "IntegrationSummary",
    }  # fmt: skip
