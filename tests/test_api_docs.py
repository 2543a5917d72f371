"""``/docs`` and the OpenAPI document cover every route, action and error code by construction:
these tests enumerate the app's route table, the registry and ``cubby.errors``."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from cubby import errors
from cubby.api import action_examples, record_examples
from cubby.api.docs import dashboard_route
from cubby.services import Services
from tests.helpers import Api

SRC = Path(__file__).resolve().parent.parent / "src" / "cubby"
VOID = {"meta", "br", "hr", "img", "input", "link"}


def docs(client: TestClient) -> str:
    resp = client.get("/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    return resp.text


def test_every_error_code_is_in_docs_and_the_openapi_enum(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    enum = doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    catalog = errors.catalog()
    codes = {e.code for e in catalog}
    assert set(enum) == codes and len(enum) == len(codes)
    # codes raised ad hoc (code="X") anywhere outside the dashboard's HTML forms are listed too
    for path in SRC.rglob("*.py"):
        if "web" in path.relative_to(SRC).parts:
            continue
        for code in re.findall(r'\bcode="([A-Z][A-Z0-9_]+)"', path.read_text()):
            assert code in codes, f"{code} ({path.name}): add it to an error class's `also`"
    for entry in catalog:
        row = re.search(
            rf"<tr id='error-{entry.code}'><td><code>{entry.code}</code></td>"
            rf"<td>{entry.status}</td><td>(.+?)</td></tr>",
            page,
        )
        assert row, entry.code
        assert len(row.group(1)) > 10, entry  # a meaning, not a blank
    assert codes >= {
        "VALIDATION_ERROR",
        "UNAUTHENTICATED",
        "SLUG_EXISTS",
        "ALIAS_CONFLICT",
        "PAYLOAD_TOO_LARGE",
        "RANGE_NOT_SATISFIABLE",
        "INTERNAL_ERROR",
    }


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def test_every_route_of_the_app_is_in_docs(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    checked = 0
    for route in client.app.routes:  # type: ignore[attr-defined]
        if dashboard_route(route):  # the dashboard's HTML pages and static files
            continue
        assert isinstance(route, Route | Mount), route
        assert html.escape(route.path) in page, f"{route.path} is missing from /docs"
        item = doc["paths"].get(route.path)
        methods = sorted(getattr(route, "methods", None) or ())
        if item is not None:  # an API operation: its own section, per method
            for method in methods:
                if method == "HEAD" and "head" not in item:
                    continue  # Starlette adds HEAD to every GET route
                assert method.lower() in item, (method, route.path)
                assert f"id='{slug(f'{method.lower()} {route.path}')}'" in page
        else:  # listed under "Other routes" with its methods and what it is
            row = re.search(
                rf"<tr><td><code>([A-Z ]+|any)</code></td><td><code>"
                rf"{re.escape(html.escape(route.path))}</code></td><td>(.+?)</td>",
                page,
                re.S,
            )
            assert row and len(row.group(2)) > 10, route.path
        checked += 1
    assert checked >= 15
    assert "/downloads/{token}" in doc["paths"]  # the download route is an API operation
    assert {"get", "head"} <= set(doc["paths"]["/downloads/{token}"])


def test_every_operation_has_examples(client: TestClient) -> None:
    page = docs(client)
    doc = client.get("/openapi.json").json()
    sections = dict(re.findall(r"<section class='op' id='([^']+)'>(.*?)</section>", page, re.S))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            body = sections[slug(f"{method} {path}")]
            if "requestBody" in op:
                assert "<h4>Request body</h4>" in body and "<pre>" in body, (method, path)
            ok = next(s for s in op["responses"] if s.startswith("2"))
            assert f"<h4>Response {ok}</h4>" in body, (method, path)
            if "application/json" in op["responses"][ok].get("content", {}):
                assert body.count("<pre>") >= 1 + ("requestBody" in op), (method, path)


def test_every_action_is_in_docs_with_its_inputs(client: TestClient, services: Services) -> None:
    page = docs(client)
    for integration in services.registry.all():
        assert f"id='integration-{integration.name}'" in page
        for name, action in integration.actions.items():
            section = re.search(
                rf"<section class='action' id='action-{integration.name}-{name}'>"
                r"(.*?)</section>",
                page,
                re.S,
            )
            assert section, (integration.name, name)
            for prop in action.props():
                assert f"<code>{prop}</code>" in section.group(1), (name, prop)
            assert f'"actionName": "{name}"' in html.unescape(section.group(1))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.raw = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("pre", "code"):
            self.raw += 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> after {self.stack[-3:]}")
            return
        self.stack.pop()
        if tag in ("pre", "code"):
            self.raw -= 1

    def handle_data(self, data: str) -> None:
        if not self.raw:
            self.text.append(data)


def test_docs_render_markdown_and_are_well_formed(client: TestClient) -> None:
    parser = _Tags()
    parser.feed(docs(client))
    assert not parser.problems, parser.problems[:5]
    assert parser.stack == []
    prose = "".join(parser.text)
    for raw in ("`", "**", "](", "\n- ", "\n# "):
        assert raw not in prose, (raw, prose[max(0, prose.find(raw) - 80) : prose.find(raw) + 80])
    assert "<code>" in docs(client)  # backticks became code


# -- issue 27, defect 7: each route lists what it can answer ---------------------------------
def _codes(op: dict[str, Any]) -> dict[str, list[str]]:
    return {s: r.get("x-codes", []) for s, r in op["responses"].items() if s[0] in "45"}


def test_each_route_lists_the_error_codes_it_can_answer(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    page = docs(client)
    create_ws = _codes(doc["paths"]["/api/v1/workspaces"]["post"])
    flat = {c for codes in create_ws.values() for c in codes}
    assert "SLUG_EXISTS" in create_ws["409"] and "DUPLICATE" not in flat
    assert not flat & {"ACTION_FAILED", "IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_IN_PROGRESS"}
    execute = _codes(doc["paths"]["/api/v1/actions/execute"]["post"])
    assert "SLUG_EXISTS" not in {c for codes in execute.values() for c in codes}
    assert execute["507"] == ["INSUFFICIENT_STORAGE"]
    assert "QUOTA_EXCEEDED" in execute["403"] and execute["429"] == ["RATE_LIMITED"]
    retry = doc["paths"]["/api/v1/actions/execute"]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in retry
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = _codes(op)
            assert codes.get("500") == ["INTERNAL_ERROR"], (method, path)
            if op.get("security") or path.startswith("/downloads/"):  # reads the database
                assert codes.get("503") == ["UNAVAILABLE"], (method, path)
                assert "Retry-After" in op["responses"]["503"]["headers"]
            if "requestBody" in op:
                assert codes["408"] == ["REQUEST_TIMEOUT"], (method, path)
                assert codes["413"] == ["PAYLOAD_TOO_LARGE"], (method, path)
                assert "INVALID_JSON" in codes["400"], (method, path)
            if method in ("post", "patch", "delete") and op.get("security"):
                assert codes["507"] == ["INSUFFICIENT_STORAGE"], (method, path)
            # /docs lists exactly these codes in the route's section
            section = re.search(
                rf"<section class='op' id='{slug(f'{method} {path}')}'>(.*?)</section>",
                page,
                re.S,
            )
            assert section, (method, path)
            listed = re.findall(r"<li><code>(\d{3})</code>(.*?)</li>", section.group(1))
            shown = {s: re.findall(r"#error-([A-Z_]+)'", text) for s, text in listed}
            assert shown == codes, (method, path)


# -- issue 28, item 8: documented codes only, wire names in details.field --------------------
API_MD = SRC.parent.parent / "docs" / "api.md"


def test_every_error_code_is_documented_in_api_md() -> None:
    text = API_MD.read_text()
    missing = [e.code for e in errors.catalog() if f"`{e.code}`" not in text]
    assert not missing, f"docs/api.md does not list {missing}"
    assert "HTTP_ERROR" not in {e.code for e in errors.catalog()}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"no boundary"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nx\r\n--b--\r\n',
        ),
    ],
)
def test_a_bad_multipart_form_answers_a_documented_code(
    client: TestClient, content_type: str, body: bytes
) -> None:
    resp = client.post("/sign-in", content=body, headers={"content-type": content_type})
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "VALIDATION_ERROR"
    assert resp.json()["code"] in {e.code for e in errors.catalog()}


def _wrong_value(schema: dict[str, Any]) -> Any:
    """A value of a JSON type the field's schema does not take."""
    options = [schema, *schema.get("anyOf", [])]
    if any(o.get("type") == "object" or "$ref" in o for o in options):
        return "not an object"
    return {"not": "this"}


