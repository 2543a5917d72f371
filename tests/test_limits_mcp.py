"""Limits hold for MCP tool calls (issue 25): a quota refusal and a rate-limit refusal come back
as tool errors carrying the API's 403 QUOTA_EXCEEDED / 429 RATE_LIMITED bodies, with the official
``mcp`` client against a live ``cubby serve``. The check lives in core.execute, which the MCP
tools call like the HTTP route does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.helpers import live_server
from tests.mcp_client import SPEC, connect, create_server, text

pytestmark = pytest.mark.slow


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
def test_mcp_tool_errors_carry_quota_and_rate_limit_bodies(tmp_path: Path) -> None:
    with (
        live_server(tmp_path) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        api = server.api(http)
        ws = api.create_workspace("mcp-limits")
        api.add_integration(ws, "kv-store", "state", SPEC)
        created = create_server(api, ws)
        limits = {"maxKeys": 1, "requestsPerSecond": 0.2, "burst": 3}
        api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", limits)

        async def session() -> None:
            async with connect(created["mcpEndpoint"], created["bearerToken"]) as client:
                ok = await client.call_tool("state__put", {"key": "a", "value": 1})
                assert ok.is_error is False, text(ok)
                quota = await client.call_tool("state__put", {"key": "b", "value": 1})
                assert quota.is_error is True
                body = json.loads(text(quota))
                assert body["code"] == "QUOTA_EXCEEDED"
                assert body["details"] == {
                    "limit": 1, "used": 1, "requested": 1,
                    "scope": "workspace", "resource": "keys",
                }  # fmt: skip
                bodies = []
                for _ in range(3):
                    result = await client.call_tool("state__get", {"key": "a"})
                    if result.is_error:
                        bodies.append(json.loads(text(result)))
                assert bodies, "the burst of 3 was used up; a 429 was expected"
                assert bodies[0]["code"] == "RATE_LIMITED"
                assert bodies[0]["details"]["limit"] == 0.2
                assert bodies[0]["details"]["retryAfter"] >= 1

        asyncio.run(session())
