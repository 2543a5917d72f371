"""Every route and envelope of API.md for keys, workspaces, integrations and the catalog,
with exactly the documented field names (issue 2, acceptance 1 and 2)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.backends import enabled_combos
from tests.helpers import Api

# Metadata-store behaviour runs on every metadata backend (file bodies play no part here);
# pure HTTP-layer checks run on the embedded default only, to keep the suite fast.
META = pytest.mark.parametrize(
    "backend", [c for c in enabled_combos() if not c.endswith("+s3")], indirect=True
)

API_KEY = {
    "id",
    "orgId",
    "name",
    "keyPrefix",
    "permissions",
    "lastUsedAt",
    "expiresAt",
    "createdAt",
}
WORKSPACE = {"id", "orgId", "name", "slug", "createdAt", "updatedAt"}
# API.md lists these; the connection fields SDKs may send are accepted and echoed as well.
WORKSPACE_INTEGRATION = {
    "id",
    "workspaceId",
    "integrationName",
    "alias",
    "displayName",
    "connectionStrategy",
    "connectionId",
    "enabledActions",
    "settings",
    "sortOrder",
    "createdAt",
    "updatedAt",
}
CONNECTION_ECHO = {"authMethodKey", "oauthAppMode", "oauthAppId"}
INTEGRATION = {
    "name", "displayName", "description", "logoUrl", "categories", "auth", "authOptions",
    "actions", "triggers",
}  # fmt: skip
ACTION = {"name", "displayName", "description", "props"}
PROP_REQUIRED = {"type", "required", "displayName", "description"}

# The three bodies of spec/storage-and-kv-store.md, verbatim.
SPEC_BODIES: list[dict[str, Any]] = [
    {
        "integrationName": "storage",
        "alias": "files",
        "displayName": "Workspace Files",
        "settings": {"persistence": {"scope": "workspace"}},
    },
    {
        "integrationName": "kv-store",
        "alias": "state",
        "displayName": "Workspace State",
        "settings": {"persistence": {"scope": "workspace"}},
    },
    {
        "integrationName": "kv-store",
        "alias": "tenant_kv",
        "settings": {"persistence": {"scope": "external", "externalId": "tenant_123"}},
    },
]


def is_iso_utc(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and "T" in value


def assert_integration(wi: dict[str, Any]) -> None:
    assert set(wi) == WORKSPACE_INTEGRATION | CONNECTION_ECHO, set(wi) ^ WORKSPACE_INTEGRATION
    assert is_iso_utc(wi["createdAt"]) and is_iso_utc(wi["updatedAt"])


# -- workspace integrations (acceptance 1) ----------------------------------------------------


@META
@pytest.mark.parametrize("body", SPEC_BODIES, ids=lambda b: b["alias"])
def test_spec_integration_bodies(api: Api, body: dict[str, Any]) -> None:
    ws = api.create_workspace("spec")
    path = f"/api/v1/workspaces/{ws}/integrations"
    resp = api.request("POST", path, body)
    assert resp.status_code == 201, resp.text
    assert set(resp.json()) == {"integration"}
    wi = resp.json()["integration"]
    assert_integration(wi)
    assert wi["workspaceId"] == ws
    assert wi["integrationName"] == body["integrationName"]
    assert wi["alias"] == body["alias"]
    catalog = api.ok("GET", "/api/v1/integrations", params={"name": body["integrationName"]})
    integration = catalog["integration"]
    assert wi["displayName"] == body.get("displayName", integration["displayName"])
    assert wi["settings"] == body["settings"]
    assert wi["connectionStrategy"] == "fixed"  # built-ins (API.md, client compatibility)
    assert wi["enabledActions"] == list(integration["actions"]) and wi["sortOrder"] == 0

    again = api.request("POST", path, body)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "ALIAS_CONFLICT"
    assert again.json()["details"]["field"] == "alias"
    # the same alias is free in another workspace
    other = api.create_workspace("spec-other")
    assert api.request("POST", f"/api/v1/workspaces/{other}/integrations", body).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (
            {"integrationName": "kv-store", "settings": {"persistence": {"scope": "external"}}},
            400,
            "VALIDATION_ERROR",
            "settings.persistence.externalId",
        ),
        (
            {
                "integrationName": "kv-store",
                "settings": {"persistence": {"scope": "workspace", "externalId": "t1"}},
            },
            400,
            "VALIDATION_ERROR",
            "settings.persistence.externalId",
        ),
        (
            {"integrationName": "kv-store", "settings": {"persistence": {"scope": "galaxy"}}},
            400,
            "VALIDATION_ERROR",
            "settings.persistence.scope",
        ),
        (
            {"integrationName": "kv-store", "settings": {"persistence": "workspace"}},
            400,
            "VALIDATION_ERROR",
            "settings.persistence",
        ),
        (
            {"integrationName": "kv-store", "settings": {"colour": "blue"}},
            400,
            "VALIDATION_ERROR",
            "settings.colour",
        ),
        (
            {
                "integrationName": "kv-store",
                "settings": {"persistence": {"scope": "external", "externalId": " "}},
            },
            400,
            "VALIDATION_ERROR",
            "settings.persistence.externalId",
        ),
        ({"integrationName": "kv-store", "alias": "Bad Alias"}, 400, "VALIDATION_ERROR", "alias"),
        ({"integrationName": "kv-store", "alias": "1st"}, 400, "VALIDATION_ERROR", "alias"),
        ({"integrationName": "kv-store", "alias": "a" * 65}, 400, "VALIDATION_ERROR", "alias"),
        ({"integrationName": "kv-store", "alias": ""}, 400, "VALIDATION_ERROR", "alias"),
        ({"integrationName": "kv-store", "alias": 7}, 400, "VALIDATION_ERROR", "alias"),
        (
            {"integrationName": "kv-store", "enabledActions": ["get", "fly"]},
            400,
            "VALIDATION_ERROR",
            "enabledActions",
        ),
        (
            {"integrationName": "kv-store", "sortOrder": 2**63},
            400,
            "VALIDATION_ERROR",
            "sortOrder",
        ),
        ({"integrationName": "nope"}, 404, "INTEGRATION_NOT_FOUND", "integrationName"),
        ({"alias": "x"}, 400, "VALIDATION_ERROR", "integrationName"),
        ({"integrationName": "kv-store", "colour": 1}, 400, "VALIDATION_ERROR", "colour"),
    ],
)
def test_bad_integration_bodies(
    api: Api, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    ws = api.create_workspace("bad")
    resp = api.request("POST", f"/api/v1/workspaces/{ws}/integrations", body)
    assert resp.status_code == status, resp.text
    err = resp.json()
    assert err["code"] == code
    assert err["details"]["field"] == field
    assert err["error"]
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/integrations")["total"] == 0


def test_alias_defaults_to_integration_name(api: Api) -> None:
    ws = api.create_workspace("defaults")
    wi = api.add_integration(ws, "kv-store")
    assert wi["alias"] == "kv-store"
    assert wi["settings"] == {"persistence": {"scope": "end_user"}}
    assert wi["displayName"] == "State KV" and wi["connectionStrategy"] == "fixed"


@META
def test_integration_crud_envelopes(api: Api) -> None:
    ws = api.create_workspace("crud")
    base = f"/api/v1/workspaces/{ws}/integrations"
    created = api.add_integration(
        ws,
        "kv-store",
        "state",
        {"persistence": {"scope": "workspace"}},
        enabledActions=["get", "put"],
        sortOrder=3,
        connectionStrategy="per_user",
        connectionId="conn-1",
        authMethodKey="k",
        oauthAppMode="platform",
        oauthAppId="app",
    )
    assert created["connectionStrategy"] == "per_user" and created["connectionId"] == "conn-1"
    assert created["authMethodKey"] == "k" and created["oauthAppMode"] == "platform"
    assert created["oauthAppId"] == "app"
    assert created["enabledActions"] == ["get", "put"] and created["sortOrder"] == 3

    listing = api.ok("GET", base)
    assert set(listing) == {"integrations", "total"}
    assert listing["total"] == 1 and listing["integrations"] == [created]

    one = api.ok("GET", f"{base}/{created['id']}")
    assert set(one) == {"integration"} and one["integration"] == created

    patched = api.ok(
        "PATCH",
        f"{base}/{created['id']}",
        {"alias": "state2", "displayName": "S", "enabledActions": None, "settings": None},
    )
    assert set(patched) == {"integration"}
    wi = patched["integration"]
    assert_integration(wi)
    assert wi["alias"] == "state2" and wi["displayName"] == "S"
    catalog = api.ok("GET", "/api/v1/integrations", params={"name": "kv-store"})["integration"]
    assert wi["enabledActions"] == list(catalog["actions"])  # unrestricted: every action
    assert wi["settings"] == {"persistence": {"scope": "end_user"}}
    assert wi["createdAt"] == created["createdAt"] and wi["updatedAt"] >= created["updatedAt"]
    assert wi["sortOrder"] == 3  # untouched fields stay

    resp = api.request("PATCH", f"{base}/{created['id']}", {"integrationName": "storage"})
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "integrationName"

    other = api.add_integration(ws, "kv-store", "other")
    clash = api.request("PATCH", f"{base}/{other['id']}", {"alias": "state2"})
    assert clash.status_code == 409 and clash.json()["code"] == "ALIAS_CONFLICT"

    deleted = api.ok("DELETE", f"{base}/{created['id']}")
    assert deleted == {"deleted": True, "id": created["id"]}
    for method in ("GET", "PATCH", "DELETE"):
        resp = api.request(method, f"{base}/{created['id']}", {"alias": "x"})
        assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND", method
    assert api.ok("GET", base)["total"] == 1


@META
def test_integrations_of_unknown_workspace(api: Api) -> None:
    for ws in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        base = f"/api/v1/workspaces/{ws}/integrations"
        assert api.request("GET", base).status_code == 404
        resp = api.request("POST", base, {"integrationName": "kv-store"})
        assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND"


@META
def test_deleting_an_alias_keeps_the_scope_data(api: Api) -> None:
    ws = api.create_workspace("keep")
    wi = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "k", "value": 1}, integrationAlias="state")
    api.ok("DELETE", f"/api/v1/workspaces/{ws}/integrations/{wi['id']}")
    api.add_integration(ws, "kv-store", "again", {"persistence": {"scope": "workspace"}})
    assert api.output("kv-store", "get", ws, {"key": "k"})["value"] == 1


# -- workspaces (acceptance 2) ------------------------------------------------------------------


@META
def test_workspace_envelopes(api: Api) -> None:
    resp = api.request("POST", "/api/v1/workspaces", {"name": "Acme", "slug": "acme"})
    assert resp.status_code == 201
    assert set(resp.json()) == {"workspace"}
    ws = resp.json()["workspace"]
    assert set(ws) == WORKSPACE
    assert ws["name"] == "Acme" and ws["slug"] == "acme" and is_iso_utc(ws["createdAt"])

    listing = api.ok("GET", "/api/v1/workspaces")
    assert set(listing) == {"workspaces", "total"} and listing == {"workspaces": [ws], "total": 1}

    got = api.ok("GET", f"/api/v1/workspaces/{ws['id']}")
    assert got == {"workspace": ws}

    patched = api.ok("PATCH", f"/api/v1/workspaces/{ws['id']}", {"name": "Acme Inc"})
    assert set(patched) == {"workspace"} and set(patched["workspace"]) == WORKSPACE
    assert patched["workspace"]["name"] == "Acme Inc" and patched["workspace"]["slug"] == "acme"
    patched = api.ok("PATCH", f"/api/v1/workspaces/{ws['id']}", {"slug": "acme-2"})
    assert patched["workspace"]["slug"] == "acme-2"

    empty = api.request("PATCH", f"/api/v1/workspaces/{ws['id']}", {})
    assert empty.status_code == 400 and empty.json()["code"] == "VALIDATION_ERROR"

    assert api.ok("DELETE", f"/api/v1/workspaces/{ws['id']}") == {"deleted": True, "id": ws["id"]}
    for method in ("GET", "PATCH", "DELETE"):
        resp = api.request(method, f"/api/v1/workspaces/{ws['id']}", {"name": "x"})
        assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND", method
    assert api.ok("GET", "/api/v1/workspaces") == {"workspaces": [], "total": 0}


@META
def test_workspace_slug_rules(api: Api) -> None:
    api.create_workspace("taken")
    dup = api.request("POST", "/api/v1/workspaces", {"name": "Again", "slug": "taken"})
    assert dup.status_code == 409 and dup.json()["code"] == "SLUG_EXISTS"
    assert dup.json()["details"]["field"] == "slug"
    other = api.create_workspace("other")
    clash = api.request("PATCH", f"/api/v1/workspaces/{other}", {"slug": "taken"})
    assert clash.status_code == 409 and clash.json()["code"] == "SLUG_EXISTS"
    for slug in ("Upper", "-lead", "", "sp ace", "ünï", "a" * 65, "under_score"):
        resp = api.request("POST", "/api/v1/workspaces", {"name": "N", "slug": slug})
        assert resp.status_code == 400, slug
        assert resp.json()["details"]["field"] == "slug", slug
    for name in ("", "   ", "a\nb", "x" * 201):
        resp = api.request("POST", "/api/v1/workspaces", {"name": name, "slug": "fine"})
        assert resp.status_code == 400, name
        assert resp.json()["details"]["field"] == "name", name


@META
def test_workspace_paging(api: Api) -> None:
    ids = [api.create_workspace(f"ws-{i}") for i in range(5)]
    page = api.ok("GET", "/api/v1/workspaces", params={"limit": 2, "offset": 1})
    assert page["total"] == 5 and [w["id"] for w in page["workspaces"]] == ids[1:3]
    assert len(api.ok("GET", "/api/v1/workspaces", params={"limit": 100})["workspaces"]) == 5
    # above the maximum is clamped (API.md, client compatibility), not refused
    assert len(api.ok("GET", "/api/v1/workspaces", params={"limit": 10**6})["workspaces"]) == 5
    for params in ({"limit": 0}, {"limit": "x"}, {"offset": -1}, {"offset": 2**63}):
        resp = api.request("GET", "/api/v1/workspaces", params=params)
        assert resp.status_code == 400, params
        assert resp.json()["details"]["field"] == next(iter(params)), params


@META
def test_delete_workspace_removes_its_data(api: Api) -> None:
    ws = api.create_workspace("doomed")
    keep = api.create_workspace("kept")
    for w in (ws, keep):
        api.add_integration(w, "kv-store", "state", {"persistence": {"scope": "workspace"}})
        api.output("kv-store", "put", w, {"key": "k", "value": w})
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    assert api.output("kv-store", "get", keep, {"key": "k"})["value"] == keep
    again = api.request("POST", "/api/v1/workspaces", {"name": "Doomed", "slug": "doomed"})
    ws2 = again.json()["workspace"]["id"]
    assert api.ok("GET", f"/api/v1/workspaces/{ws2}/integrations")["total"] == 0
    api.add_integration(ws2, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    assert api.output("kv-store", "get", ws2, {"key": "k"})["value"] is None


# -- API keys (acceptance 2) --------------------------------------------------------------------


@META
def test_api_key_envelopes(api: Api) -> None:
    listing = api.ok("GET", "/api/v1/api-keys")
    assert set(listing) == {"apiKeys", "total"} and listing["total"] == 1
    assert set(listing["apiKeys"][0]) == API_KEY

    ws = api.create_workspace("keyed")
    resp = api.request(
        "POST",
        "/api/v1/api-keys",
        {
            "name": "ci",
            "expiresAt": "2999-01-01T00:00:00+02:00",
            "permissions": {"scope": "workspace", "workspaceIds": [ws]},
        },
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert set(created) == {"apiKey", "plainKey"}
    key = created["apiKey"]
    assert set(key) == API_KEY
    plain = created["plainKey"]
    assert plain.startswith("cby_") and len(plain) > 40
    assert key["keyPrefix"] == plain[:8]
    assert key["name"] == "ci" and key["lastUsedAt"] is None
    assert key["expiresAt"] == "2998-12-31T22:00:00.000Z"
    assert key["permissions"] == {"scope": "workspace", "workspaceIds": [ws]}
    assert key["orgId"] == listing["apiKeys"][0]["orgId"]

    listing = api.ok("GET", "/api/v1/api-keys")
    assert listing["total"] == 2 and key in listing["apiKeys"]
    assert plain not in str(listing)

    assert api.ok("DELETE", f"/api/v1/api-keys/{key['id']}") == {"deleted": True, "id": key["id"]}
    assert api.ok("GET", "/api/v1/api-keys")["total"] == 1
    for missing in (key["id"], "00000000-0000-4000-8000-000000000000", "nope"):
        resp = api.request("DELETE", f"/api/v1/api-keys/{missing}")
        assert resp.status_code == 404 and resp.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({}, "name"),
        ({"name": "x", "expiresAt": "yesterday"}, "expiresAt"),
        ({"name": "x", "expiresAt": "2000-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "x", "expiresAt": "0001-01-01T00:00:00+14:00"}, "expiresAt"),
        ({"name": "x", "permissions": {"scope": "all"}}, "permissions.scope"),
        (
            {"name": "x", "permissions": {"scope": "org", "workspaceIds": [str(uuid.uuid4())]}},
            "permissions.workspaceIds",
        ),
        ({"name": "x", "permissions": {"scope": "workspace"}}, "permissions.workspaceIds"),
        (
            {"name": "x", "permissions": {"scope": "workspace", "workspaceIds": ["nope"]}},
            "permissions.workspaceIds",
        ),
        ({"name": "x", "permissions": {"scope": "workspace", "x": 1}}, "permissions.x"),
        ({"name": "x", "plainKey": "cby_mine"}, "plainKey"),
    ],
)
def test_bad_api_key_bodies(api: Api, body: dict[str, Any], field: str) -> None:
    resp = api.request("POST", "/api/v1/api-keys", body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    assert resp.json()["details"]["field"] == field


# -- catalog ------------------------------------------------------------------------------------


def test_catalog(api: Api) -> None:
    catalog = api.ok("GET", "/api/v1/integrations")
    assert set(catalog) == {"integrations", "total", "registered"}
    assert catalog["total"] == len(catalog["integrations"]) == len(catalog["registered"])
    names = {i["name"] for i in catalog["integrations"]}
    assert names == set(catalog["registered"]) and "kv-store" in names
    for integration in catalog["integrations"]:
        assert set(integration) == INTEGRATION
        assert integration["actions"]
        for name, action in integration["actions"].items():
            assert set(action) == ACTION and action["name"] == name
            for prop in action["props"].values():
                assert set(prop) >= PROP_REQUIRED
                assert prop["type"] in {
                    "SHORT_TEXT",
                    "LONG_TEXT",
                    "NUMBER",
                    "CHECKBOX",
                    "JSON",
                    "DROPDOWN",
                }

    kv = api.ok("GET", "/api/v1/integrations", params={"name": "kv-store"})
    assert set(kv) == {"integration"}
    kv = kv["integration"]
    assert kv["displayName"] == "State KV"
    assert set(kv["actions"]) == {
        "put",
        "get",
        "delete",
        "add_to_list",
        "remove_from_list",
        "increment",
        "list_keys",
    }
    put = kv["actions"]["put"]["props"]
    assert put["key"]["required"] is True and put["key"]["type"] == "SHORT_TEXT"
    assert put["value"]["type"] == "JSON"

    missing = api.request("GET", "/api/v1/integrations", params={"name": "nope"})
    assert missing.status_code == 404 and missing.json()["code"] == "INTEGRATION_NOT_FOUND"


def test_catalog_storage(api: Api) -> None:
    storage = api.ok("GET", "/api/v1/integrations", params={"name": "storage"})["integration"]
    assert storage["displayName"] == "Filesystem"
    assert {"read_file", "write_file", "delete_file", "list_files"} <= set(storage["actions"])


def test_health(api: Api) -> None:
    resp = api.client.get("/health")
    assert resp.status_code == 200 and resp.json() == {"status": "healthy"}
    assert resp.headers["content-type"] == "application/json"


def test_one_declaration_drives_catalog_openapi_and_validation(api: Api) -> None:
    """Each action's input Struct is the single source of its catalog props, its OpenAPI
    schema and the validation of execute requests."""
    doc = api.client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    ws = api.create_workspace("decl")
    catalog = api.ok("GET", "/api/v1/integrations")["integrations"]
    assert catalog
    for integration in catalog:
        for name, action in integration["actions"].items():
            variant = schemas[f"Execute.{integration['name']}.{name}"]
            assert variant["properties"]["integrationName"] == {"const": integration["name"]}
            assert variant["properties"]["actionName"] == {"const": name}
            ref = variant["properties"]["input"]["$ref"].rsplit("/", 1)[1]
            schema = schemas[ref]
            props = action["props"]
            assert set(schema["properties"]) == set(props), (integration["name"], name)
            required = {k for k, p in props.items() if p["required"]}
            assert set(schema.get("required", [])) == required, (integration["name"], name)
            assert ("input" in variant["required"]) == bool(required)
            if required:  # the same Struct validates: a missing required prop is named
                resp = api.execute(integration["name"], name, ws, {}, endUserId="u")
                assert resp.status_code == 400, resp.text
                assert resp.json()["details"]["field"] in {f"input.{f}" for f in required}


TEXT_FIELDS = [
    "displayName", "connectionStrategy", "connectionId", "authMethodKey", "oauthAppMode",
    "oauthAppId",
]  # fmt: skip


@META
def test_integration_text_fields_are_checked(api: Api) -> None:
    """Control characters (NUL: PostgreSQL text cannot hold it) and overlong text are 400s."""
    ws = api.create_workspace("text")
    base = f"/api/v1/workspaces/{ws}/integrations"
    wi = api.add_integration(ws, "kv-store", "state")
    for field in TEXT_FIELDS:
        for bad in ("x\x00y", "a\nb", "x" * 501):
            for method, path, body in [
                ("POST", base, {"integrationName": "kv-store", "alias": "new", field: bad}),
                ("PATCH", f"{base}/{wi['id']}", {field: bad}),
            ]:
                resp = api.request(method, path, body)
                assert resp.status_code == 400, (field, bad, resp.text)
                assert resp.json()["details"]["field"] == field
        if field == "connectionStrategy":  # one of the values the Weavz clients type
            for good in ("fixed", "per_user", "per_user_with_fallback"):
                ok = api.ok("PATCH", f"{base}/{wi['id']}", {field: good})
                assert ok["integration"][field] == good
            continue
        ok = api.ok("PATCH", f"{base}/{wi['id']}", {field: "Zoë's ✓ " + "x" * 480})
        assert ok["integration"][field].startswith("Zoë")
    assert api.ok("GET", base)["total"] == 1
