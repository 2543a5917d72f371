"""The MCP servers resource (API.md "MCP servers") on every backend, and the endpoint's token
rules in-process: expiry (the clock moves, nothing sleeps), revocation, scoping."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from cubby.core import clock, keys
from tests.helpers import Api
from tests.mcp_client import SPEC, create_server

pytestmark = pytest.mark.conformance
INIT = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "t", "version": "1"}},
}  # fmt: skip
ACCEPT = "application/json, text/event-stream"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    yield
    clock.set_offset(0)


def mcp_post(api: Api, endpoint: str, token: str, body: Any = None) -> Any:
    path = endpoint.split("://", 1)[1].split("/", 1)[1]
    return api.client.post(
        "/" + path, json=body or INIT,
        headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT},
    )  # fmt: skip


def call(api: Api, endpoint: str, token: str, name: str, arguments: dict[str, Any]) -> Any:
    body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}  # fmt: skip
    resp = mcp_post(api, endpoint, token, body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def test_create_get_list_update_delete(api: Api, backend: str) -> None:
    ws = api.create_workspace("mcp-crud")
    api.add_integration(ws, "kv-store", "state", SPEC)
    made = create_server(api, ws, description="for agents", createdBy="tests")
    server = made["server"]
    assert made["bearerToken"].startswith("cbm_")
    assert made["mcpEndpoint"].endswith(f"/mcp/srv_{server['id']}")
    assert server["mcpEndpoint"] == made["mcpEndpoint"]
    assert (server["mode"], server["authMode"], server["workspaceId"]) == ("TOOLS", "bearer", ws)
    assert server["auth"]["oauthEnabled"] is False and server["auth"]["bearerEnabled"] is True
    got = api.ok("GET", f"/api/v1/mcp/servers/{server['id']}")
    assert got["server"]["name"] == "agent"
    tools = {f"{t['integrationAlias']}__{t['actionName']}": t for t in got["tools"]}
    assert "state__add_to_list" in tools and tools["state__get"]["toolType"] == "ACTION"
    assert "bearerToken" not in got

    listed = api.ok("GET", f"/api/v1/mcp/servers?workspaceId={ws}")
    assert [s["id"] for s in listed["servers"]] == [server["id"]] and listed["total"] == 1
    assert api.ok("GET", "/api/v1/mcp/servers?limit=500")["total"] >= 1

    patched = api.ok("PATCH", f"/api/v1/mcp/servers/{server['id']}",
                     {"name": "renamed", "description": None, "endUserId": "u1"})  # fmt: skip
    assert patched["server"]["name"] == "renamed"
    assert patched["server"]["description"] is None
    assert patched["server"]["endUserId"] == "u1"
    assert api.request("PATCH", f"/api/v1/mcp/servers/{server['id']}", {}).status_code == 400
    deleted = api.ok("DELETE", f"/api/v1/mcp/servers/{server['id']}")
    assert deleted == {"deleted": True, "id": server["id"]}
    assert api.request("GET", f"/api/v1/mcp/servers/{server['id']}").status_code == 404
    assert api.request("GET", "/api/v1/mcp/servers/not-an-id").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("mode", "CODE", "TOOLS"), ("authMode", "oauth", "bearer"),
     ("authMode", "oauth_and_bearer", "bearer"), ("mode", "OTHER", "TOOLS")],
)  # fmt: skip
def test_unsupported_modes_are_clear_400s(
    api: Api, backend: str, field: str, value: str, named: str
) -> None:
    ws = api.create_workspace("mcp-modes")
    resp = api.request("POST", "/api/v1/mcp/servers",
                       {"name": "x", "workspaceId": ws, field: value})  # fmt: skip
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "VALIDATION_ERROR" and body["details"]["field"] == field
    assert named in body["error"]


def test_bad_bodies_are_400_and_unknown_workspace_404(api: Api, backend: str) -> None:
    assert api.request("POST", "/api/v1/mcp/servers", {"name": "x"}).status_code == 400
    ws = "00000000-0000-4000-8000-000000000000"
    resp = api.request("POST", "/api/v1/mcp/servers", {"name": "x", "workspaceId": ws})
    assert resp.status_code == 404
    real = api.create_workspace("mcp-bad")
    extra = api.request("POST", "/api/v1/mcp/servers",
                        {"name": "x", "workspaceId": real, "nope": 1})  # fmt: skip
    assert extra.status_code == 400 and extra.json()["details"]["field"] == "nope"


def test_access_tokens_and_their_expiry(api: Api, backend: str) -> None:
    ws = api.create_workspace("mcp-tokens")
    api.add_integration(ws, "kv-store", "memory")  # end_user scope
    made = create_server(api, ws)
    sid, endpoint = made["server"]["id"], made["mcpEndpoint"]
    body = {"endUserId": "alice", "scopes": ["mcp:tools"], "expiresIn": 3600}
    out = api.ok("POST", f"/api/v1/mcp/servers/{sid}/access-tokens", body, 201)
    assert out["accessToken"] == out["bearerToken"] and out["accessToken"].startswith("cbm_")
    token = out["token"]
    assert (token["endUserId"], token["scopes"], token["tokenType"]) == (
        "alice",
        ["mcp:tools"],
        "mcp_bearer",
    )
    assert token["tokenPrefix"] == out["accessToken"][:8] and token["expiresAt"]
    oauth = api.ok("POST", f"/api/v1/mcp/servers/{sid}/oauth-tokens", {"endUserId": "bob"}, 201)
    assert oauth["token"]["endUserId"] == "bob"

    assert mcp_post(api, endpoint, out["accessToken"]).status_code == 200
    result = call(api, endpoint, out["accessToken"], "memory__put", {"key": "k", "value": 1})
    assert result["isError"] is False
    assert api.output("kv-store", "get", ws, {"key": "k"}, endUserId="alice")["value"] == 1

    clock.set_offset(3601)  # past the access token's expiry; the static token never expires
    expired = mcp_post(api, endpoint, out["accessToken"])
    assert expired.status_code == 401 and "expired" in expired.json()["error"]
    assert mcp_post(api, endpoint, made["bearerToken"]).status_code == 200
    clock.set_offset(0)

    listed = api.ok("GET", f"/api/v1/mcp/servers/{sid}/access-tokens")["tokens"]
    assert {t["endUserId"] for t in listed} == {None, "alice", "bob"}
    revoke = api.ok("DELETE", f"/api/v1/mcp/servers/{sid}/access-tokens/{oauth['token']['id']}")
    assert revoke["deleted"] is True
    assert mcp_post(api, endpoint, oauth["accessToken"]).status_code == 401
    missing = api.request("DELETE", f"/api/v1/mcp/servers/{sid}/access-tokens/{token['id']}x")
    assert missing.status_code == 404
    bad = api.request("POST", f"/api/v1/mcp/servers/{sid}/access-tokens", {"endUserId": ""})
    assert bad.status_code == 400


def test_regenerate_stops_the_old_static_token(api: Api, backend: str) -> None:
    ws = api.create_workspace("mcp-regen")
    made = create_server(api, ws)
    sid = made["server"]["id"]
    fresh = api.ok("POST", f"/api/v1/mcp/servers/{sid}/regenerate-token")
    assert fresh["bearerToken"] != made["bearerToken"]
    assert mcp_post(api, made["mcpEndpoint"], made["bearerToken"]).status_code == 401
    assert mcp_post(api, fresh["mcpEndpoint"], fresh["bearerToken"]).status_code == 200


def test_a_revoked_api_key_cannot_mint_tokens(api: Api, backend: str, services: Any) -> None:
    ws = api.create_workspace("mcp-revoked")
    made = create_server(api, ws)
    sid = made["server"]["id"]
    key, plain = asyncio.run(keys.create_key(services.meta, "temp", None, None))
    assert api.request("POST", f"/api/v1/mcp/servers/{sid}/access-tokens",
                       {"endUserId": "u"}, key=plain).status_code == 201  # fmt: skip
    api.ok("DELETE", f"/api/v1/api-keys/{key.id}")
    for path in ("access-tokens", "oauth-tokens", "regenerate-token"):
        resp = api.request("POST", f"/api/v1/mcp/servers/{sid}/{path}", {"endUserId": "u"},
                           key=plain)  # fmt: skip
        assert resp.status_code == 401, (path, resp.text)


def test_workspace_scoped_keys_see_only_their_servers(
    api: Api, backend: str, services: Any
) -> None:
    ws_a, ws_b = api.create_workspace("mcp-a"), api.create_workspace("mcp-b")
    server_a = create_server(api, ws_a)["server"]
    server_b = create_server(api, ws_b)["server"]
    from cubby.core.models import KeyPermissions

    _, plain = asyncio.run(
        keys.create_key(services.meta, "a-only", None, KeyPermissions("workspace", [ws_a]))
    )
    listed = api.request("GET", "/api/v1/mcp/servers", key=plain).json()["servers"]
    assert [s["id"] for s in listed] == [server_a["id"]]
    assert api.request("GET", f"/api/v1/mcp/servers/{server_b['id']}",
                       key=plain).status_code == 403  # fmt: skip
    assert api.request("POST", "/api/v1/mcp/servers", {"name": "x", "workspaceId": ws_b},
                       key=plain).status_code == 403  # fmt: skip
    assert api.request("GET", f"/api/v1/mcp/servers?workspaceId={ws_b}",
                       key=plain).status_code == 403  # fmt: skip
    assert api.request("POST", f"/api/v1/mcp/servers/{server_b['id']}/access-tokens",
                       {"endUserId": "u"}, key=plain).status_code == 403  # fmt: skip


def test_tool_overrides_and_additions(api: Api, backend: str) -> None:
    ws = api.create_workspace("mcp-tools")
    api.add_integration(ws, "kv-store", "state", SPEC)
    made = create_server(api, ws)
    sid, endpoint, token = made["server"]["id"], made["mcpEndpoint"], made["bearerToken"]
    base = f"/api/v1/mcp/servers/{sid}/tools"

    # Override a synced tool: display name, description, defaults merged under the input.
    tool = api.ok("POST", base, {"integrationName": "kv-store", "actionName": "put",
                                 "integrationAlias": "state", "displayName": "Remember",
                                 "description": "Remember a thing",
                                 "inputDefaults": {"value": "default"}}, 201)["tool"]  # fmt: skip
    assert tool["integrationAlias"] == "state" and tool["sourceWorkspaceIntegrationId"]
    listed = mcp_post(api, endpoint, token, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    tools = {t["name"]: t for t in listed.json()["result"]["tools"]}
    put = tools["state__put"]
    assert (put["title"], put["description"]) == ("Remember", "Remember a thing")
    assert put["inputSchema"]["required"] == ["key"]
    assert put["inputSchema"]["properties"]["value"]["default"] == "default"
    assert call(api, endpoint, token, "state__put", {"key": "a"})["isError"] is False
    assert (
        api.output("kv-store", "get", ws, {"key": "a"}, integrationAlias="state")["value"]
        == "default"
    )
    assert call(api, endpoint, token, "state__put", {"key": "b", "value": 2})["isError"] is False
    assert api.output("kv-store", "get", ws, {"key": "b"}, integrationAlias="state")["value"] == 2

    dup = api.request("POST", base, {"integrationName": "kv-store", "actionName": "put"})
    assert dup.status_code == 409
    bad_default = api.request("POST", base, {"integrationName": "kv-store", "actionName": "get",
                                             "inputDefaults": {"nope": 1}})  # fmt: skip
    assert bad_default.status_code == 400
    assert bad_default.json()["details"]["field"] == "inputDefaults.nope"
    assert api.request("POST", base, {"integrationName": "nope", "actionName": "x"}
                       ).status_code == 404  # fmt: skip
    assert api.request("POST", base, {"integrationName": "kv-store", "actionName": "x"}
                       ).status_code == 404  # fmt: skip
    assert api.request("POST", base, {"integrationName": "storage", "actionName": "read_file",
                                      "integrationAlias": "state"}).status_code == 400  # fmt: skip

    # Add a tool for an integration the workspace has not configured: the built-in default.
    added = api.ok("POST", base, {"integrationName": "storage", "actionName": "list_files"},
                   201)["tool"]  # fmt: skip
    assert added["integrationAlias"] == "storage"
    assert added["sourceWorkspaceIntegrationId"] is None
    result = call(api, endpoint, token, "storage__list_files", {})
    assert result["isError"] is True and "end-user access token" in result["content"][0]["text"]

    # Update and delete overrides; a synced tool's id creates an override.
    patched = api.ok("PATCH", f"{base}/{tool['id']}", {"displayName": "Store"})["tool"]
    assert patched["displayName"] == "Store"
    synced = next(t for t in api.ok("GET", f"/api/v1/mcp/servers/{sid}")["tools"]
                  if t["actionName"] == "get")  # fmt: skip
    over = api.ok("PATCH", f"{base}/{synced['id']}", {"description": "Look up"})["tool"]
    assert over["id"] == synced["id"] and over["description"] == "Look up"
    assert api.request("DELETE", f"{base}/{synced['id']}").status_code == 200
    remove = next(t for t in api.ok("GET", f"/api/v1/mcp/servers/{sid}")["tools"]
                  if t["actionName"] == "remove_from_list")  # fmt: skip
    assert api.request("DELETE", f"{base}/{remove['id']}").status_code == 400
    assert api.ok("DELETE", f"{base}/{tool['id']}")["deleted"] is True
    assert api.request("DELETE", f"{base}/{tool['id']}").status_code == 404
    assert api.request("PATCH", f"{base}/nope", {"displayName": "x"}).status_code == 404


def test_endpoint_paths_methods_and_deleted_workspaces(api: Api, backend: str) -> None:
    ws = api.create_workspace("mcp-paths")
    made = create_server(api, ws)
    token = made["bearerToken"]
    assert mcp_post(api, "http://x/mcp/not-a-server", token).status_code == 404
    resp = api.client.get(made["mcpEndpoint"].split("8080", 1)[-1],
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    assert mcp_post(api, made["mcpEndpoint"], token).status_code == 401
