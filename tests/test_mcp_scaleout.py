"""The MCP endpoint across processes: two `cubby serve` replicas on one PostgreSQL database,
replica B with two worker processes (``--workers 2``). Stateless Streamable HTTP means any
process answers any request, so 16 concurrent MCP clients appending through both replicas lose
nothing, and a token made on one replica works on the other."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import backends
from tests.backends import postgres_url
from tests.helpers import Api, LiveServer, live_server
from tests.mcp_client import SPEC, access_token, connect, create_server, text

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
CLIENTS, PER_CLIENT = 16, 20


@pytest.fixture(scope="module")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, LiveServer, str, dict[str, Any]]]:
    with backends.test_scope():
        shared_files = tmp_path_factory.mktemp("mcp-files")
        env = {
            "CUBBY_DATABASE_URL": postgres_url(),
            "CUBBY_FILES_URL": f"file://{shared_files}",
            "CUBBY_SECRET_KEY": secrets.token_hex(32),
        }
        with (
            live_server(tmp_path_factory.mktemp("mcp-a"), env=env) as a,
            live_server(tmp_path_factory.mktemp("mcp-b"), workers=2, env=env) as b,
            httpx.Client(base_url=a.base_url, timeout=30) as http,
        ):
            api = Api(http, a.key)
            ws = api.create_workspace("mcp-scale")
            api.add_integration(ws, "kv-store", "state", SPEC)
            api.add_integration(ws, "kv-store", "memory")  # end_user scope
            yield a, b, ws, create_server(api, ws)


def _on(server: LiveServer, endpoint: str) -> str:
    return server.base_url + "/mcp/" + endpoint.rsplit("/mcp/", 1)[1]


def test_16_clients_append_through_both_replicas_and_lose_nothing(
    replicas: tuple[LiveServer, LiveServer, str, dict[str, Any]],
) -> None:
    a, b, ws, made = replicas
    urls = [_on(a, made["mcpEndpoint"]), _on(b, made["mcpEndpoint"])]

    async def client(c: int) -> list[int]:
        lengths: list[int] = []
        async with (
            connect(urls[c % 2], made["bearerToken"]) as first,
            connect(urls[(c + 1) % 2], made["bearerToken"], mode="auto") as second,
        ):
            for i in range(PER_CLIENT):
                session = first if i % 2 == 0 else second
                result = await session.call_tool(
                    "state__add_to_list", {"key": "events", "value": {"c": c, "i": i}}
                )
                assert result.is_error is False, text(result)
                lengths.append(result.structured_content["length"])
        return lengths

    async def everyone() -> list[list[int]]:
        return list(await asyncio.gather(*(client(c) for c in range(CLIENTS))))

    lengths = sorted(n for per in asyncio.run(everyone()) for n in per)
    total = CLIENTS * PER_CLIENT
    assert lengths == list(range(1, total + 1))  # every append saw its own length
    with httpx.Client(base_url=b.base_url, timeout=30) as http:
        items = Api(http, b.key).output("kv-store", "get", ws, {"key": "events"},
                                        integrationAlias="state")["value"]  # fmt: skip
    assert len(items) == total
    for c in range(CLIENTS):  # each client's appends kept their order
        assert [x["i"] for x in items if x["c"] == c] == list(range(PER_CLIENT))


def test_a_token_made_on_one_replica_works_on_the_other(
    replicas: tuple[LiveServer, LiveServer, str, dict[str, Any]],
) -> None:
    a, b, _, made = replicas
    with httpx.Client(base_url=a.base_url, timeout=30) as http:
        token = access_token(Api(http, a.key), made["server"]["id"], "carol")

    async def write_on_a_read_on_b() -> Any:
        async with connect(_on(a, made["mcpEndpoint"]), token) as on_a:
            put = await on_a.call_tool("memory__put", {"key": "k", "value": "carol's"})
            assert put.is_error is False, text(put)
        async with connect(_on(b, made["mcpEndpoint"]), token) as on_b:
            return json.loads(text(await on_b.call_tool("memory__get", {"key": "k"})))["value"]

    assert asyncio.run(write_on_a_read_on_b()) == "carol's"
