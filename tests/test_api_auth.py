"""Auth as in API.md: workspace-restricted keys, org-only key management, expiry, revocation,
keys hashed at rest and lastUsedAt kept off the request path (issue 2, acceptance 3)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from cubby.api.endpoint import Endpoint
from cubby.auth import hash_key
from cubby.core.models import ApiKey, new_id, utc_now
from cubby.services import Services
from cubby.settings import Settings
from cubby.web.routes import web_routes
from tests.backends import enabled_combos
from tests.helpers import Api, live_server

# Metadata-store behaviour runs on every metadata backend (file bodies play no part here);
# pure HTTP-layer checks run on the embedded default only, to keep the suite fast.
META = pytest.mark.parametrize(
    "backend", [c for c in enabled_combos() if not c.endswith("+s3")], indirect=True
)

# Endpoints that touch no single workspace, and what a key restricted to workspace A gets there.
# A new endpoint that is neither here nor workspace-bound (a workspace path parameter or a
# ``workspaceId`` body field) fails test_restricted_key_on_every_route until it is classified.
NOT_WORKSPACE_BOUND: dict[tuple[str, str], tuple[int, str | None, dict[str, Any] | None]] = {
    ("GET", "/health"): (200, None, None),
    ("GET", "/api/v1/integrations"): (200, None, None),
    ("GET", "/api/v1/workspaces"): (200, None, None),  # only the key's workspaces (tested below)
    ("POST", "/api/v1/workspaces"): (403, "FORBIDDEN", {"name": "New", "slug": "new"}),
    ("GET", "/api/v1/api-keys"): (403, "FORBIDDEN", None),
    ("POST", "/api/v1/api-keys"): (403, "FORBIDDEN", {"name": "escalate"}),
    ("DELETE", "/api/v1/api-keys/{id}"): (403, "FORBIDDEN", None),
    ("GET", "/metrics"): (404, "NOT_FOUND", None),  # off by default (tests/test_observability)
    ("GET", "/api/v1/mcp/servers"): (200, None, None),  # only the key's workspaces' servers
}
MCP_SERVER = "/api/v1/mcp/servers/{id}"  # bound to the server's workspace
# Workspace-bound, but managed by organisation-wide keys only (API.md "Limits and usage"): a
# restricted key gets 403 FORBIDDEN on every workspace, its own included.
ORG_KEY_ONLY = {
    ("GET", "/api/v1/workspaces/{id}/limits"),
    ("PUT", "/api/v1/workspaces/{id}/limits"),
}
UNKNOWN_WS = "00000000-0000-4000-8000-000000000000"
# Plain (non-Endpoint) routes without path parameters that serve no workspace data.
PUBLIC_PLAIN_ROUTES = {"/openapi.json", "/docs", "/favicon.ico", "/favicon.svg"}
# The dashboard authenticates by session cookie, not by API key; its isolation matrix is in
# test_web_pages.py (and test_dashboard_browser.py).
DASHBOARD_ROUTES = {route.path for route in web_routes()}


class World:
    """Workspaces A (the restricted key's) and B, each with a kv-store integration and data."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.a = api.create_workspace("ws-a")
        self.b = api.create_workspace("ws-b")
        self.wi: dict[str, dict[str, Any]] = {}
        self.end_user: dict[str, str] = {}
        for ws in (self.a, self.b):
            self.wi[ws] = api.add_integration(
                ws, "kv-store", "state", {"persistence": {"scope": "workspace"}}
            )
            api.output("kv-store", "put", ws, {"key": "secret", "value": ws})
            eu = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "u"}, 201)
            self.end_user[ws] = eu["endUser"]["id"]
        created = api.ok(
            "POST",
            "/api/v1/api-keys",
            {"name": "only-a", "permissions": {"scope": "workspace", "workspaceIds": [self.a]}},
            status=201,
        )
        self.key_a = created["plainKey"]
        self.key_a_id = created["apiKey"]["id"]
        self.mcp: dict[str, dict[str, str]] = {}
        for ws in (self.a, self.b):
            server = api.ok("POST", "/api/v1/mcp/servers", {"name": "m", "workspaceId": ws}, 201)
            sid = server["server"]["id"]
            tools = api.ok("GET", f"/api/v1/mcp/servers/{sid}")["tools"]
            token = api.ok("POST", f"/api/v1/mcp/servers/{sid}/access-tokens",
                           {"endUserId": "u"}, 201)["token"]  # fmt: skip
            self.mcp[ws] = {"id": sid, "toolId": tools[0]["id"], "tokenId": token["id"]}

    def request_for(self, ep: Endpoint, ws: str) -> tuple[str, dict[str, Any] | None]:
        """A valid request for ``ep`` aimed at workspace ``ws`` (path and JSON body)."""
        params = re.findall(r"{(\w+)}", ep.path)
        values: dict[str, str] = {}
        for name in params:
            if name == "wsId" or (name == "id" and ep.path.startswith("/api/v1/workspaces/{id}")):
                values[name] = ws
            elif name == "id" and "{wsId}/integrations/{id}" in ep.path:
                values[name] = self.wi[ws]["id"] if ws in self.wi else new_id()
            elif name in ("id", "toolId", "tokenId") and ep.path.startswith(MCP_SERVER):
                values[name] = self.mcp[ws][name] if ws in self.mcp else new_id()
            elif name == "id" and ep.path.startswith("/api/v1/end-users/{id}"):
                values[name] = self.end_user.get(ws) or new_id()  # an end user of ws
            else:
                raise AssertionError(f"classify path parameter {name!r} of {ep.path}")
        path = ep.path.format(**values)
        if any(q.name == "workspaceId" for q in ep.query):
            path += f"?workspaceId={ws}"
        body: dict[str, Any] | None = None
        if ep.body is not None:
            name = ep.body.__name__
            bodies: dict[str, dict[str, Any]] = {
                "UpdateWorkspace": {"name": "Renamed"},
                "Limits": {"maxKeys": 1000},
                "ExportRequest": {},
                "CreateIntegration": {"integrationName": "kv-store", "alias": "extra"},
                "UpdateIntegration": {"displayName": "Renamed"},
                "CreateServer": {"name": "agent", "workspaceId": ws},
                "UpdateServer": {"name": "Renamed"},
                "CreateAccessToken": {"endUserId": "u2"},
                "CreateTool": {"integrationName": "storage", "actionName": "list_files"},
                "UpdateTool": {"displayName": "Renamed"},
                "CreateEndUser": {"workspaceId": ws, "externalId": "extra"},
                "UpdateEndUser": {"displayName": "Renamed"},
                "EraseEndUserData": {"endUserId": "u"},
                "ExecuteRequest": {
                    "integrationName": "kv-store",
                    "actionName": "get",
                    "workspaceId": ws,
                    "integrationAlias": "state",
                    "input": {"key": "secret"},
                },
            }
            assert name in bodies, f"add a valid {name} body for {ep.method} {ep.path}"
            body = bodies[name]
        return path, body


