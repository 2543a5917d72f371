"""MCP benchmark: ``tools/call`` of ``state__get`` on ``/mcp/srv_<id>`` against
``POST /api/v1/actions/execute`` of the same ``get``, same server, same run (issue 17).

The MCP requests are what clients send to a stateless endpoint, with the server token and no
session, so wrk can repeat them: a 2025-era JSON-RPC ``tools/call`` (the SDK serves it through
a fresh stateless transport) and the same call in the 2026-07-28 per-request form (headers and
``_meta`` envelope; what the official client's default ``auto`` mode sends). All three read the
same key of the same workspace-scoped kv-store integration.

    .venv/bin/python bench/mcp_tool_calls.py [--duration 5] [--workers 1]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, standalone_main
from loadgen import LoadResult, wrk

KEY = {"key": "hot"}
MODERN = "2026-07-28"


def setup(cubby: Cubby) -> tuple[str, str, str]:
    """A workspace with a ``state`` integration holding ``hot``, and an MCP server on it:
    (workspace id, MCP endpoint path, server token)."""
    ws = cubby.call("POST", "/api/v1/workspaces", {"name": "Bench", "slug": "bench"})[
        "workspace"]["id"]
    cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations", {
        "integrationName": "kv-store", "alias": "state",
        "settings": {"persistence": {"scope": "workspace"}}})
    cubby.execute({"integrationName": "kv-store", "actionName": "put", "workspaceId": ws,
                   "integrationAlias": "state",
                   "input": {**KEY, "value": {"cursor": "abc", "n": 42}}})
    made = cubby.call("POST", "/api/v1/mcp/servers", {"name": "bench", "workspaceId": ws})
    path = "/mcp/" + made["mcpEndpoint"].rsplit("/mcp/", 1)[1]
    return str(ws), path, str(made["bearerToken"])


def run(duration: int, workers: int) -> list[LoadResult]:
    with cubby_server(workers=workers) as cubby:
        ws, mcp_path, token = setup(cubby)
        execute = json.dumps({"integrationName": "kv-store", "actionName": "get",
                              "workspaceId": ws, "integrationAlias": "state", "input": KEY})
        params = {"name": "state__get", "arguments": KEY}
        call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
        modern = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            **params, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                "io.modelcontextprotocol/clientInfo": {"name": "bench",
                                                                       "version": "1"},
                                "io.modelcontextprotocol/clientCapabilities": {}}}})
        headers = {"Authorization": f"Bearer {token}",
                   "Accept": "application/json, text/event-stream"}
        modern_headers = {**headers, "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                          "Mcp-Name": "state__get"}
        results = [
            wrk(f"execute kv get, {workers}w", cubby.base_url, "/api/v1/actions/execute",
                "POST", execute, cubby.auth_headers, duration),
            wrk(f"MCP tools/call state__get (2025, stateless transport), {workers}w",
                cubby.base_url, mcp_path, "POST", call, headers, duration),
            wrk(f"MCP tools/call state__get ({MODERN}, per request), {workers}w",
                cubby.base_url, mcp_path, "POST", modern, modern_headers, duration),
        ]
        for result in results:
            print(result.row(), flush=True)
        direct = results[0]
        for mcp in results[1:]:
            print(f"{mcp.name} / execute: req/s {mcp.rps / direct.rps:.2f}x, "
                  f"p50 {mcp.p50_ms / direct.p50_ms:.2f}x "
                  f"({mcp.rps:,.0f} vs {direct.rps:,.0f} req/s)")
    return results


def main() -> None:
    standalone_main("MCP benchmark", __doc__, run)


if __name__ == "__main__":
    main()
