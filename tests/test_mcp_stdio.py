"""``cubby mcp`` over stdio: the official ``mcp`` client starts it as a subprocess (as Claude
Desktop or Cursor would), lists the workspace's tools and calls them against a live server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client, StdioServerParameters

from tests.helpers import Api, LiveServer, live_server
from tests.mcp_client import SPEC, text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Api, str]]:
    with (
        live_server(tmp_path_factory.mktemp("mcp-stdio")) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = server.api(http)
        ws = api.create_workspace("desk")
        api.add_integration(ws, "storage", "files", SPEC)
        api.add_integration(ws, "kv-store", "memory")  # end_user scope
        yield server, api, ws


def params(server: LiveServer, *args: str) -> StdioServerParameters:
    env = {**os.environ, "CUBBY_BASE_URL": server.base_url, "CUBBY_API_KEY": server.key}
    return StdioServerParameters(command=sys.executable, args=["-m", "cubby", "mcp", *args],
                                 env=env)  # fmt: skip


def test_the_official_client_lists_and_calls_tools_over_stdio(
    served: tuple[LiveServer, Api, str],
) -> None:
    server, api, ws = served

    async def session() -> tuple[set[str], Any, Any, Any]:
        async with Client(params(server, "--workspace", "desk", "--end-user", "dana"),
                          mode="legacy") as client:  # fmt: skip
            names = {t.name for t in (await client.list_tools()).tools}
            wrote = await client.call_tool("files__write_file",
                                           {"path": "todo.txt", "content": "milk"})  # fmt: skip
            put = await client.call_tool("memory__put", {"key": "mood", "value": "calm"})
            missing = await client.call_tool("files__read_file", {"path": "nope"})
            return names, wrote, put, missing

    names, wrote, put, missing = asyncio.run(session())
    catalog = api.ok("GET", "/api/v1/integrations")["integrations"]
    actions = {i["name"]: set(i["actions"]) for i in catalog}
    assert names == {f"files__{a}" for a in actions["storage"]} | {
        f"memory__{a}" for a in actions["kv-store"]
    }
    assert wrote.is_error is False and put.is_error is False, (text(wrote), text(put))
    assert missing.is_error is True and json.loads(text(missing))["details"]["reason"] == (
        "FILE_NOT_FOUND"
    )
    assert api.output("storage", "read_file", ws, {"path": "todo.txt"},
                      integrationAlias="files")["content"] == "milk"  # fmt: skip
    assert api.output("kv-store", "get", ws, {"key": "mood"}, integrationAlias="memory",
                      endUserId="dana")["value"] == "calm"  # fmt: skip


def test_without_an_end_user_the_end_user_tools_say_what_is_missing(
    served: tuple[LiveServer, Api, str],
) -> None:
    server, _, ws = served

    async def session() -> Any:
        async with Client(params(server, "--workspace", ws)) as client:  # by id, 2026 protocol
            return await client.call_tool("memory__get", {"key": "mood"})

    result = asyncio.run(session())
    assert result.is_error is True and "--end-user" in text(result)
