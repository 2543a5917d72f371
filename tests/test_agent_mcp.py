"""Issue 23 acceptance 4: an agent session with the official ``mcp`` client (Streamable HTTP,
a live ``cubby serve``) lists the tools of all three agent tools by alias, with their
annotations, runs a memory round trip (create, relate, search, get, delete) and a thinking
chain with a branch and a revision; an end-user token sees only its own memory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import Api, LiveServer, live_server
from tests.mcp_client import access_token, connect, create_server, text

pytestmark = pytest.mark.slow

ALIASES = {"memory": "agent-memory", "pad": "agent-scratchpad", "think": "sequential-thinking"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Api]]:
    with (
        live_server(tmp_path_factory.mktemp("agent-mcp")) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        yield server, server.api(http)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_agent_session(live: tuple[LiveServer, Api]) -> None:
    _, api = live
    ws = api.create_workspace("agent-session")
    for alias, kind in ALIASES.items():
        api.add_integration(ws, kind, alias)  # default scope: end_user
    catalog = {i["name"]: i for i in api.ok("GET", "/api/v1/integrations")["integrations"]}
    server = create_server(api, ws)
    alice = access_token(api, server["server"]["id"], "alice")
    bob = access_token(api, server["server"]["id"], "bob")

    async def call(client: Any, tool: str, args: dict[str, Any]) -> Any:
        result = await client.call_tool(tool, args)
        assert result.is_error is False, (tool, text(result))
        return json.loads(text(result))

    async def alice_session() -> None:
        async with connect(server["mcpEndpoint"], alice) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            expected = {
                f"{alias}__{action}"
                for alias, kind in ALIASES.items()
                for action in catalog[kind]["actions"]
            }
            assert set(tools) == expected
            hints = {n: t.annotations for n, t in tools.items()}
            for name in ("memory__search", "memory__read_graph", "memory__get_entity",
                         "pad__read_page", "pad__list_pages", "pad__search_pages",
                         "think__get_chain", "think__summarize_chain"):  # fmt: skip
                assert hints[name].read_only_hint is True, name
            destructive = (
                "memory__delete_entities",
                "memory__delete_observations",
                "memory__delete_relations",
                "pad__delete_page",
                "pad__clear_all",
            )
            for name in destructive:
                assert hints[name].destructive_hint is True, name
            for name in ("memory__create_entities", "pad__append_page", "think__add_thought"):
                assert hints[name].read_only_hint is False
                assert hints[name].destructive_hint is False, name
            schema = tools["think__branch_thought"].input_schema
            assert set(schema["required"]) == {"chainId", "thoughtId", "branchName", "content"}

            # memory round trip
            made = await call(client, "memory__create_entities", {"entities": [
                {"name": "Alice", "type": "person", "observations": ["Alice's cat is Tom"]},
                {"name": "Tom", "type": "cat"},
            ]})  # fmt: skip
            assert [e["name"] for e in made["entities"]] == ["Alice", "Tom"]
            owns = {"from": "Alice", "to": "Tom", "type": "owns"}
            rel = await call(client, "memory__create_relations", {"relations": [owns]})
            assert rel["existing"] == 0 and len(rel["relations"]) == 1
            found = await call(client, "memory__search", {"query": "alice cat"})
            assert [e["name"] for e in found["entities"]] == ["Alice"]
            got = await call(client, "memory__get_entity", {"name": "Tom"})
            assert got["relations"] == [
                {"from": "Alice", "to": "Tom", "type": "owns",
                 "createdAt": rel["relations"][0]["createdAt"]}
            ]  # fmt: skip
            assert await call(client, "memory__delete_entities", {"names": ["Tom"]}) == {
                "deleted": 1
            }
            after = await call(client, "memory__get_entity", {"name": "Alice"})
            assert after["relations"] == []
            missing = await client.call_tool("memory__get_entity", {"name": "Tom"})
            assert missing.is_error is True and "ENTITY_NOT_FOUND" in text(missing)

            # a thinking chain with a branch and a revision
            for step in ("define the problem", "list options", "pick one"):
                await call(client, "think__add_thought", {"chainId": "plan", "content": step})
            branch = await call(client, "think__branch_thought", {
                "chainId": "plan", "thoughtId": 2, "branchName": "wild", "content": "do nothing"
            })  # fmt: skip
            assert branch["thought"]["thoughtId"] == 4 and branch["thought"]["branchFrom"] == 2
            revise = {"chainId": "plan", "thoughtId": 3, "content": "pick two"}
            revised = await call(client, "think__revise_thought", revise)
            assert revised["thought"]["previous"] == ["pick one"]
            summary = await call(client, "think__summarize_chain", {"chainId": "plan"})
            assert (summary["thoughtCount"], summary["branchCount"], summary["revisionCount"]) == (
                4, 1, 1,
            )  # fmt: skip
            assert summary["lastThought"]["content"] == "pick two"
            await call(client, "pad__append_page", {"pageName": "notes", "content": "alice only"})

    async def bob_session() -> None:
        async with connect(server["mcpEndpoint"], bob) as client:
            graph = await call(client, "memory__read_graph", {})
            assert graph == {"entities": [], "relations": [], "nextCursor": None}
            assert (await call(client, "memory__search", {"query": "alice"}))["entities"] == []
            chain = await call(client, "think__get_chain", {"chainId": "plan"})
            assert chain["thoughts"] == []
            assert (await call(client, "pad__list_pages", {}))["pages"] == []
            await call(client, "memory__create_entities",
                       {"entities": [{"name": "Bob", "type": "person"}]})  # fmt: skip

    run(alice_session())
    run(bob_session())
    # and through execute: each end user has exactly their own graph
    for user, names in (("alice", ["Alice"]), ("bob", ["Bob"])):
        graph = api.output("agent-memory", "read_graph", ws, {}, integrationAlias="memory",
                           endUserId=user)  # fmt: skip
        assert [e["name"] for e in graph["entities"]] == names

    async def static_call() -> Any:
        async with connect(server["mcpEndpoint"], server["bearerToken"]) as client:
            return await client.call_tool("memory__read_graph", {})

    needs = run(static_call())
    assert needs.is_error is True and "end-user access token" in text(needs)
