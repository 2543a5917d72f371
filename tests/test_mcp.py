"""The official ``mcp`` client over Streamable HTTP against a live ``cubby serve`` (real socket):
tools of the spec's two integrations, calls that ``POST /api/v1/actions/execute`` reads back,
tools kept in sync with the workspace, isolation by token, and errors as tool results."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cubby.mcp.tools import tool_name
from tests.helpers import Api, LiveServer, live_server
from tests.mcp_client import SPEC, access_token, connect, create_server, text

pytestmark = pytest.mark.slow


@dataclass
class Live:
    server: LiveServer
    api: Api
    ws: str
    mcp: dict[str, Any]  # the create answer: server, bearerToken, mcpEndpoint

    @property
    def url(self) -> str:
        return str(self.mcp["mcpEndpoint"])

    @property
    def token(self) -> str:
        return str(self.mcp["bearerToken"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with (
        live_server(tmp_path_factory.mktemp("mcp")) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = server.api(http)
        ws = api.create_workspace("agents")
        api.add_integration(ws, "storage", "files", SPEC)
        api.add_integration(ws, "kv-store", "state", SPEC)
        yield Live(server, api, ws, create_server(api, ws))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_tools_list_and_call_round_trip_with_execute(live: Live, mode: str) -> None:
    catalog = {i["name"]: i for i in live.api.ok("GET", "/api/v1/integrations")["integrations"]}

    async def session() -> None:
        async with connect(live.url, live.token, mode) as client:
            if mode == "legacy":
                await client.send_ping()  # ping is a handshake-era method
            tools = {t.name: t for t in (await client.list_tools()).tools}
            expected = {f"files__{a}" for a in catalog["storage"]["actions"]}
            expected |= {f"state__{a}" for a in catalog["kv-store"]["actions"]}
            assert set(tools) == expected
            for name, tool in tools.items():
                alias, action = name.split("__")
                kind = "storage" if alias == "files" else "kv-store"
                described = catalog[kind]["actions"][action]
                schema = tool.input_schema
                assert schema["type"] == "object"
                assert set(schema["properties"]) == set(described["props"])
                required = {p for p, prop in described["props"].items() if prop["required"]}
                assert set(schema.get("required", [])) == required
                assert tool.description == described["description"]
                assert tool.title == described["displayName"]

            wrote = await client.call_tool(
                "files__write_file", {"path": f"notes/{mode}.md", "content": "# hello"}
            )
            assert wrote.is_error is False, text(wrote)
            assert wrote.structured_content["path"] == f"notes/{mode}.md"
            put = await client.call_tool("state__put", {"key": mode, "value": {"n": [1, 2]}})
            assert put.is_error is False, text(put)
            assert json.loads(text(put))["value"] == {"n": [1, 2]}

    run(session())
    got = live.api.output("storage", "read_file", live.ws, {"path": f"notes/{mode}.md"},
                          integrationAlias="files")  # fmt: skip
    assert got["content"] == "# hello"
    value = live.api.output("kv-store", "get", live.ws, {"key": mode}, integrationAlias="state")
    assert value["value"] == {"n": [1, 2]}


def test_input_schemas_are_the_openapi_declarations(live: Live) -> None:
    """One declaration: each tool's schema is the action input's schema in /openapi.json."""
    components = live.api.ok("GET", "/openapi.json")["components"]["schemas"]

    async def tools() -> list[Any]:
        async with connect(live.url, live.token) as client:
            return list((await client.list_tools()).tools)

    for tool in run(tools()):
        alias, action = tool.name.split("__")
        kind = "storage" if alias == "files" else "kv-store"
        variant = components[f"Execute.{kind}.{action}"]["properties"]["input"]
        declared = components[variant["$ref"].rsplit("/", 1)[-1]]
        assert tool.input_schema == declared


def test_annotations_follow_the_action_verb(live: Live) -> None:
    async def tools() -> dict[str, Any]:
        async with connect(live.url, live.token) as client:
            return {t.name: t.annotations for t in (await client.list_tools()).tools}

    hints = run(tools())
    assert hints["files__read_file"].read_only_hint is True
    assert hints["state__get"].read_only_hint is True
    assert hints["files__list_files"].read_only_hint is True
    assert hints["files__delete_file"].destructive_hint is True
    assert hints["state__remove_from_list"].destructive_hint is True
    assert hints["state__put"].idempotent_hint is True
    assert hints["state__add_to_list"].idempotent_hint is False
    assert hints["state__add_to_list"].read_only_hint is False


def test_a_new_alias_shows_up_in_the_next_tools_list(live: Live) -> None:
    async def names(client: Any) -> set[str]:
        return {t.name for t in (await client.list_tools()).tools}

    async def session() -> None:
        async with connect(live.url, live.token) as client:
            before = await names(client)
            assert "cache__get" not in before
            created = live.api.add_integration(live.ws, "kv-store", "cache", SPEC,
                                               enabledActions=["get", "put"])  # fmt: skip
            after = await names(client)
            assert after - before == {"cache__get", "cache__put"}
            put = await client.call_tool("cache__put", {"key": "k", "value": 1})
            assert put.is_error is False, text(put)
            live.api.ok("DELETE", f"/api/v1/workspaces/{live.ws}/integrations/{created['id']}")
            assert await names(client) == before

    run(session())


def test_errors_are_tool_results_with_the_cubby_code(live: Live) -> None:
    async def session() -> None:
        async with connect(live.url, live.token) as client:
            missing = await client.call_tool("files__read_file", {"path": "no/such.txt"})
            assert missing.is_error is True
            assert "FILE_NOT_FOUND" in text(missing)
            body = json.loads(text(missing))
            assert body["code"] == "ACTION_FAILED"
            assert body["details"]["reason"] == "FILE_NOT_FOUND"

            bad = await client.call_tool("state__put", {"key": 5, "value": 1})
            assert bad.is_error is True
            assert json.loads(text(bad))["details"]["field"] == "input.key"
            unknown = await client.call_tool("state__put", {"key": "k", "value": 1, "x": 2})
            assert unknown.is_error is True and "x" in text(unknown)
            absent = await client.call_tool("nope__nothing", {})
            assert absent.is_error is True and "NOT_FOUND" in text(absent)

    run(session())


def test_end_user_tokens_see_only_their_own_data(live: Live) -> None:
    ws = live.api.create_workspace("per-user")
    live.api.add_integration(ws, "kv-store", "memory")  # default scope: end_user
    server = create_server(live.api, ws)
    sid = server["server"]["id"]
    alice, bob = access_token(live.api, sid, "alice"), access_token(live.api, sid, "bob")

    async def as_user(token: str, value: str) -> None:
        async with connect(server["mcpEndpoint"], token) as client:
            put = await client.call_tool("memory__put", {"key": "profile", "value": value})
            assert put.is_error is False, text(put)

    async def read(token: str) -> Any:
        async with connect(server["mcpEndpoint"], token) as client:
            got = await client.call_tool("memory__get", {"key": "profile"})
            return json.loads(text(got))["value"]

    run(as_user(alice, "alice's"))
    run(as_user(bob, "bob's"))
    assert run(read(alice)) == "alice's"
    assert run(read(bob)) == "bob's"
    for user, value in (("alice", "alice's"), ("bob", "bob's")):
        got = live.api.output("kv-store", "get", ws, {"key": "profile"}, endUserId=user)
        assert got["value"] == value

    async def static_token_call() -> Any:
        async with connect(server["mcpEndpoint"], server["bearerToken"]) as client:
            return await client.call_tool("memory__get", {"key": "profile"})

    needs = run(static_token_call())
    assert needs.is_error is True and "end-user access token" in text(needs)

    # A server created with an endUserId: its static token acts as that end user.
    own = create_server(live.api, ws, endUserId="alice")

    async def own_call() -> Any:
        async with connect(own["mcpEndpoint"], own["bearerToken"]) as client:
            return await client.call_tool("memory__get", {"key": "profile"})

    assert json.loads(text(run(own_call())))["value"] == "alice's"


def _post_initialize(url: str, token: str, **headers: str) -> httpx.Response:
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}},
    }  # fmt: skip
    accept = "application/json, text/event-stream"
    headers = {"Authorization": f"Bearer {token}", "Accept": accept, **headers}
    return httpx.post(url, json=body, headers=headers, timeout=30)


def test_a_token_of_workspace_a_never_reaches_workspace_b(live: Live) -> None:
    ws_b = live.api.create_workspace("other")
    live.api.add_integration(ws_b, "kv-store", "state", SPEC)
    live.api.output("kv-store", "put", ws_b, {"key": "secret", "value": "b"},
                    integrationAlias="state")  # fmt: skip
    server_b = create_server(live.api, ws_b)
    # A's token on B's endpoint: 401, as an unknown token.
    resp = _post_initialize(server_b["mcpEndpoint"], live.token)
    assert resp.status_code == 401 and resp.json()["code"] == "UNAUTHENTICATED"
    assert _post_initialize(server_b["mcpEndpoint"], server_b["bearerToken"]).status_code == 200

    async def read_via_a() -> Any:
        async with connect(live.url, live.token) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            got = await client.call_tool("state__get", {"key": "secret"})
            return names, json.loads(text(got))["value"]

    names, value = run(read_via_a())
    assert value is None  # A's own state, which has no such key
    assert all(n.startswith(("files__", "state__")) for n in names)


def test_unknown_and_regenerated_tokens_get_401(live: Live) -> None:
    server = create_server(live.api, live.ws, name="rotating")
    sid = server["server"]["id"]
    assert _post_initialize(server["mcpEndpoint"], "cbm_unknown").status_code == 401
    no_auth = httpx.post(server["mcpEndpoint"], json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert no_auth.status_code == 401 and no_auth.json()["code"] == "UNAUTHENTICATED"
    fresh = live.api.ok("POST", f"/api/v1/mcp/servers/{sid}/regenerate-token")
    old = _post_initialize(server["mcpEndpoint"], server["bearerToken"])
    assert old.status_code == 401 and old.headers["www-authenticate"] == "Bearer"
    assert _post_initialize(fresh["mcpEndpoint"], fresh["bearerToken"]).status_code == 200
    live.api.ok("DELETE", f"/api/v1/mcp/servers/{sid}")
    assert _post_initialize(fresh["mcpEndpoint"], fresh["bearerToken"]).status_code == 401


def test_origin_is_validated(live: Live) -> None:
    evil = _post_initialize(live.url, live.token, Origin="http://evil.example")
    assert evil.status_code == 403 and evil.json()["code"] == "FORBIDDEN"
    own = _post_initialize(live.url, live.token, Origin=live.server.base_url)
    assert own.status_code == 200


# -- property test: random arguments to every tool -----------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
FIELD_VALUES = (
    JSON | st.sampled_from(["", "a/b.txt", "../x", "/abs", "a//b", "k", "base64", "utf8",
                            "x" * 1100, "\x00", "*"]) | st.integers(-5, 5000)
)  # fmt: skip


@pytest.fixture(scope="module")
def portal_client(live: Live) -> Iterator[tuple[Any, Any, dict[str, list[str]]]]:
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(connect(live.url, live.token)) as client,
    ):
        tools = portal.call(client.list_tools).tools
        fields = {t.name: sorted(t.input_schema["properties"]) for t in tools}
        yield portal, client, fields


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_arguments_to_every_tool_never_crash(
    portal_client: tuple[Any, Any, dict[str, list[str]]], data: st.DataObject
) -> None:
    portal, client, fields = portal_client
    name = data.draw(st.sampled_from(sorted(fields)))
    keys = st.sampled_from([*fields[name], "bogus"]) | st.text(max_size=6)
    arguments = data.draw(st.dictionaries(keys, FIELD_VALUES, max_size=5))
    result = portal.call(client.call_tool, name, arguments)  # a protocol error raises here
    assert isinstance(result.is_error, bool)
    if result.is_error:
        body = json.loads(text(result))
        assert body == result.structured_content
        assert body["code"] != "INTERNAL_ERROR", body
    else:
        assert result.structured_content is not None


def test_the_server_logged_no_crash(live: Live) -> None:
    """After everything above (the property test included), no traceback in the server log."""
    logs = "".join(p.read_text() for p in Path(live.server.data_dir).glob("server-*.log"))
    assert "Traceback" not in logs, logs[-3000:]


def test_tool_names_are_sanitised_and_bounded() -> None:
    assert tool_name("kv-store", "get") == "kv-store__get"
    assert tool_name("a.b c", "put") == "a_b_c__put"
    assert len(tool_name("x" * 64, "remove_from_list")) == 64
