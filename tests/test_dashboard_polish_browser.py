"""Issue 27's dashboard defects and rough edges in real Chromium: a created secret is shown once
on a page a reload cannot repeat (POST-redirect-GET), the MCP server page (tools, a new server
token, end-user tokens), the header at 390 px, the Claude Desktop snippet's real command, the
warnings before revoking the key you are signed in with or the last organisation-wide one, and
times shown relative with the exact time on hover."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import Api
from tests.mcp_client import SPEC
from tests.test_dashboard_browser import (  # noqa: F401 - fixtures
    Browser,
    Tab,
    _open_tab,
    browser,
    http,
    server,
    tab,
)

pytestmark = pytest.mark.slow


def _key_names(api: Api) -> list[str]:
    return [k["name"] for k in api.ok("GET", "/api/v1/api-keys")["apiKeys"]]


def test_a_created_api_key_is_shown_once_and_a_reload_creates_nothing(
    tab: Tab,  # noqa: F811
    http: Api,  # noqa: F811
) -> None:
    page = tab.page
    tab.sign_in(http.key)
    tab.go("/ui/api-keys")
    page.fill("#key-name", "reload me")
    page.click("form.card button[type=submit]")
    plain = page.input_value("[data-testid=plain-key]")
    assert plain.startswith("cby_")
    key_id = page.url.rsplit("/", 1)[1]
    assert page.url == f"{tab.base}/ui/api-keys/{key_id}"  # a GET page, not the POST's answer
    tab.check("api-key-shown-once")
    assert _key_names(http).count("reload me") == 1

    response = page.reload()
    assert response is not None and response.status == 200
    assert page.locator("[data-testid=plain-key]").count() == 0
    assert "shown once" in page.inner_text("[data-testid=key-hidden]")
    assert plain not in page.content()
    assert _key_names(http).count("reload me") == 1  # the reload made no second key
    tab.check("api-key-after-reload")
    # the key works, and its page says what it is
    assert http.request("GET", "/api/v1/workspaces", key=plain).status_code == 200
    assert "whole organisation" in page.inner_text("dl.meta")


def test_an_mcp_server_page_reloads_without_a_second_server(tab: Tab, http: Api) -> None:  # noqa: F811
    page = tab.page
    ws = http.create_workspace("prg-mcp")
    http.add_integration(ws, "kv-store", "state", SPEC)
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}")
    page.fill("#mcp-name", "reload agent")
    page.click("#mcp-servers form button[type=submit]")
    token = page.input_value("[data-testid=mcp-token]")
    assert token.startswith("cbm_")
    assert "/mcp-servers/" in page.url
    http_config = json.loads(page.inner_text("[data-testid=mcp-config-http]"))
    assert http_config["mcpServers"]["cubby-prg-mcp"]["headers"]["Authorization"] == (
        f"Bearer {token}"
    )
    tab.check("mcp-server-page")

    response = page.reload()
    assert response is not None and response.status == 200
    assert page.locator("[data-testid=mcp-token]").count() == 0
    assert token not in page.content()
    listed = http.ok("GET", f"/api/v1/mcp/servers?workspaceId={ws}")["servers"]
    assert [s["name"] for s in listed] == ["reload agent"]

    # the create form's own URL, opened with GET, is a dashboard page, not a JSON 405
    response = tab.go(f"/ui/workspaces/{ws}/mcp-servers")
    assert response.status == 200 and "text/html" in response.headers["content-type"]
    assert page.locator("#mcp-servers").count() == 1
    response = tab.go("/ui/workspaces")
    assert response.status == 200 and "text/html" in response.headers["content-type"]


def test_the_mcp_server_page_lists_tools_and_makes_tokens(tab: Tab, http: Api) -> None:  # noqa: F811
    page = tab.page
    ws = http.create_workspace("mcp-page")
    http.add_integration(ws, "kv-store", "state", SPEC)
    created = http.ok("POST", "/api/v1/mcp/servers", {"name": "tools", "workspaceId": ws}, 201)
    server_id, first = created["server"]["id"], created["bearerToken"]
    endpoint = created["server"]["mcpEndpoint"]
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}")
    page.click("#mcp-servers a:has-text('tools')")
    tools = page.locator("#mcp-tools tbody tr").all_inner_texts()
    assert any("state__put" in row for row in tools) and any("state__get" in row for row in tools)
    assert page.locator("[data-testid=mcp-token-hidden]").count() == 1

    def status(token: str) -> int:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        return http.client.post(
            endpoint,
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
            },
        ).status_code

    assert status(first) == 200
    page.click("[data-testid=regenerate-token]")  # confirm dialog accepted
    page.wait_for_selector("[data-testid=mcp-token]")
    second = page.input_value("[data-testid=mcp-token]")
    assert second.startswith("cbm_") and second != first
    assert any("stops working" in d for d in tab.dialogs)
    assert status(second) == 200 and status(first) == 401

    page.fill("#token-end-user", "user_42")
    page.select_option("#token-lifetime", label="1 day")
    page.click("#end-user-tokens form.inline button[type=submit]")
    page.wait_for_selector("[data-testid=end-user-token]")
    issued = page.input_value("[data-testid=end-user-token]")
    assert issued.startswith("cbm_") and status(issued) == 200
    rows = page.locator("#end-user-tokens tbody tr").all_inner_texts()
    assert len(rows) == 1 and "user_42" in rows[0]
    tokens = http.ok("GET", f"/api/v1/mcp/servers/{server_id}/access-tokens")["tokens"]
    assert [t["endUserId"] for t in tokens if t["endUserId"]] == ["user_42"]
    tab.check("mcp-server-tokens")
    page.reload()
    assert page.locator("[data-testid=end-user-token]").count() == 0


def test_the_claude_desktop_snippet_names_a_command_that_exists(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("snippet")
    created = http.ok("POST", "/api/v1/mcp/servers", {"name": "desk", "workspaceId": ws}, 201)
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}/mcp-servers/{created['server']['id']}")
    stdio = json.loads(tab.page.inner_text("[data-testid=mcp-config-stdio]"))
    entry = stdio["mcpServers"]["cubby-snippet"]
    command = Path(entry["command"])
    assert command.is_absolute() and os.access(command, os.X_OK), entry
    assert entry["args"][-3:] == ["mcp", "--workspace", "snippet"]


@pytest.fixture
def phone(browser: Browser, server: object) -> Iterator[Tab]:  # noqa: F811
    tabs = _open_tab(browser, server)  # type: ignore[arg-type]
    opened = next(tabs)
    opened.page.set_viewport_size({"width": 390, "height": 844})
    yield opened
    next(tabs, None)


def test_the_header_fits_a_390_px_screen(phone: Tab, http: Api) -> None:  # noqa: F811
    page = phone.page
    ws = http.create_workspace("narrow-screen-with-a-long-slug")
    phone.sign_in(http.key)
    for path in ("/", f"/ui/workspaces/{ws}", "/ui/api-keys", "/ui/playground"):
        phone.go(path)
        box = page.locator("header .signout button").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        for link in page.locator("header nav a").all():
            link_box = link.bounding_box()
            assert link_box is not None and link_box["x"] + link_box["width"] <= 390, path
    phone.check("phone-workspace")
    page.click("header .signout button")
    page.wait_for_selector("form.signin")


def test_revoking_your_own_or_the_last_org_key_warns_first(tab: Tab, http: Api) -> None:  # noqa: F811
    page = tab.page
    signed_in = http.ok("POST", "/api/v1/api-keys", {"name": "me in the browser"}, 201)
    ws = http.create_workspace("revoke-warn")
    body = {"name": "narrow", "permissions": {"scope": "workspace", "workspaceIds": [ws]}}
    narrow = http.ok("POST", "/api/v1/api-keys", body, 201)
    tab.sign_in(signed_in["plainKey"])
    tab.go("/ui/api-keys")
    own = page.locator(f"tr[data-key-id='{signed_in['apiKey']['id']}'] form")
    assert "signed in with" in (own.get_attribute("data-confirm") or "")
    other = page.locator(f"tr[data-key-id='{narrow['apiKey']['id']}'] form")
    assert "signed in with" not in (other.get_attribute("data-confirm") or "")
    # times are relative, the exact time on hover
    created = page.locator(f"tr[data-key-id='{narrow['apiKey']['id']}'] time").first
    assert created.get_attribute("title") == narrow["apiKey"]["createdAt"]
    assert created.inner_text() in ("just now", "now") or "ago" in created.inner_text()
    page.locator(f"tr[data-key-id='{narrow['apiKey']['id']}'] button").click()
    page.wait_for_selector(".flash:has-text('Revoked')")
    assert narrow["apiKey"]["id"] not in [
        k["id"] for k in http.ok("GET", "/api/v1/api-keys")["apiKeys"]
    ]


def test_a_file_page_renames_copies_a_signed_url_and_shows_csv_as_a_table(
    tab: Tab,  # noqa: F811
    http: Api,  # noqa: F811
) -> None:
    page = tab.page
    ws = http.create_workspace("file-page")
    files = http.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    csv_text = 'name,total\nacme,1500\n"<b>x</b>",7\n'
    http.output(
        "storage", "write_file", ws, {"path": "in/jan.csv", "content": csv_text,
                                      "contentType": "text/csv"}, integrationAlias="files",
    )  # fmt: skip
    tab.sign_in(http.key)
    base = f"/ui/workspaces/{ws}/integrations/{files['id']}/files"
    tab.go(f"{base}/preview?path=in/jan.csv")
    table = page.locator("[data-testid=preview-table]")
    assert table.locator("th").all_inner_texts() == ["name", "total"]
    assert table.locator("tr").nth(2).locator("td").all_inner_texts() == ["<b>x</b>", "7"]
    assert page.locator("[data-testid=preview-table] b").count() == 0  # text, not markup
    tab.check("file-csv-table")

    page.click("button[data-copy='#signed-url']")
    url = str(page.evaluate("navigator.clipboard.readText()"))
    assert url.startswith(tab.base + "/downloads/")
    assert httpx.get(url).text == csv_text  # no API key needed

    page.fill("#move-to", "archive/jan-2025.csv")
    page.click("[data-testid=rename] button[type=submit]")
    page.wait_for_selector(".flash:has-text('Renamed in/jan.csv')")
    assert "path=archive%2Fjan-2025.csv" in page.url
    listed = http.output("storage", "list_files", ws, {}, integrationAlias="files")["files"]
    assert [f["path"] for f in listed] == ["archive/jan-2025.csv"]


def test_a_key_page_shows_version_times_and_a_ttl(tab: Tab, http: Api) -> None:  # noqa: F811
    page = tab.page
    ws = http.create_workspace("key-page")
    state = http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    for value in (1, 2):
        http.output("kv-store", "put", ws, {"key": "cfg", "value": value}, integrationAlias="state")
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}/integrations/{state['id']}/key?key=cfg")
    meta = page.inner_text("[data-testid=key-meta]")
    assert "Version\n2" in meta.replace("\t", "\n") and "Expires\nnever" in meta.replace("\t", "\n")
    assert page.locator("[data-testid=key-meta] time").count() == 1  # updated, relative
    assert page.input_value("[data-testid=ttl]") == ""
    page.fill("[data-testid=ttl]", "3600")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('Saved')")
    got = http.output("kv-store", "get", ws, {"key": "cfg"}, integrationAlias="state")
    assert got["version"] == 3 and got["expiresAt"] is not None
    left = int(page.input_value("[data-testid=ttl]"))
    assert 3500 < left <= 3600  # saving again keeps about the same expiry
    expires = page.locator("[data-testid=key-meta] time").nth(1)
    assert expires.get_attribute("title") == got["expiresAt"] and "in " in expires.inner_text()


def test_files_are_found_by_prefix_and_sorted(tab: Tab, http: Api) -> None:  # noqa: F811
    page = tab.page
    ws = http.create_workspace("file-search")
    files = http.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    for path, content in (("logs/big.txt", "x" * 900), ("logs/a.txt", "x"), ("other/c.txt", "x")):
        http.output("storage", "write_file", ws, {"path": path, "content": content},
                    integrationAlias="files")  # fmt: skip
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}/integrations/{files['id']}/files")
    page.fill("#file-search", "logs/")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("[data-testid=search-of]")

    def names() -> list[str]:
        return [t.split("\t")[0].strip() for t in page.locator("tr.file").all_inner_texts()]

    assert names() == ["logs/a.txt", "logs/big.txt"]
    page.click("th button.sort:has-text('Size')")
    assert names() == ["logs/a.txt", "logs/big.txt"]
    page.click("th button.sort:has-text('Size')")
    assert names() == ["logs/big.txt", "logs/a.txt"]
    page.click("th button.sort:has-text('Name')")
    assert names() == ["logs/a.txt", "logs/big.txt"]
    tab.check("files-search-sorted")