def workspace_bound(ep: Endpoint) -> bool:
    if "{wsId}" in ep.path or ep.path.startswith(("/api/v1/workspaces/{id}", MCP_SERVER)):
        return True
    if ep.path.startswith("/api/v1/end-users/{id}"):  # an end user belongs to one workspace
        return True
    if any(q.name == "workspaceId" for q in ep.query):
        return True
    fields = getattr(ep.body, "__struct_fields__", ())
    return "workspace_id" in fields


def destructive_last(ep: Endpoint) -> tuple[int, int]:
    rank = {MCP_SERVER: 1, "/api/v1/workspaces/{id}": 2}.get(ep.path, 0)
    return (ep.method == "DELETE", rank)


@META
def test_restricted_key_on_every_route(api: Api, client: TestClient) -> None:
    world = World(api)
    endpoints: list[Endpoint] = client.app.state.endpoints  # type: ignore[attr-defined]
    endpoint_routes = {(ep.method, ep.path) for ep in endpoints}
    checked = 0

    # Plain routes (not declared as Endpoint) must be public and serve nothing of B.
    for route in client.app.routes:  # type: ignore[attr-defined]
        if route.path in DASHBOARD_ROUTES:
            continue
        assert isinstance(route, Route), f"classify route {route!r}"
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            if (method, route.path) in endpoint_routes:
                continue
            params = re.findall(r"{(\w+)}", route.path)
            if not params:
                assert route.path in PUBLIC_PLAIN_ROUTES, f"classify {method} {route.path}"
                continue
            # e.g. a signed download URL: guessing it from B's ids must never work
            for guess in (world.b, world.wi[world.b]["id"], "secret"):
                path = route.path.format(**dict.fromkeys(params, guess))
                resp = api.request(method, path, key=world.key_a)
                assert resp.status_code >= 400, (method, path, resp.status_code)
                assert world.b not in resp.text or resp.status_code in (403, 404)
                checked += 1

    for ep in sorted(endpoints, key=destructive_last):
        if not workspace_bound(ep):
            assert (ep.method, ep.path) in NOT_WORKSPACE_BOUND, (
                f"classify {ep.method} {ep.path}: workspace-bound or in NOT_WORKSPACE_BOUND"
            )
            status, code, body = NOT_WORKSPACE_BOUND[(ep.method, ep.path)]
            path = ep.path.replace("{id}", world.key_a_id)
            resp = api.request(ep.method, path, body, key=world.key_a)
            assert resp.status_code == status, (ep.method, ep.path, resp.text)
            if code is not None:
                assert resp.json()["code"] == code
            checked += 1
            continue
        if (ep.method, ep.path) in ORG_KEY_ONLY:
            for target in (world.a, world.b, UNKNOWN_WS):
                path, body = world.request_for(ep, target)
                resp = api.request(ep.method, path, body, key=world.key_a)
                assert resp.status_code == 403, (ep.method, path, resp.text)
                assert resp.json()["code"] == "FORBIDDEN", (ep.method, path, resp.text)
                checked += 1
            continue
        for target in (world.b, UNKNOWN_WS):
            path, body = world.request_for(ep, target)
            resp = api.request(ep.method, path, body, key=world.key_a)
            if target == UNKNOWN_WS and ep.path.startswith(MCP_SERVER):
                assert resp.status_code == 404, (ep.method, path, resp.text)  # no such server
                continue
            assert resp.status_code == 403, (ep.method, path, resp.text)
            assert resp.json()["code"] == "SCOPE_DENIED", (ep.method, path, resp.text)
            checked += 1
        # the same request on the key's own workspace works: the 403 above was the scope
        path, body = world.request_for(ep, world.a)
        resp = api.request(ep.method, path, body, key=world.key_a)
        assert resp.status_code < 300, (ep.method, path, resp.text)

    assert checked >= len(endpoints)
    # B is untouched: same integration, same data
    assert api.ok("GET", f"/api/v1/workspaces/{world.b}/integrations")["integrations"] == [
        world.wi[world.b]
    ]
    assert api.output("kv-store", "get", world.b, {"key": "secret"})["value"] == world.b


