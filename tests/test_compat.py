"""Client compatibility, round two (issue 13, acceptance 1): what the Weavz clients' typed
models and agent-tool adapters expect, one test per bullet, over HTTP, with API.md's shapes
("Client compatibility details")."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import pytest

from tests.helpers import Api, error_body

CATEGORIES = {
    "AI", "ANALYTICS", "COMMERCE", "COMMUNICATION", "CONTENT_AND_FILES", "CUSTOMER_SUPPORT",
    "DEVELOPER_TOOLS", "FINANCE", "FORMS_AND_SURVEYS", "HR_AND_RECRUITING", "MARKETING",
    "PROJECT_MANAGEMENT", "PRODUCTIVITY", "SALES_AND_CRM",
}  # fmt: skip


# -- numbers: integral floats where an integer is expected ------------------------------------


def test_integral_floats_are_integers_in_every_action_input(api: Api) -> None:
    ws = api.create_workspace("floats")
    api.output("storage", "write_file", ws, {"path": "a.txt", "content": "hi"}, endUserId="u")
    # the Python client's typed layer sends expiresInSeconds as a float
    out = api.output(
        "storage", "get_download_url", ws, {"path": "a.txt", "expiresInSeconds": 120.0},
        endUserId="u",
    )  # fmt: skip
    assert set(out) >= {"url", "expiresAt"}
    listed = api.output("storage", "list_files", ws, {"limit": 1.0}, endUserId="u")
    assert [f["path"] for f in listed["files"]] == ["a.txt"]
    # 1e2 and -0.0 style spellings are integers too; bounds still apply after conversion
    assert api.execute(
        "storage", "get_download_url", ws, {"path": "a.txt", "expiresInSeconds": 6e1},
        endUserId="u",
    ).status_code == 200  # fmt: skip
    low = api.execute(
        "storage", "get_download_url", ws, {"path": "a.txt", "expiresInSeconds": 59.0},
        endUserId="u",
    )  # fmt: skip
    error_body(low, 400, "VALIDATION_ERROR", "input.expiresInSeconds")


@pytest.mark.parametrize("bad", [120.5, 1e300, 0.1])
def test_fractional_numbers_are_a_400_naming_the_field(api: Api, bad: float) -> None:
    ws = api.create_workspace("fractions")
    resp = api.execute(
        "storage", "get_download_url", ws, {"path": "a.txt", "expiresInSeconds": bad},
        endUserId="u",
    )  # fmt: skip
    error_body(resp, 400, "VALIDATION_ERROR", "input.expiresInSeconds")


def test_integral_floats_leave_other_values_byte_for_byte(api: Api) -> None:
    """The conversion touches integer props only: a JSON value stored next to one keeps its
    floats (and a float-typed value is never turned into an integer)."""
    ws = api.create_workspace("float-values")
    value = {"price": 2.0, "ratio": 0.5, "n": [1.0, 2]}
    out = api.output("kv-store", "put", ws, {"key": "k", "value": value}, endUserId="u")
    assert out["value"] == value
    got = api.output("kv-store", "get", ws, {"key": "k"}, endUserId="u")["value"]
    assert got == value and isinstance(got["price"], float)


def test_integral_floats_in_request_bodies(api: Api) -> None:
    """The same shared decoding serves route bodies: sortOrder 3.0 is 3."""
    ws = api.create_workspace("float-bodies")
    wi = api.add_integration(ws, "kv-store", "state", sortOrder=3.0)
    assert wi["sortOrder"] == 3 and isinstance(wi["sortOrder"], int)
    resp = api.request(
        "POST", f"/api/v1/workspaces/{ws}/integrations",
        {"integrationName": "kv-store", "alias": "other", "sortOrder": 3.5},
    )  # fmt: skip
    error_body(resp, 400, "VALIDATION_ERROR", "sortOrder")


# -- WorkspaceIntegration as the clients type it ----------------------------------------------


def test_workspace_integration_defaults_for_builtins(api: Api) -> None:
    ws = api.create_workspace("wi-defaults")
    catalog = {i["name"]: i for i in api.ok("GET", "/api/v1/integrations")["integrations"]}
    for name in ("storage", "kv-store"):
        wi = api.add_integration(ws, name)
        assert wi["connectionStrategy"] == "fixed"
        assert wi["displayName"] == catalog[name]["displayName"]
        assert wi["enabledActions"] == list(catalog[name]["actions"])
        assert isinstance(wi["settings"], dict) and isinstance(wi["sortOrder"], int)
        for nullable in ("connectionId", "authMethodKey", "oauthAppMode", "oauthAppId"):
            assert wi[nullable] is None
        # the same on every read path
        base = f"/api/v1/workspaces/{ws}/integrations"
        assert api.ok("GET", f"{base}/{wi['id']}")["integration"] == wi
        assert wi in api.ok("GET", base)["integrations"]
    # a stored restriction is returned as stored, and unrestricting returns every action
    restricted = api.add_integration(ws, "kv-store", "ro", enabledActions=["get"])
    assert restricted["enabledActions"] == ["get"]
    path = f"/api/v1/workspaces/{ws}/integrations/{restricted['id']}"
    opened = api.ok("PATCH", path, {"enabledActions": None})["integration"]
    assert opened["enabledActions"] == list(catalog["kv-store"]["actions"])
    # an explicit display name wins; null goes back to the catalog's
    named = api.ok("PATCH", path, {"displayName": "Mine"})["integration"]
    assert named["displayName"] == "Mine"
    assert api.ok("PATCH", path, {"displayName": None})["integration"]["displayName"] == (
        "State KV"
    )
    bad = api.request("PATCH", path, {"connectionStrategy": "sometimes"})
    error_body(bad, 400, "VALIDATION_ERROR", "connectionStrategy")


# -- catalog ----------------------------------------------------------------------------------


def test_catalog_dropdowns_logos_auth_triggers_categories(api: Api) -> None:
    catalog = api.ok("GET", "/api/v1/integrations")
    by_name = {i["name"]: i for i in catalog["integrations"]}
    assert by_name["storage"]["categories"] == ["CONTENT_AND_FILES"]
    assert by_name["kv-store"]["categories"] == ["DEVELOPER_TOOLS"]
    for integration in catalog["integrations"]:
        assert set(integration["categories"]) <= CATEGORIES
        assert integration["auth"] == {} and integration["authOptions"] == []
        assert integration["triggers"] == {}
        url = integration["logoUrl"]
        assert url.endswith(f"/logos/{integration['name']}.svg")
        logo = api.client.get(urlsplit(url).path)
        assert logo.status_code == 200, logo.text  # served by cubby, without an API key
        assert logo.headers["content-type"].startswith("image/svg+xml")
        assert logo.text.lstrip().startswith("<svg")
        for action in integration["actions"].values():
            for prop in action["props"].values():
                if prop["type"] == "DROPDOWN":
                    options = prop["options"]["options"]
                    assert options and all(set(o) == {"label", "value"} for o in options)
    write = by_name["storage"]["actions"]["write_file"]["props"]["contentEncoding"]
    assert write["type"] == "DROPDOWN"
    assert write["options"] == {
        "options": [{"label": "utf8", "value": "utf8"}, {"label": "base64", "value": "base64"}]
    }
    read = by_name["storage"]["actions"]["read_file"]["props"]["outputEncoding"]
    assert [o["value"] for o in read["options"]["options"]] == ["utf8", "base64"]
    assert api.client.get("/logos/nope.svg").status_code == 404


def test_catalog_summary(api: Api) -> None:
    full = api.ok("GET", "/api/v1/integrations")["integrations"]
    for flag in ("true", "True", "1"):
        summary = api.ok("GET", "/api/v1/integrations", params={"summary": flag})
        assert set(summary) == {"integrations", "total"}
        assert summary["total"] == len(full) == len(summary["integrations"])
        for entry, integration in zip(summary["integrations"], full, strict=True):
            assert set(entry) == {
                "name", "displayName", "description", "logoUrl", "categories", "actionCount",
                "triggerCount", "auth",
            }  # fmt: skip
            assert entry["name"] == integration["name"]
            assert entry["actionCount"] == len(integration["actions"])
            assert entry["triggerCount"] == 0 and entry["auth"] == {}
            assert entry["logoUrl"] == integration["logoUrl"]
    assert api.ok("GET", "/api/v1/integrations", params={"summary": "false"})["integrations"] == (
        full
    )
    bad = api.request("GET", "/api/v1/integrations", params={"summary": "maybe"})
    error_body(bad, 400, "VALIDATION_ERROR", "summary")


# -- execute: connection fields ---------------------------------------------------------------


def test_execute_accepts_and_ignores_connection_fields(api: Api) -> None:
    ws = api.create_workspace("conn-fields")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    fields = {"authMethodKey": "api_key", "oauthAppMode": "platform", "oauthAppId": "app-1"}
    put = api.output("kv-store", "put", ws, {"key": "k", "value": 1}, **fields)
    assert put["key"] == "k"
    got = api.output("kv-store", "get", ws, {"key": "k"}, **fields)
    assert got["value"] == 1
    # null is fine too, and the clients' own header is ignored
    resp = api.client.post(
        "/api/v1/actions/execute",
        json={
            "integrationName": "kv-store", "actionName": "get", "workspaceId": ws,
            "input": {"key": "k"}, "authMethodKey": None, "oauthAppMode": None,
            "oauthAppId": None,
        },
        headers={**api.headers(), "X-Weavz-Source": "sdk"},
    )  # fmt: skip
    assert resp.status_code == 200 and resp.json()["output"]["value"] == 1


# -- API keys ---------------------------------------------------------------------------------


def test_api_key_org_scope_and_approvals(api: Api) -> None:
    ws = api.create_workspace("keys-org")
    org = api.ok(
        "POST", "/api/v1/api-keys",
        {"name": "org", "permissions": {"scope": "org", "approvals": {"decide": True}}},
        status=201,
    )  # fmt: skip
    assert org["apiKey"]["permissions"] == {"scope": "org", "approvals": {"decide": True}}
    plain = org["plainKey"]
    # organisation-wide: may manage keys and create workspaces, sees every workspace
    assert api.request("GET", "/api/v1/api-keys", key=plain).status_code == 200
    listed = api.ok("GET", "/api/v1/workspaces", key=plain)
    assert ws in [w["id"] for w in listed["workspaces"]]
    made = api.request("POST", "/api/v1/workspaces", {"name": "N", "slug": "by-org"}, key=plain)
    assert made.status_code == 201, made.text

    scoped = api.ok(
        "POST", "/api/v1/api-keys",
        {
            "name": "ws",
            "permissions": {
                "scope": "workspace", "workspaceIds": [ws], "approvals": {"decide": False},
            },
        },
        status=201,
    )  # fmt: skip
    assert scoped["apiKey"]["permissions"] == {
        "scope": "workspace", "workspaceIds": [ws], "approvals": {"decide": False},
    }  # fmt: skip
    echoed = {k["id"]: k for k in api.ok("GET", "/api/v1/api-keys")["apiKeys"]}
    assert echoed[org["apiKey"]["id"]]["permissions"] == org["apiKey"]["permissions"]
    assert echoed[scoped["apiKey"]["id"]]["permissions"] == scoped["apiKey"]["permissions"]
    # the restricted key still is restricted
    denied = api.request("GET", "/api/v1/api-keys", key=scoped["plainKey"])
    error_body(denied, 403, "FORBIDDEN")
    bad = api.request(
        "POST", "/api/v1/api-keys",
        {"name": "x", "permissions": {"scope": "org", "approvals": {"decide": "yes"}}},
    )  # fmt: skip
    error_body(bad, 400, "VALIDATION_ERROR", "permissions.approvals.decide")


# -- list routes ------------------------------------------------------------------------------


def test_list_limit_is_clamped_and_include_suspended_accepted(api: Api) -> None:
    ids = [api.create_workspace(f"clamp-{i}") for i in range(3)]
    page = api.ok("GET", "/api/v1/workspaces", params={"limit": 5000, "includeSuspended": "true"})
    assert [w["id"] for w in page["workspaces"]] == ids and page["total"] == 3
    ws = ids[0]
    # list_files clamps too (at 1000)
    api.output("storage", "write_file", ws, {"path": "a", "content": "x"}, endUserId="u")
    out = api.output("storage", "list_files", ws, {"limit": 10**9}, endUserId="u")
    assert [f["path"] for f in out["files"]] == ["a"]


# -- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "canonical"),
    [("utf8", "utf8"), ("UTF8", "utf8"), ("utf-8", "utf8"), ("UTF-8", "utf8"),
     ("base64", "base64"), ("Base64", "base64"), ("BASE64", "base64")],
)  # fmt: skip
def test_encoding_synonyms(api: Api, sent: str, canonical: str) -> None:
    ws = api.create_workspace("enc")
    content = "héllo" if canonical == "utf8" else base64.b64encode(b"\x00\xffbin").decode()
    api.output(
        "storage", "write_file", ws, {"path": "f", "content": content, "contentEncoding": sent},
        endUserId="u",
    )  # fmt: skip
    out = api.output(
        "storage", "read_file", ws, {"path": "f", "outputEncoding": sent}, endUserId="u"
    )
    assert out["encoding"] == canonical and out["content"] == content


def test_unknown_encoding_is_a_400_naming_the_field(api: Api) -> None:
    ws = api.create_workspace("enc-bad")
    for field, action, extra in (
        ("contentEncoding", "write_file", {"content": "x"}),
        ("outputEncoding", "read_file", {}),
    ):
        resp = api.execute(
            "storage", action, ws, {"path": "f", field: "latin1", **extra}, endUserId="u"
        )
        body = error_body(resp, 400, "VALIDATION_ERROR", f"input.{field}")
        assert "utf8" in body["error"] and "base64" in body["error"]
