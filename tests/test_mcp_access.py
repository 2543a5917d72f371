"""MCP token ``scopes`` and the server's ``endUserAccess`` (issue 28 item 4, docs/mcp.md), with
the official ``mcp`` client over both protocol forms against a live ``cubby serve``: a tool the
caller may not use is missing from ``tools/list`` and answers ``tools/call`` with a tool error
carrying a 403 ``FORBIDDEN`` body."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers import Api, live_server
from tests.mcp_client import SPEC, access_token, connect, create_server, text

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]
MODES = ["legacy", "auto"]
READ_ONLY = {"get", "list_keys"}  # the kv-store tools with readOnlyHint


@dataclass
class Live:
    api: Api
    ws: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with (
        live_server(tmp_path_factory.mktemp("mcp-access")) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = server.api(http)
        ws = api.create_workspace("access")
        api.add_integration(ws, "kv-store", "state", SPEC)  # shared: workspace scope
        api.add_integration(ws, "kv-store", "memory")  # per end user (the default scope)
        ext = {"persistence": {"scope": "external", "externalId": "team"}}
        api.add_integration(ws, "kv-store", "team", ext)
        api.output("kv-store", "put", ws, {"key": "k", "value": "shared"},
                   integrationAlias="state")  # fmt: skip
        yield Live(api, ws)


async def _session(url: str, token: str, mode: str, calls: list[tuple[str, dict[str, Any]]]
                   ) -> tuple[set[str], list[Any]]:  # fmt: skip
    async with connect(url, token, mode) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        results = [await client.call_tool(name, args) for name, args in calls]
        return names, results


def session(url: str, token: str, mode: str, *calls: tuple[str, dict[str, Any]]) -> Any:
    return asyncio.run(_session(url, token, mode, list(calls)))


def forbidden(result: Any) -> dict[str, Any]:
    assert result.is_error is True, text(result)
    body: dict[str, Any] = json.loads(text(result))
    assert body["code"] == "FORBIDDEN" and body == result.structured_content, body
    return body


def kv_tools(alias: str, actions: set[str] | None = None) -> set[str]:
    every = {"get", "put", "delete", "list_keys", "add_to_list", "remove_from_list",
             "increment"}  # fmt: skip
    return {f"{alias}__{a}" for a in (actions if actions is not None else every)}


@pytest.fixture(scope="module")
def every_tool(live: Live) -> set[str]:
    made = create_server(live.api, live.ws)
    names, _ = session(made["mcpEndpoint"], made["bearerToken"], "legacy")
    return set(names)


@pytest.mark.parametrize("mode", MODES)
def test_a_read_token_lists_and_runs_only_read_only_tools(
    live: Live, every_tool: set[str], mode: str
) -> None:
    made = create_server(live.api, live.ws)
    token = access_token(live.api, made["server"]["id"], "alice", scopes=["read"])
    names, (got, put, absent) = session(
        made["mcpEndpoint"], token, mode,
        ("state__get", {"key": "k"}), ("state__put", {"key": "k", "value": "mine"}),
        ("nope__get", {}),
    )  # fmt: skip
    read_only = {n for n in every_tool if n.split("__")[1] in READ_ONLY}
    assert names == read_only and read_only
    assert json.loads(text(got))["value"] == "shared"
    body = forbidden(put)
    assert body["details"] == {"tool": "state__put", "scopes": ["read"], "needs": "write"}
    assert absent.is_error is True and json.loads(text(absent))["code"] == "NOT_FOUND"
    stored = live.api.output("kv-store", "get", live.ws, {"key": "k"}, integrationAlias="state")
    assert stored["value"] == "shared"  # the refused put changed nothing


@pytest.mark.parametrize("mode", MODES)
def test_write_and_tools_scopes(live: Live, every_tool: set[str], mode: str) -> None:
    made = create_server(live.api, live.ws)
    sid, url = made["server"]["id"], made["mcpEndpoint"]
    write = access_token(live.api, sid, "alice", scopes=["write"])
    names, (got, put) = session(url, write, mode, ("memory__get", {"key": "w"}),
                                ("memory__put", {"key": "w", "value": mode}))  # fmt: skip
    assert names == {n for n in every_tool if n.split("__")[1] not in READ_ONLY}
    assert forbidden(got)["details"]["needs"] == "read"
    assert put.is_error is False, text(put)
    both = access_token(live.api, sid, "alice", scopes=["read", "write"])
    everything = access_token(live.api, sid, "alice", scopes=["mcp:tools", "mcp:code"])
    unscoped = access_token(live.api, sid, "alice")
    for token in (both, everything, unscoped):
        names, (got,) = session(url, token, mode, ("memory__get", {"key": "w"}))
        assert names == every_tool
        assert json.loads(text(got))["value"] == mode
    code_only = access_token(live.api, sid, "alice", scopes=["mcp:code"])
    names, (got,) = session(url, code_only, mode, ("memory__get", {"key": "w"}))
    assert names == set()
    forbidden(got)


def test_scopes_and_end_user_access_are_validated(live: Live) -> None:
    made = create_server(live.api, live.ws)
    sid = made["server"]["id"]
    bad = live.api.request("POST", f"/api/v1/mcp/servers/{sid}/access-tokens",
                           {"endUserId": "u", "scopes": ["read", "admin"]})  # fmt: skip
    assert bad.status_code == 400, bad.text
    body = bad.json()
    assert body["details"]["field"] == "scopes[1]" and "mcp:tools" in body["error"]
    assert body["details"]["allowed"] == ["read", "write", "mcp:tools", "mcp:code"]
    dup = live.api.ok("POST", f"/api/v1/mcp/servers/{sid}/access-tokens",
                      {"endUserId": "u", "scopes": ["read", "read"]}, 201)  # fmt: skip
    assert dup["token"]["scopes"] == ["read"]
    for method, path, extra in (
        ("POST", "/api/v1/mcp/servers", {"name": "x", "workspaceId": live.ws}),
        ("PATCH", f"/api/v1/mcp/servers/{sid}", {}),
    ):
        resp = live.api.request(method, path, {**extra, "endUserAccess": "everyone"})
        assert resp.status_code == 400, resp.text
        err = resp.json()
        assert err["details"]["field"] == "endUserAccess"
        assert err["details"]["allowed"] == ["none", "restricted", "full"]
        assert "restricted" in err["error"]
    for value in ("none", "restricted", "full", None):
        out = live.api.ok("PATCH", f"/api/v1/mcp/servers/{sid}", {"endUserAccess": value})
        assert out["server"]["endUserAccess"] == value
    schemas = live.api.ok("GET", "/openapi.json")["components"]["schemas"]
    text_schemas = json.dumps(schemas)
    assert '"enum": ["none", "restricted", "full"]' in text_schemas
    assert '"enum": ["read", "write", "mcp:tools", "mcp:code"]' in text_schemas


@pytest.mark.parametrize("mode", MODES)
def test_end_user_access_none_refuses_end_user_tokens(live: Live, mode: str) -> None:
    made = create_server(live.api, live.ws)
    sid, url = made["server"]["id"], made["mcpEndpoint"]
    token = access_token(live.api, sid, "alice")
    names, (put,) = session(url, token, mode, ("memory__put", {"key": "n", "value": 1}))
    assert put.is_error is False, text(put)

    live.api.ok("PATCH", f"/api/v1/mcp/servers/{sid}", {"endUserAccess": "none"})
    refused = live.api.request("POST", f"/api/v1/mcp/servers/{sid}/access-tokens",
                               {"endUserId": "bob"})  # fmt: skip
    assert refused.status_code == 403 and "endUserAccess" in refused.json()["error"]
    # The token made before stops working (this process forgot its cache entry at once; the
    # others within CUBBY_KEY_CACHE_SECONDS): 403 before any MCP message is read.
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    resp = live.api.client.post(path, json=ping, headers=headers)
    assert resp.status_code == 403, resp.text
    assert resp.json()["code"] == "FORBIDDEN" and "'none'" in resp.json()["error"]
    with pytest.raises(Exception):  # noqa: B017 - the client raises its own transport error
        session(url, token, mode)
    # The static token is the server's own, not an end user's: it keeps working.
    names, _ = session(url, made["bearerToken"], mode)
    assert "memory__get" in names
    live.api.ok("PATCH", f"/api/v1/mcp/servers/{sid}", {"endUserAccess": "full"})
    names, (got,) = session(url, token, mode, ("memory__get", {"key": "n"}))
    assert json.loads(text(got))["value"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_end_user_access_restricted_reaches_only_end_user_tools(
    live: Live, every_tool: set[str], mode: str
) -> None:
    made = create_server(live.api, live.ws, endUserAccess="restricted")
    sid, url = made["server"]["id"], made["mcpEndpoint"]
    token = access_token(live.api, sid, "alice")
    names, (mine, shared, external) = session(
        url, token, mode, ("memory__put", {"key": "r", "value": 2}),
        ("state__get", {"key": "k"}), ("team__put", {"key": "k", "value": "x"}),
    )  # fmt: skip
    assert names == kv_tools("memory")
    assert mine.is_error is False, text(mine)
    assert forbidden(shared)["details"] == {"tool": "state__get", "endUserAccess": "restricted"}
    forbidden(external)
    read_only = access_token(live.api, sid, "alice", scopes=["read"])
    names, _ = session(url, read_only, mode)
    assert names == kv_tools("memory", READ_ONLY)  # both rules apply
    names, (got,) = session(url, made["bearerToken"], mode, ("state__get", {"key": "k"}))
    assert names == every_tool  # the static token is not an end user's
    assert json.loads(text(got))["value"] == "shared"
    full = create_server(live.api, live.ws, endUserAccess="full")
    names, (got,) = session(full["mcpEndpoint"],
                            access_token(live.api, full["server"]["id"], "alice"), mode,
                            ("state__get", {"key": "k"}))  # fmt: skip
    assert names == every_tool and json.loads(text(got))["value"] == "shared"