@META
def test_restricted_key_lists_only_its_workspaces(api: Api) -> None:
    world = World(api)
    listing = api.ok("GET", "/api/v1/workspaces", key=world.key_a)
    assert [w["id"] for w in listing["workspaces"]] == [world.a] and listing["total"] == 1
    execute = api.execute(
        "kv-store", "get", world.b, {"key": "secret"}, key=world.key_a, integrationAlias="state"
    )
    assert execute.status_code == 403 and world.b not in str(execute.json().get("output"))
    # an unknown integration name aimed at B is still a scope error, not a catalog probe
    resp = api.execute("nope", "get", world.b, {}, key=world.key_a)
    assert resp.status_code == 403 and resp.json()["code"] == "SCOPE_DENIED"


def test_key_management_needs_an_org_wide_key(api: Api) -> None:
    world = World(api)
    for method, path, body in [
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": "escalate"}),
        ("DELETE", f"/api/v1/api-keys/{world.key_a_id}", None),
        ("POST", "/api/v1/workspaces", {"name": "New", "slug": "new"}),
    ]:
        resp = api.request(method, path, body, key=world.key_a)
        assert resp.status_code == 403, (method, path)
        assert resp.json()["code"] == "FORBIDDEN"
    assert api.request("GET", "/api/v1/workspaces", key=world.key_a).status_code == 200


def _store_key(services: Services, expires_at: str | None) -> str:
    plain = "cby_" + new_id().replace("-", "")
    key = ApiKey(
        id=new_id(),
        org_id=services.meta.org_id,
        name="direct",
        key_prefix=plain[:8],
        permissions=None,
        last_used_at=None,
        expires_at=expires_at,
        created_at=utc_now(),
    )
    asyncio.run(services.meta.api_keys.create(key, hash_key(plain)))
    return plain


