"""The dashboard's MCP section in real Chromium (issue 17): a workspace lists its MCP servers,
creates one, shows the endpoint and a copyable client configuration; the official MCP client
then works with exactly what was copied."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import Api
from tests.mcp_client import SPEC, connect
from tests.test_dashboard_browser import Tab, browser, http, server, tab  # noqa: F401

pytestmark = pytest.mark.slow


def test_create_an_mcp_server_and_copy_its_client_configuration(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("mcp-ui")
    http.add_integration(ws, "kv-store", "state", SPEC)
    http.output("kv-store", "put", ws, {"key": "greeting", "value": "hi"},
                integrationAlias="state")  # fmt: skip
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}")
    section = tab.page.locator("#mcp-servers")
    assert "No MCP servers yet" in section.inner_text()
    tab.check("mcp-section-empty")

    tab.page.fill("#mcp-name", "desk agent")
    tab.page.click("#mcp-servers form button[type=submit]")
    tab.page.wait_for_selector("[data-testid=mcp-token]")
    tab.check("mcp-server-created")
    endpoint = tab.page.input_value("[data-testid=mcp-endpoint]")
    token = tab.page.input_value("[data-testid=mcp-token]")
    assert endpoint.startswith(tab.base + "/mcp/srv_") and token.startswith("cbm_")

    tab.page.click("button[data-copy='#mcp-config-http']")
    copied = json.loads(str(tab.page.evaluate("navigator.clipboard.readText()")))
    entry = copied["mcpServers"]["cubby-mcp-ui"]
    assert entry == {"url": endpoint, "headers": {"Authorization": f"Bearer {token}"}}
    stdio = json.loads(tab.page.inner_text("[data-testid=mcp-config-stdio]"))
    assert stdio["mcpServers"]["cubby-mcp-ui"]["args"] == ["mcp", "--workspace", "mcp-ui"]

    async def use_copied() -> tuple[set[str], object]:
        bearer = entry["headers"]["Authorization"].removeprefix("Bearer ")
        async with connect(entry["url"], bearer) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            got = await client.call_tool("state__get", {"key": "greeting"})
            return names, got.structured_content

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        names, got = pool.submit(asyncio.run, use_copied()).result()
    assert "state__put" in names and got == {**got, "key": "greeting", "value": "hi"}

    listed = http.ok("GET", f"/api/v1/mcp/servers?workspaceId={ws}")["servers"]
    assert [(s["name"], s["mcpEndpoint"]) for s in listed] == [("desk agent", endpoint)]
    tab.go(f"/ui/workspaces/{ws}")
    row = tab.page.locator("#mcp-servers tbody tr")
    assert row.count() == 1 and "desk agent" in row.inner_text()
    assert tab.page.input_value("#mcp-servers tbody input") == endpoint
    tab.check("mcp-section-listed")

    tab.page.click("#mcp-servers tbody form button[type=submit]")  # confirm dialog accepted
    tab.page.wait_for_selector("#mcp-servers")
    assert "No MCP servers yet" in tab.page.locator("#mcp-servers").inner_text()
    assert http.ok("GET", f"/api/v1/mcp/servers?workspaceId={ws}")["total"] == 0
