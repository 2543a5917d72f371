"""The real Weavz Python client's MCP servers resource (``weavz-io-sdk``) against cubby, in
process: every method of ``client.mcp_servers`` but Code Mode's, and the adapter that builds
agent tools from a server's tools. Only the base URL and the API key change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from weavz_sdk import WeavzClient, WeavzError
from weavz_sdk.adapters import create_mcp_server_action_tools

from cubby.app import create_app
from cubby.services import Services
from cubby.settings import Settings

BASE = "http://testserver"


@pytest.fixture
def weavz(settings: Settings, services: Services, org_key: str) -> Iterator[WeavzClient]:
    client = WeavzClient(api_key=org_key, base_url=BASE, max_retries=0)
    client._http.close()
    with TestClient(create_app(settings, services), base_url=BASE,
                    headers={"Authorization": f"Bearer {org_key}"}) as http:  # fmt: skip
        client._http = http
        yield client


def test_every_mcp_servers_method_works(weavz: WeavzClient) -> None:
    ws = str(weavz.workspaces.create(name="Agents", slug="agents")["workspace"]["id"])
    weavz._http.post(f"/api/v1/workspaces/{ws}/integrations",
                     json={"integrationName": "kv-store", "alias": "state"})  # fmt: skip
    made = weavz.mcp_servers.create(name="a", workspace_id=ws, description="d",
                                    created_by="tests", end_user_access="restricted")  # fmt: skip
    sid = made["server"]["id"]
    assert made["bearerToken"].startswith("cbm_") and made["mcpEndpoint"].endswith(sid)
    listed = weavz.mcp_servers.list(workspace_id=ws, limit=10, offset=0, include_suspended=True)
    assert listed["total"] == 1
    got = weavz.mcp_servers.get(sid)
    assert {t["actionName"] for t in got["tools"]} >= {"get", "put", "add_to_list"}
    updated = weavz.mcp_servers.update(sid, name="b", description=None, end_user_id="u1")
    assert (updated["server"]["name"], updated["server"]["description"]) == ("b", None)
    assert weavz.mcp_servers.regenerate_token(sid)["bearerToken"] != made["bearerToken"]
    for method in ("create_access_token", "create_bearer_token", "create_end_user_token",
                   "create_oauth_token"):  # fmt: skip
        out = getattr(weavz.mcp_servers, method)(sid, end_user_id="u", scopes=["mcp:tools"],
                                                  expires_in=3600)  # fmt: skip
        assert out["token"]["endUserId"] == "u" and out["accessToken"].startswith("cbm_")
    tool = weavz.mcp_servers.add_tool(sid, integration_name="kv-store", action_name="get",
                                      display_name="Look up", sort_order=1)["tool"]  # fmt: skip
    assert tool["integrationAlias"] == "state"
    changed = weavz.mcp_servers.update_tool(sid, tool["id"], description="Read a key",
                                            input_defaults={"key": "k"})["tool"]  # fmt: skip
    assert changed["description"] == "Read a key" and changed["inputDefaults"] == {"key": "k"}

    tools = create_mcp_server_action_tools(weavz, sid)  # the adapter reads GET .../{id}
    assert {t.action_name for t in tools} >= {"get", "put"}
    assert {t.integration_alias for t in tools} == {"state"}

    assert weavz.mcp_servers.delete_tool(sid, tool["id"])["deleted"] is True
    assert weavz.mcp_servers.delete(sid) == {"deleted": True, "id": sid}


@pytest.mark.parametrize(("field", "value"), [("mode", "CODE"), ("auth_mode", "oauth")])
def test_unsupported_modes_are_clear_errors(weavz: WeavzClient, field: str, value: str) -> None:
    ws = str(weavz.workspaces.create(name="X", slug="x")["workspace"]["id"])
    with pytest.raises(WeavzError) as raised:
        weavz.mcp_servers.create(name="x", workspace_id=ws, **{field: value})
    assert "TOOLS" in str(raised.value) or "bearer" in str(raised.value)