@META
def test_expired_key_is_refused(api: Api, services: Services) -> None:
    expired = _store_key(services, "2001-01-01T00:00:00.000Z")
    resp = api.request("GET", "/api/v1/workspaces", key=expired)
    assert resp.status_code == 401 and resp.json()["code"] == "UNAUTHENTICATED"
    assert "expired" in resp.json()["error"]
    future = _store_key(services, "2999-01-01T00:00:00.000Z")
    assert api.request("GET", "/api/v1/workspaces", key=future).status_code == 200


@META
def test_revoked_key_is_refused_at_once_by_the_revoking_process(api: Api) -> None:
    created = api.ok("POST", "/api/v1/api-keys", {"name": "short"}, status=201)
    plain = created["plainKey"]
    assert api.request("GET", "/api/v1/workspaces", key=plain).status_code == 200  # now cached
    api.ok("DELETE", f"/api/v1/api-keys/{created['apiKey']['id']}")
    resp = api.request("GET", "/api/v1/workspaces", key=plain)
    assert resp.status_code == 401 and "revoked" in resp.json()["error"]


def test_keys_are_hashed_at_rest(api: Api, settings: Settings) -> None:
    created = api.ok("POST", "/api/v1/api-keys", {"name": "hashed"}, status=201)
    plain = created["plainKey"]
    assert re.fullmatch(r"cby_[A-Za-z0-9_-]{43}", plain)
    path = settings.resolved_database_url.removeprefix("sqlite://")
    with sqlite3.connect(path) as conn:
        dump = "\n".join(conn.iterdump())
    assert plain not in dump and plain[8:] not in dump
    assert hash_key(plain) in dump


def test_last_used_at_is_not_written_per_request(
    api: Api, services: Services, settings: Settings
) -> None:
    db = services.meta.closer
    writes: list[str] = []
    db._writer_conn.set_trace_callback(writes.append)  # type: ignore[attr-defined]
    path = settings.resolved_database_url.removeprefix("sqlite://")
    key_id = api.ok("GET", "/api/v1/api-keys")["apiKeys"][0]["id"]

    for _ in range(20):
        api.ok("GET", "/api/v1/workspaces")
    assert not [w for w in writes if "api_keys" in w], writes
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT last_used_at FROM api_keys WHERE id = ?", (key_id,))
        assert stored.fetchone()[0] is None
    # ... yet the API shows it, and the periodic flush stores it in one batch
    shown = api.ok("GET", "/api/v1/api-keys")["apiKeys"][0]["lastUsedAt"]
    assert shown is not None and shown.endswith("Z")
    asyncio.run(services.auth.flush_last_used(force=True))
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT last_used_at FROM api_keys WHERE id = ?", (key_id,))
        assert stored.fetchone()[0] == shown
    assert len([w for w in writes if "UPDATE api_keys" in w]) == 1
    db._writer_conn.set_trace_callback(None)  # type: ignore[attr-defined]


@pytest.mark.slow
def test_revocation_reaches_every_worker_within_5s(tmp_path: Path) -> None:
    """Revoke over HTTP on one connection; fresh connections (any of 2 workers) refuse in 5 s."""
    with live_server(tmp_path, workers=2) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as admin:
            api = server.api(admin)
            created = api.ok("POST", "/api/v1/api-keys", {"name": "doomed"}, status=201)
        victim = created["plainKey"]
        headers = {"Authorization": f"Bearer {victim}"}

        def fresh_get() -> int:
            # a new connection each time, so the kernel may hand it to either worker
            return httpx.get(server.base_url + "/api/v1/workspaces", headers=headers).status_code

        # warm both workers' caches with the key
        assert all(fresh_get() == 200 for _ in range(30))

        with httpx.Client(base_url=server.base_url, timeout=10) as admin:
            server.api(admin).ok("DELETE", f"/api/v1/api-keys/{created['apiKey']['id']}")
        revoked_at = time.monotonic()

        # Ends by itself: once no worker accepts the key, 40 refusals come in a row; an
        # acceptance later than 5 s fails at once. Slow requests (a loaded machine) only make
        # it take longer, they cannot fail it.
        refused_in_a_row = 0
        while refused_in_a_row < 40:
            status = fresh_get()
            if status == 200:
                late = time.monotonic() - revoked_at
                assert late < 5.0, f"the key was still accepted {late:.2f} s after revocation"
                refused_in_a_row = 0
            else:
                assert status == 401
                refused_in_a_row += 1
