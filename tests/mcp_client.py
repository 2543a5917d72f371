"""The official ``mcp`` client against cubby's MCP endpoint, for the MCP tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.helpers import Api

SPEC = {"persistence": {"scope": "workspace"}}


@asynccontextmanager
async def connect(url: str, token: str, mode: str = "legacy") -> AsyncIterator[Client]:
    """An initialized client session (``legacy``: the initialize handshake; ``auto``: the
    2026 protocol the client tries first)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def create_server(api: Api, ws: str, **extra: Any) -> dict[str, Any]:
    body = {"name": "agent", "workspaceId": ws, **extra}
    return dict(api.ok("POST", "/api/v1/mcp/servers", body, 201))


def access_token(api: Api, server_id: str, end_user: str, **extra: Any) -> str:
    body = {"endUserId": end_user, **extra}
    out = api.ok("POST", f"/api/v1/mcp/servers/{server_id}/access-tokens", body, 201)
    return str(out["accessToken"])


def text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