def test_every_body_field_error_names_the_wire_field(api: Api, client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    components = doc["components"]["schemas"]
    checked = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            name = ref.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
            props = components.get(name, {}).get("properties", {})
            url = re.sub(r"{\w+}", "00000000-0000-4000-8000-000000000000", path)
            for field, schema in props.items():
                if schema == {} or field == "input":
                    continue  # any JSON
                resp = api.request(method.upper(), url, {field: _wrong_value(schema)})
                assert resp.status_code == 400, (method, path, field, resp.text)
                assert resp.json()["details"]["field"] == field, (method, path, resp.text)
                checked += 1
    assert checked > 40


def test_a_tool_display_name_error_names_display_name(api: Api) -> None:
    ws = api.create_workspace("tool-fields")
    server = api.ok("POST", "/api/v1/mcp/servers", {"name": "s", "workspaceId": ws}, 201)
    sid = server["server"]["id"]
    body = {"integrationName": "kv-store", "actionName": "get", "displayName": "a\u0001"}
    resp = api.request("POST", f"/api/v1/mcp/servers/{sid}/tools", body)
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "displayName"
    body["displayName"] = "fine"
    tool = api.ok("POST", f"/api/v1/mcp/servers/{sid}/tools", body, 201)["tool"]
    resp = api.request(
        "PATCH", f"/api/v1/mcp/servers/{sid}/tools/{tool['id']}", {"displayName": "\u0002"}
    )
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "displayName"


# -- issue 28, item 9: the document states what the server enforces --------------------------
def test_required_query_and_non_empty_patches_are_declared_and_enforced(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    params = doc["paths"]["/api/v1/end-users"]["get"]["parameters"]
    assert next(p for p in params if p["name"] == "workspaceId")["required"] is True
    resp = api.request("GET", "/api/v1/end-users")
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "workspaceId"
    schemas = doc["components"]["schemas"]
    for name in ("UpdateWorkspace", "UpdateEndUser", "UpdateServer"):
        assert schemas[name]["minProperties"] == 1, name
    ws = api.create_workspace("patches")
    resp = api.request("PATCH", f"/api/v1/workspaces/{ws}", {})
    assert resp.status_code == 400
    assert resp.json()["error"] == "nothing to update: send name and/or slug"
    scope = schemas["KeyPermissions"]["properties"]["scope"]
    assert scope["enum"] == ["org", "workspace"]
    assert schemas["CreateServer"]["properties"]["mode"]["enum"] == ["TOOLS"]
    strategy = schemas["CreateIntegration"]["properties"]["connectionStrategy"]["anyOf"][0]
    assert strategy["enum"] == ["fixed", "per_user", "per_user_with_fallback"]
    resp = api.request("POST", "/api/v1/workspaces", {"name": "x\u0001", "slug": "ok"})
    assert resp.status_code == 400
    assert resp.json()["error"] == "name must not be blank or contain control characters"
    resp = api.request("POST", "/api/v1/api-keys", {"name": "k", "permissions": {"scope": ""}})
    assert resp.status_code == 400 and "'org', 'workspace'" in resp.json()["error"]
    assert resp.json()["details"] == {"field": "permissions.scope", "allowed": ["org", "workspace"]}


# -- issue 27, defects 8 and 9 and the rough edges of /docs -----------------------------------
def test_the_execute_examples_are_the_answers_of_a_real_run(client: TestClient) -> None:
    recorded = action_examples.load()
    fresh = record_examples.record()
    assert fresh == recorded, (
        "docs_assets/action_examples.json is stale: python -m cubby.api.record_examples"
    )
    page = html.unescape(docs(client))
    write = recorded["storage/write_file"]
    content = write["request"]["input"]["content"]
    assert write["response"]["output"]["size"] == len(content.encode())
    assert write["response"]["output"]["expiresAt"] is None  # not a copy of updatedAt
    section = re.search(r"id='action-storage-write_file'>(.*?)</section>", page, re.S)
    assert section and f'"size": {len(content.encode())}' in section.group(1)
    assert '"size": 1500' not in page


def test_docs_ids_are_unique_and_there_is_a_favicon(client: TestClient) -> None:
    page = docs(client)
    ids = re.findall(r"\bid=['\"]([^'\"]+)['\"]", page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)[:5]
    assert page.count('id="actions"') + page.count("id='actions'") == 1
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\0\0\1\0"  # an ICO file
    svg = client.get("/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    assert 'rel="icon" href="/favicon.svg"' in page
    assert 'rel="icon" href="/favicon.svg"' in client.get("/").text  # the dashboard's pages


def test_docs_have_examples_a_searchable_sidebar_and_no_inline_code(client: TestClient) -> None:
    resp = client.get("/docs")
    assert resp.headers["content-security-policy"].startswith("default-src 'self'")
    page = resp.text
    assert "<style" not in page and re.search(r"<script>|<script [^>]*>[^<]", page) is None
    assert re.search(r"<input id=\"search\" type=\"search\"", page)
    assert '<a class="back" href="/">' in page  # back to the dashboard
    for asset, kind in (("docs.js", "text/javascript"), ("docs.css", "text/css")):
        assert f"/docs/assets/{asset}" in page
        got = client.get(f"/docs/assets/{asset}")
        assert got.status_code == 200 and got.headers["content-type"].startswith(kind)
    doc = client.get("/openapi.json").json()
    sections = dict(re.findall(r"<section class='op' id='([^']+)'>(.*?)</section>", page, re.S))
    for path, item in doc["paths"].items():
        for method, op in item.items():
            body = html.unescape(sections[slug(f"{method} {path}")])
            assert "<p>curl:</p>" in body and "$CUBBY_BASE_URL" in body, (method, path)
            if op.get("security"):
                assert "<p>Python SDK:</p>" in body and "client.request(" in body, (method, path)
    create = html.unescape(sections[slug("post /api/v1/workspaces")])
    assert re.search(r"<code>slug</code>.*lowercase letters, digits and '-'", create, re.S)


def test_every_body_field_and_parameter_says_what_it_means(client: TestClient) -> None:
    """Each row of a fields or parameters table in /docs has a meaning: the field's or the
    parameter's description (or the rules its schema states), not only 'required.' or its
    default."""
    page = docs(client)
    tables = re.findall(r"<table><tr><th>(field|name)</th>(.*?)</table>", page, re.S)
    empty: dict[str, set[str]] = {"field": set(), "name": set()}
    rows = {"field": 0, "name": 0}
    for kind, table in tables:
        for row in re.findall(r"<tr>(<td>.*?)</tr>", table, re.S):
            cells = re.findall(r"<td>(.*?)</td>", row, re.S)
            meaning = re.sub(r"<[^>]+>", "", cells[-1])
            meaning = re.sub(r"\(default .*?\)", "", meaning).replace("required.", "")
            rows[kind] += 1
            if not meaning.strip():
                empty[kind].add(re.sub(r"<[^>]+>", "", " ".join(cells[:2])))
    assert rows["field"] > 100 and rows["name"] > 40
    assert empty == {"field": set(), "name": set()}
    parameters = [
        p
        for item in client.get("/openapi.json").json()["paths"].values()
        for op in item.values()
        for p in op.get("parameters", [])
    ]
    assert all(isinstance(p.get("description"), str) and p["description"] for p in parameters)
