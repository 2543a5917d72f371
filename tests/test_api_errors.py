"""The error model of API.md on every kind of bad request: each non-2xx is
``{"error", "code", "details"?}`` as application/json, with details.field for validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cubby.settings import Settings
from tests.helpers import Api

BODY_LIMIT = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(max_body_bytes=BODY_LIMIT)


def error_of(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) <= {"error", "code", "details"}, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"], body
    assert "Traceback" not in resp.text
    return dict(body)


def post(api: Api, path: str, content: bytes, key: str | None = None) -> httpx.Response:
    headers = {**api.headers(key), "Content-Type": "application/json"}
    return api.client.post(path, content=content, headers=headers)  # type: ignore[no-any-return]


@pytest.fixture
def ws(api: Api) -> str:
    return api.create_workspace("errors")


def body_routes(ws: str) -> list[str]:
    return [
        "/api/v1/api-keys",
        "/api/v1/workspaces",
        f"/api/v1/workspaces/{ws}/integrations",
        "/api/v1/actions/execute",
    ]


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"{'a': 1}", b"not json", b'{"a": 1} trailing', b"\xff\xfe", b'{"name": "\xff"}'],
)
def test_malformed_json(api: Api, ws: str, content: bytes) -> None:
    for path in body_routes(ws):
        error_of(post(api, path, content), 400, "INVALID_JSON")


def test_invalid_utf8_never_reaches_storage(api: Api, ws: str) -> None:
    body = (
        b'{"integrationName": "kv-store", "actionName": "put", "workspaceId": "'
        + ws.encode()
        + b'", "endUserId": "u", "input": {"key": "k", "value": "\xff\xfe"}}'
    )
    error_of(post(api, "/api/v1/actions/execute", body), 400, "INVALID_JSON")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/workspaces", {"name": 5, "slug": "x"}, "name"),
        ("/api/v1/workspaces", {"name": "x", "slug": None}, "slug"),
        ("/api/v1/workspaces", [], ""),
        ("/api/v1/workspaces", "text", ""),
        ("/api/v1/api-keys", {"name": ["x"]}, "name"),
        ("/api/v1/api-keys", {"name": "x", "permissions": "all"}, "permissions"),
        ("/api/v1/workspaces/{ws}/integrations", {"integrationName": 1}, "integrationName"),
        (
            "/api/v1/workspaces/{ws}/integrations",
            {"integrationName": "kv-store", "enabledActions": "get"},
            "enabledActions",
        ),
        (
            "/api/v1/workspaces/{ws}/integrations",
            {"integrationName": "kv-store", "sortOrder": "1"},
            "sortOrder",
        ),
        (
            "/api/v1/workspaces/{ws}/integrations",
            {"integrationName": "kv-store", "settings": []},
            "settings",
        ),
        ("/api/v1/actions/execute", {"integrationName": "kv-store"}, "actionName"),
        (
            "/api/v1/actions/execute",
            {"integrationName": "kv-store", "actionName": "get", "workspaceId": 1},
            "workspaceId",
        ),
        (
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": "{ws}",
                "endUserId": "u",
                "input": {"key": 1},
            },
            "input.key",
        ),
        (
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": "{ws}",
                "endUserId": "u",
                "input": "k",
            },
            "input",
        ),
        (
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": "{ws}",
                "endUserId": "u",
                "partialIds": "x",
            },
            "partialIds",
        ),
    ],
)
def test_wrong_types(api: Api, ws: str, path: str, body: Any, field: str) -> None:
    if isinstance(body, dict):
        body = {k: v.replace("{ws}", ws) if isinstance(v, str) else v for k, v in body.items()}
    resp = api.request("POST", path.replace("{ws}", ws), body)
    err = error_of(resp, 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == (field or None), err
    if field:
        assert field in err["error"], err


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/v1/workspaces", {"name": "x", "slug": "x", "owner": "me"}, "owner"),
        ("PATCH", "/api/v1/workspaces/{ws}", {"title": "x"}, "title"),
        ("POST", "/api/v1/api-keys", {"name": "x", "scope": "all"}, "scope"),
        (
            "POST",
            "/api/v1/workspaces/{ws}/integrations",
            {"integrationName": "kv-store", "persistence": {"scope": "workspace"}},
            "persistence",
        ),
        (
            "POST",
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": "{ws}",
                "scope": "workspace",
            },
            "scope",
        ),
        (
            "POST",
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": "{ws}",
                "endUserId": "u",
                "input": {"key": "k", "scope": "workspace"},
            },
            "input.scope",
        ),
    ],
)
def test_unknown_fields(api: Api, ws: str, method: str, path: str, body: Any, field: str) -> None:
    body = {k: v.replace("{ws}", ws) if isinstance(v, str) else v for k, v in body.items()}
    err = error_of(api.request(method, path.replace("{ws}", ws), body), 400, "VALIDATION_ERROR")
    assert err["details"]["field"] == field
    assert "unknown field" in err["error"]


def test_oversized_body(api: Api, ws: str) -> None:
    big = b'{"name": "' + b"x" * BODY_LIMIT + b'", "slug": "big"}'
    for path in body_routes(ws):
        err = error_of(post(api, path, big), 413, "PAYLOAD_TOO_LARGE")
        assert err["details"]["limit"] == BODY_LIMIT


def test_oversized_chunked_body(api: Api) -> None:
    """No Content-Length: the limit still holds while the body streams in."""

    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(BODY_LIMIT // 1024 + 1):
            yield b"x" * 1024
        yield b'", "slug": "big"}'

    headers = {**api.headers(), "Content-Type": "application/json"}
    resp = api.client.post("/api/v1/workspaces", content=chunks(), headers=headers)
    error_of(resp, 413, "PAYLOAD_TOO_LARGE")
    assert api.ok("GET", "/api/v1/workspaces")["total"] == 0


def test_body_just_under_the_limit_is_fine(api: Api) -> None:
    name = "x" * 200
    body = b'{"name": "' + name.encode() + b'", "slug": "ok"' + b" " * 1000 + b"}"
    assert post(api, "/api/v1/workspaces", body).status_code == 201


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/api/v1/nope"),
        ("POST", "/api/v1/actions/nope"),
        ("GET", "/api/v1/workspaces/a/b/c"),
        ("DELETE", "/api/v2/workspaces"),
    ],
)
def test_unknown_route_is_json_404(api: Api, method: str, path: str) -> None:
    for key in (None, "cby_wrong"):
        err = error_of(api.request(method, path, key=key), 404, "NOT_FOUND")
        assert path in err["error"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/workspaces/{ws}", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("DELETE", "/api/v1/workspaces", {"GET", "HEAD", "POST"}),
        ("GET", "/api/v1/actions/execute", {"POST"}),
        ("POST", "/health", {"GET", "HEAD"}),
        ("OPTIONS", "/api/v1/api-keys", {"GET", "HEAD", "POST"}),
    ],
)
def test_method_not_allowed(api: Api, ws: str, method: str, path: str, allowed: set[str]) -> None:
    resp = api.request(method, path.replace("{ws}", ws))
    err = error_of(resp, 405, "METHOD_NOT_ALLOWED")
    assert set(err["details"]["allowed"]) == allowed
    assert set(resp.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer cby_unknown", "cby_x"],
)
def test_unauthenticated(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [
        ("GET", "/api/v1/workspaces"),
        ("GET", "/api/v1/api-keys"),
        ("GET", "/api/v1/integrations"),
        ("POST", "/api/v1/actions/execute"),
    ]:
        resp = api.client.request(method, path, headers=headers, json={})
        error_of(resp, 401, "UNAUTHENTICATED")


def test_auth_comes_before_body_checks(api: Api) -> None:
    resp = api.client.post(
        "/api/v1/workspaces", content=b"{", headers={"Authorization": "Bearer cby_nope"}
    )
    error_of(resp, 401, "UNAUTHENTICATED")


def test_unknown_headers_are_ignored(api: Api, ws: str) -> None:
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    resp = api.client.post(
        "/api/v1/actions/execute",
        json={
            "integrationName": "kv-store",
            "actionName": "get",
            "workspaceId": ws,
            "input": {"key": "k"},
        },
        headers={**api.headers(), "X-Weavz-Source": "sdk", "X-Anything": "1"},
    )
    assert resp.status_code == 200, resp.text


def test_docs_and_openapi_are_served(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/actions/execute" in doc["paths"]
    page = api.client.get("/docs")
    assert page.status_code == 200 and "/api/v1/actions/execute" in page.text
