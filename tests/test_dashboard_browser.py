"""The dashboard in a real browser: Debian's /usr/bin/chromium, headless, driven by Playwright
for Python, against one `cubby serve` on a real socket for the whole module.

Each test is one acceptance point of issue 11; the JSON API is asked at each step whether it
agrees with what the UI did. Screenshots of every page (1280x800) go to
test-artifacts/screenshots/ (git-ignored). Without the browser the module skips with the
reason; CUBBY_TEST_REQUIRE_ALL=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import Api, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
MAX_FILE_BYTES = 256 * 1024  # small, so the over-limit upload is cheap
HOSTILE_FILE = "<img src=x onerror=alert(1)>.txt"
HOSTILE_KEY = "<script>alert(1)</script>"
SENTINEL_VALUE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

pytestmark = pytest.mark.slow

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # pragma: no cover - dev dependencies always have it
    sync_playwright = None  # type: ignore[assignment]


@pytest.fixture(scope="module")
def server(dashboard_server: LiveServer) -> LiveServer:
    return dashboard_server


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[Api]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(client, server.key)


@pytest.fixture
def browser(dashboard_browser: Browser) -> Browser:
    return dashboard_browser


@dataclass
class Tab:
    """One browser context + page that records what a test must check: console errors,
    dialogs, every URL requested."""

    context: BrowserContext
    page: Page
    base: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, key: str) -> None:
        self.go("/")
        self.page.fill("#key", key)
        self.page.click("form.signin button[type=submit]")
        self.page.wait_for_selector("header.top nav")

    def check(self, name: str, expect_status: int | None = None) -> None:
        """Acceptance 7 on the current page: a title, every form control labelled, no console
        error; then a 1280x800 screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        assert page.title().strip(), f"{name}: the page has no title"
        unlabelled = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                  'input:not([type=hidden]), select, textarea'))
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                              && !el.getAttribute('aria-labelledby'))
                .map(el => el.outerHTML)"""
        )
        assert unlabelled == [], f"{name}: controls without a label: {unlabelled}"
        expected = (f"status of {expect_status}", f"HTTP {expect_status} ")
        errors = [
            e
            for e in self.errors
            if expect_status is None or not any(part in e for part in expected)
        ]
        assert errors == [], f"{name}: console errors: {errors}"
        self.errors.clear()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def tab(browser: Browser, server: LiveServer) -> Iterator[Tab]:
    yield from _open_tab(browser, server)


@pytest.fixture
def tab2(browser: Browser, server: LiveServer) -> Iterator[Tab]:
    yield from _open_tab(browser, server)


def _open_tab(browser: Browser, server: LiveServer) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    tab = Tab(context, page, server.base_url)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))
    page.on("request", lambda r: tab.urls.append(r.url))
    page.on(
        "response",
        lambda r: tab.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(f"{dialog.type}: {dialog.message}")
        if dialog.type == "confirm":
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    yield tab
    context.close()


def _workspace(http: Api, slug: str) -> str:
    return http.create_workspace(slug)


def _integration_href(tab: Tab, alias: str, page_name: str) -> str:
    row = tab.page.locator("#integrations tr", has_text=alias).first
    href = row.locator(f"a[href$='/{page_name}']").get_attribute("href")
    assert href is not None
    return href


def _files_of(http: Api, ws: str, alias: str, prefix: str = "", **extra: Any) -> dict[str, int]:
    out = http.output(
        "storage", "list_files", ws, {"prefix": prefix}, integrationAlias=alias, **extra
    )
    return {f["path"]: f["size"] for f in out["files"]}


def test_the_server_prints_the_dashboard_url(server: LiveServer) -> None:
    port = server.base_url.rsplit(":", 1)[1]
    log = (server.data_dir / f"server-{port}.log").read_text()
    assert f"cubby: dashboard {server.base_url}/" in log


# -- 1. files end to end ------------------------------------------------------------------
def test_storage_end_to_end(tab: Tab, http: Api) -> None:
    page = tab.page
    tab.sign_in(http.key)
    tab.check("workspaces")
    page.fill("#ws-name", "Acme Files")
    page.fill("#ws-slug", "acme-files")
    page.click("form[action='/ui/workspaces'] button[type=submit]")
    page.wait_for_selector("h1:has-text('Acme Files')")
    listed = http.ok("GET", "/api/v1/workspaces")["workspaces"]
    ws = next(w["id"] for w in listed if w["slug"] == "acme-files")
    assert page.url.endswith(f"/ui/workspaces/{ws}")

    # add a storage integration with "Custom namespace" and its Namespace Key
    page.select_option("#add-kind", "storage")
    page.fill("#add-alias", "tenant-files")
    assert [o.strip() for o in page.locator("#add-scope option").all_inner_texts()] == [
        "Current end user",
        "Shared workspace",
        "Custom namespace",
    ]
    assert not page.is_visible("#add-nskey")
    page.select_option("#add-scope", label="Shared workspace")
    assert not page.is_visible("#add-nskey")
    page.select_option("#add-scope", label="Custom namespace")
    assert page.is_visible("#add-nskey")
    page.fill("#add-nskey", "tenant_123")
    tab.check("workspace-add-integration")
    page.click("form.integration-form button[type=submit]")
    page.wait_for_selector("#integrations td:has-text('tenant-files')")
    tab.check("workspace")
    (wi,) = http.ok("GET", f"/api/v1/workspaces/{ws}/integrations")["integrations"]
    assert wi["alias"] == "tenant-files" and wi["integrationName"] == "storage"
    assert wi["settings"] == {"persistence": {"scope": "external", "externalId": "tenant_123"}}

    # upload two files into a folder, with progress; both are listed
    tab.go(_integration_href(tab, "tenant-files", "files"))
    tab.check("files-empty")
    report = json.dumps({"month": "January", "total": 1500}).encode()
    notes = b"first line\nsecond line\n" * 50
    page.fill("#upload-folder", "reports/2025")
    page.set_input_files(
        "#upload-files",
        [
            {"name": "monthly.json", "mimeType": "application/json", "buffer": report},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": notes},
        ],
    )
    page.click("form[data-upload] button[type=submit]")
    page.wait_for_url(re.compile(r"prefix=reports%2F2025%2F"))
    page.wait_for_selector("tr.file:has-text('notes.txt')")
    assert page.locator("tr.file").count() == 2
    tab.check("files-folder")
    assert _files_of(http, ws, "tenant-files") == {
        "reports/2025/monthly.json": len(report),
        "reports/2025/notes.txt": len(notes),
    }
    # the Namespace Key is the namespace: another integration with it sees the same files
    http.add_integration(
        ws,
        "storage",
        "same-tenant",
        {"persistence": {"scope": "external", "externalId": "tenant_123"}},
    )
    assert len(_files_of(http, ws, "same-tenant")) == 2

    # the folder view by "/" with breadcrumbs
    page.click("nav.crumbs a:has-text('root')")
    page.wait_for_selector("tr.folder:has-text('reports/')")
    assert page.locator("tr.file").count() == 0

    # preview one (formatted JSON, as text)
    page.click("tr.folder a:has-text('reports/')")
    page.click("tr.folder a:has-text('2025/')")
    page.click("tr.file a:has-text('monthly.json')")
    preview = page.locator("[data-testid=preview-text]")
    assert json.loads(preview.inner_text()) == {"month": "January", "total": 1500}
    assert '\n  "month"' in preview.inner_text()  # formatted
    tab.check("file-preview")

    # download one through its signed URL: the same bytes
    with page.expect_download() as started:
        page.click("a[download]")
    downloaded = Path(started.value.path()).read_bytes()
    assert downloaded == report

    # delete the whole folder: confirmed, counted
    page.click("nav.crumbs a:has-text('root')")
    page.click("tr.folder a:has-text('Delete folder')")
    assert "2 file(s)" in page.inner_text("[data-testid=folder-count]")
    tab.check("delete-folder")
    page.click("form button.danger")
    page.wait_for_selector(".flash:has-text('Deleted 2 file(s)')")
    assert _files_of(http, ws, "tenant-files") == {}
    assert tab.errors == [] and all(d.startswith("confirm") for d in tab.dialogs)


def test_uploads_stay_within_the_size_limit(tab: Tab, http: Api, server: LiveServer) -> None:
    ws = _workspace(http, "limits")
    http.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}")
    tab.go(_integration_href(tab, "files", "files"))
    limit = int(tab.page.get_attribute("form[data-upload]", "data-max-bytes") or "0")
    assert limit > 0
    tab.page.set_input_files(
        "#upload-files",
        [{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": b"x" * (limit + 1)}],
    )
    tab.page.click("form[data-upload] button[type=submit]")
    tab.page.wait_for_selector("ul.progress li:has-text('too large')")
    # the server refuses it too (a client without the page's check), and stores nothing
    csrf = tab.page.get_attribute("meta[name=csrf-token]", "content") or ""
    upload_url = tab.page.get_attribute("form[data-upload]", "action") or ""
    refused = tab.context.request.post(
        tab.base + upload_url + "?path=big.bin",
        data=b"x" * (limit + 1),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"},
    )
    assert refused.status == 413
    assert _files_of(http, ws, "files") == {}


# -- 2. KV ---------------------------------------------------------------------------------
def _kv_value(http: Api, ws: str, key: str) -> Any:
    return http.output("kv-store", "get", ws, {"key": key}, integrationAlias="state")["value"]


def test_kv_put_edit_delete_and_lists(tab: Tab, http: Api) -> None:
    page = tab.page
    ws = _workspace(http, "kv-ui")
    http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    tab.sign_in(http.key)
    tab.go(f"/ui/workspaces/{ws}")
    tab.go(_integration_href(tab, "state", "keys"))
    tab.check("keys")

    # put
    page.fill("#new-key", "config")
    page.fill("#new-value", '{"theme": "dark", "retries": 3}')
    page.click("form[data-json-form] button:has-text('Put')")
    page.wait_for_selector("h1.keyname:has-text('config')")
    assert _kv_value(http, ws, "config") == {"theme": "dark", "retries": 3}
    assert '"theme": "dark"' in page.input_value("#value-editor")  # formatted JSON
    tab.check("key")

    # edit
    page.fill("#value-editor", '{"theme": "light", "retries": [1, 2]}')
    page.click("button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('Saved')")
    assert _kv_value(http, ws, "config") == {"theme": "light", "retries": [1, 2]}

    # invalid JSON: the error shows in place and nothing changes
    page.fill("#value-editor", '{"theme": ')
    error = page.locator("form[data-json-form] .json-error").first
    assert error.is_visible() and "Invalid JSON" in error.inner_text()
    page.click("button:has-text('Save')")
    time.sleep(0.3)
    assert page.input_value("#value-editor") == '{"theme": '
    assert _kv_value(http, ws, "config") == {"theme": "light", "retries": [1, 2]}
    tab.errors.clear()  # the browser logs nothing for this; keep the check strict elsewhere

    # delete
    page.click("button:has-text('Delete key')")
    page.wait_for_selector(".flash:has-text('Deleted config')")
    assert _kv_value(http, ws, "config") is None

    # lists: append and remove items
    page.fill("#open-key", "orders")
    page.click("button:has-text('Open')")
    for item in ('"order_1"', '{"id": 2}', '"order_1"'):
        page.fill("#append-value", item)
        page.click("button:has-text('Append')")
        page.wait_for_selector(".flash:has-text('Appended')")
    assert _kv_value(http, ws, "orders") == ["order_1", {"id": 2}, "order_1"]
    assert page.locator("ol.items li").count() == 3
    tab.check("key-list")
    page.locator("ol.items li", has_text="order_1").first.locator("button").click()
    page.wait_for_selector(".flash:has-text('Removed 2 item(s)')")
    assert _kv_value(http, ws, "orders") == [{"id": 2}]
    assert page.locator("ol.items li").count() == 1

    # the key list (list_keys) shows what the API holds
    tab.go(_keys_url(ws, http))
    assert page.locator("table.keys td a").all_inner_texts() == ["orders"]
    assert "list (1)" in page.inner_text("table.keys")


def _keys_url(ws: str, http: Api) -> str:
    (wi,) = [
        w
        for w in http.ok("GET", f"/api/v1/workspaces/{ws}/integrations")["integrations"]
        if w["alias"] == "state"
    ]
    return f"/ui/workspaces/{ws}/integrations/{wi['id']}/keys"


# -- 3. playground -------------------------------------------------------------------------
def _pick(tab: Tab, ws: str, alias: str, action: str) -> None:
    page = tab.page
    tab.go("/ui/playground")
    page.select_option("#pg-ws", ws)
    page.wait_for_selector("#pg-alias")
    page.select_option("#pg-alias", alias)
    page.wait_for_selector("#pg-action")
    page.select_option("#pg-action", action)
    page.wait_for_selector("form[data-playground]")


def _run(tab: Tab, fields: dict[str, str]) -> dict[str, Any]:
    page = tab.page
    for name, value in fields.items():
        page.fill(f"[name='input.{name}']", value)
    runs = page.get_attribute("[data-result]", "data-runs") or "0"
    page.click("form[data-playground] button[type=submit]")
    page.wait_for_selector(f"[data-result][data-runs='{int(runs) + 1}']")
    status = int(page.inner_text("[data-field=status]"))
    return {"status": status, "body": json.loads(page.inner_text("[data-field=response]"))}


def _direct(http: Api, ws: str, alias: str, action: str, params: dict[str, Any]) -> Any:
    resp = http.execute(
        "storage" if action.endswith("file") else "kv-store",
        action,
        ws,
        params,
        integrationAlias=alias,
    )
    return resp.status_code, resp.json()


def _copied(tab: Tab, lang: str) -> str:
    tab.page.click(f"button[data-copy='#snippet-{lang}']")
    return str(tab.page.evaluate("navigator.clipboard.readText()"))


def _shell(command: str, key: str) -> Any:
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CUBBY_API_KEY": key},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_playground_matches_execute_and_its_curl(tab: Tab, http: Api) -> None:
    ws = _workspace(http, "play")
    http.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    tab.sign_in(http.key)

    _pick(tab, ws, "files", "write_file")
    assert tab.page.locator("textarea[name='input.content']").count() == 1  # LONG_TEXT
    assert tab.page.locator("select[name='input.contentEncoding']").count() == 1  # DROPDOWN
    wrote = _run(tab, {"path": "notes/today.txt", "content": "hello from the playground"})
    tab.check("playground-write-file")
    assert wrote["status"] == 200 and wrote["body"]["success"] is True
    status, direct = _direct(
        http,
        ws,
        "files",
        "write_file",
        {"path": "notes/today.txt", "content": "hello from the playground"},
    )
    assert status == 200
    drop = ("updatedAt",)
    assert {k: v for k, v in wrote["body"]["output"].items() if k not in drop} == {
        k: v for k, v in direct["output"].items() if k not in drop
    }

    _pick(tab, ws, "files", "read_file")
    read = _run(tab, {"path": "notes/today.txt"})
    status, direct = _direct(http, ws, "files", "read_file", {"path": "notes/today.txt"})
    assert read["status"] == status == 200
    assert read["body"]["output"] == direct["output"]
    curl = _copied(tab, "curl")
    assert http.key not in curl and "$CUBBY_API_KEY" in curl
    assert _shell(curl, http.key)["output"] == read["body"]["output"]
    # an error answers what the API answers, status included
    missing = _run(tab, {"path": "missing.txt"})
    status, direct = _direct(http, ws, "files", "read_file", {"path": "missing.txt"})
    assert missing["status"] == status == 400
    assert missing["body"] == direct and direct["details"]["reason"] == "FILE_NOT_FOUND"

    _pick(tab, ws, "state", "put")
    assert tab.page.locator("textarea[data-json][name='input.value']").count() == 1  # JSON
    put = _run(tab, {"key": "cfg", "value": '{"a": [1, "two"], "b": null}'})
    status, direct = _direct(
        http, ws, "state", "put", {"key": "cfg", "value": {"a": [1, "two"], "b": None}}
    )
    assert put["status"] == status == 200
    # the same answer, but for the version each put moves on by one
    assert direct["output"]["version"] == put["body"]["output"]["version"] + 1
    assert {**put["body"]["output"], "version": 0} == {**direct["output"], "version": 0}

    _pick(tab, ws, "state", "get")
    got = _run(tab, {"key": "cfg"})
    status, direct = _direct(http, ws, "state", "get", {"key": "cfg"})
    assert got["status"] == status == 200
    assert got["body"]["output"] == direct["output"]
    assert got["body"]["output"]["value"] == {"a": [1, "two"], "b": None}
    assert _shell(_copied(tab, "curl"), http.key)["output"] == got["body"]["output"]
    # the Python snippet (cubby_client) prints the same output
    python = _copied(tab, "python")
    done = subprocess.run(
        [sys.executable, "-c", python],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CUBBY_API_KEY": http.key},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == got["body"]["output"]
    assert "process.env.CUBBY_API_KEY" in _copied(tab, "typescript")

    tab.check("playground-get")


# -- 4. isolation --------------------------------------------------------------------------
def _restricted_key(http: Api, ws: str) -> str:
    body = {"name": "only-a", "permissions": {"scope": "workspace", "workspaceIds": [ws]}}
    return str(http.ok("POST", "/api/v1/api-keys", body, 201)["plainKey"])


def test_restricted_key_sees_only_its_workspace(tab: Tab, http: Api) -> None:
    page = tab.page
    ws_a = _workspace(http, "iso-a")
    ws_b = _workspace(http, "iso-b")
    users = http.add_integration(ws_a, "storage", "users")  # end_user scope
    files_b = http.add_integration(
        ws_b, "storage", "files", {"persistence": {"scope": "workspace"}}
    )
    for user, name in (("alice", "alice-notes.txt"), ("bob", "bob-notes.txt")):
        http.output(
            "storage",
            "write_file",
            ws_a,
            {"path": name, "content": user},
            integrationAlias="users",
            endUserId=user,
        )
    http.output(
        "storage",
        "write_file",
        ws_b,
        {"path": "secret-b.txt", "content": "b"},
        integrationAlias="files",
    )
    tab.sign_in(_restricted_key(http, ws_a))
    home = page.content()
    assert "iso-a" in home and "iso-b" not in home and ws_b not in home
    assert page.locator("nav a[href='/ui/api-keys']").count() == 0
    # every link reachable from A's pages stays in A
    tab.go(f"/ui/workspaces/{ws_a}")
    seen = set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
    tab.go(f"/ui/workspaces/{ws_a}/integrations/{users['id']}/files")
    seen |= set(page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"))
    assert not [u for u in seen if ws_b in u]

    # typing B's URLs: a 403 page
    base_b = f"/ui/workspaces/{ws_b}"
    for name, path in (
        ("forbidden-workspace", base_b),
        ("forbidden-files", f"{base_b}/integrations/{files_b['id']}/files"),
        (
            "forbidden-preview",
            f"{base_b}/integrations/{files_b['id']}/files/preview?path=secret-b.txt",
        ),
        ("forbidden-playground", f"/ui/playground?ws={ws_b}"),
    ):
        response = tab.go(path)
        assert response.status == 403, path
        assert "Not allowed" in page.inner_text("h1")
        assert "secret-b" not in page.content()
        tab.check(name, expect_status=403)
    assert tab.go("/ui/api-keys").status == 403
    tab.errors.clear()

    # an end_user integration shows one end user's files, only once that end user is picked
    tab.go(f"/ui/workspaces/{ws_a}/integrations/{users['id']}/files")
    assert page.locator("tr.file").count() == 0
    assert "alice-notes" not in page.content() and "bob-notes" not in page.content()
    options = page.eval_on_selector_all("#end-users option", "els => els.map(e => e.value)")
    assert options == ["alice", "bob"]  # the end users that have files here
    tab.check("files-end-user-picker")
    page.fill("#endUser", "alice")
    page.click("form.picker button[type=submit]")
    page.wait_for_selector("tr.file")
    assert page.locator("tr.file").all_inner_texts()[0].startswith("alice-notes.txt")
    assert page.locator("tr.file").count() == 1 and "bob-notes" not in page.content()
    page.fill("#endUser", "carol")
    page.click("form.picker button[type=submit]")
    page.wait_for_selector("td:has-text('No files yet')")


# -- 5. hostile data -----------------------------------------------------------------------
def test_hostile_names_and_values_render_as_text(tab: Tab, http: Api) -> None:
    page = tab.page
    ws = http.create_workspace("hostile", name="<svg onload=alert(1)> Hostile")
    files = http.add_integration(
        ws,
        "storage",
        "files",
        {"persistence": {"scope": "workspace"}},
        displayName="<b onmouseover=alert(1)>x</b>",
    )
    users = http.add_integration(ws, "kv-store", "users")
    state = http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    http.output(
        "storage",
        "write_file",
        ws,
        {"path": f"in/{HOSTILE_FILE}", "content": SENTINEL_VALUE},
        integrationAlias="files",
    )
    http.output(
        "storage",
        "write_file",
        ws,
        {"path": "in/page.html", "content": SENTINEL_VALUE, "contentType": "text/html"},
        integrationAlias="files",
    )
    http.output(
        "kv-store",
        "put",
        ws,
        {"key": HOSTILE_KEY, "value": SENTINEL_VALUE},
        integrationAlias="state",
    )
    http.output(
        "kv-store",
        "add_to_list",
        ws,
        {"key": "list", "value": SENTINEL_VALUE},
        integrationAlias="state",
    )
    http.output(
        "kv-store",
        "put",
        ws,
        {"key": "k", "value": 1},
        integrationAlias="users",
        endUserId=HOSTILE_KEY,
    )
    tab.sign_in(http.key)
    files_base = f"/ui/workspaces/{ws}/integrations/{files['id']}/files"
    kv_base = f"/ui/workspaces/{ws}/integrations/{state['id']}"
    visits = [
        ("/", None),
        (f"/ui/workspaces/{ws}", "<svg onload=alert(1)> Hostile"),
        (f"{files_base}?prefix=in/", HOSTILE_FILE),
        (f"{files_base}/preview?path=in/{HOSTILE_FILE}", SENTINEL_VALUE),
        (f"{files_base}/preview?path=in/page.html", SENTINEL_VALUE),
        (f"{kv_base}/keys", None),
        (f"{kv_base}/key?key=%3Cscript%3Ealert(1)%3C%2Fscript%3E", HOSTILE_KEY),
        (f"{kv_base}/key?key=list", None),
        (f"/ui/workspaces/{ws}/integrations/{users['id']}/keys", None),
    ]
    for path, shown in visits:
        tab.go(path)
        page.wait_for_load_state("load")
        if shown is not None:
            assert shown in page.inner_text("body"), path  # as text, literally
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("main img[src=x], main script, main svg, main b").count() == 0, path
    # the end-user picker lists the hostile end-user id as text
    picker = page.eval_on_selector_all("#end-users option", "els => els.map(e => e.value)")
    assert picker == [HOSTILE_KEY]
    tab.check("hostile-picker")
    # the file itself, opened directly, is sandboxed: its script cannot run on this origin
    tab.go(f"{files_base}/download?path=in/page.html")
    assert page.evaluate("window.__xss") is None
    assert tab.dialogs == []
    tab.errors.clear()  # the sandboxed HTML file logs CSP refusals: that is the point


# -- 6. sessions ---------------------------------------------------------------------------
def test_sessions_keep_the_key_out_of_the_browser(
    tab: Tab, tab2: Tab, http: Api, browser: Browser
) -> None:
    page = tab.page
    ws = _workspace(http, "sessions")
    http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    created = http.ok("POST", "/api/v1/api-keys", {"name": "browser"}, 201)
    key, key_id = created["plainKey"], created["apiKey"]["id"]
    tab.sign_in(key)
    pages = []
    for path in (
        "/",
        f"/ui/workspaces/{ws}",
        _keys_url(ws, http),
        "/ui/api-keys",
        "/ui/playground",
    ):
        tab.go(path)
        pages.append(page.content())
    assert all(key not in html for html in pages)
    assert all(key not in url for url in tab.urls) and tab.urls
    cookies = tab.context.cookies()
    session = next(c for c in cookies if c["name"] == "cubby_session")
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert all(key not in c["value"] for c in cookies)
    assert page.evaluate("document.cookie").find("cubby_session") == -1  # HttpOnly
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert key not in stored and stored == "[[],[]]"

    # a POST without the CSRF token is refused, even with the session cookie
    refused = tab.context.request.post(
        tab.base + "/ui/workspaces", form={"name": "Sneaky", "slug": "sneaky"}
    )
    assert refused.status == 403
    assert "sneaky" not in [w["slug"] for w in http.ok("GET", "/api/v1/workspaces")["workspaces"]]

    # revoking the key ends its sessions within 5 seconds
    tab2.sign_in(key)
    revoked_at = time.monotonic()
    http.ok("DELETE", f"/api/v1/api-keys/{key_id}")
    while True:
        tab2.go("/ui/playground")
        if tab2.page.locator("form.signin").count():
            break
        assert time.monotonic() - revoked_at < 5, "the revoked key's session still works"
        time.sleep(0.25)
    assert tab.go(f"/ui/workspaces/{ws}").url.startswith(tab.base + "/?next=")

    # sign-out ends the session
    tab.sign_in(http.key)
    page.click("header .signout button")
    page.wait_for_selector("form.signin")
    tab.check("sign-in")
    tab.go("/ui/api-keys")
    assert page.locator("form.signin").count() == 1


# -- 7. every page: a title, labelled controls, no console errors, a screenshot -------------
def test_every_page_passes_the_page_check(tab: Tab, http: Api) -> None:
    page = tab.page
    ws = _workspace(http, "tour")
    files = http.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    state = http.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    users = http.add_integration(ws, "kv-store", "per-user")
    http.output(
        "storage",
        "write_file",
        ws,
        {
            "path": "img/dot.svg",
            "contentType": "image/svg+xml",
            "content": '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
            '<rect width="8" height="8" fill="red"/></svg>',
        },
        integrationAlias="files",
    )
    http.output(
        "kv-store", "put", ws, {"key": "hello", "value": {"a": 1}}, integrationAlias="state"
    )
    tab.go("/")
    tab.check("landing")
    tab.sign_in(http.key)
    fb = f"/ui/workspaces/{ws}/integrations/{files['id']}"
    kb = f"/ui/workspaces/{ws}/integrations/{state['id']}"
    tour = [
        ("tour-workspaces", "/"),
        ("tour-workspace", f"/ui/workspaces/{ws}"),
        ("tour-integration-edit", fb),
        ("tour-files", f"{fb}/files"),
        ("tour-files-folder", f"{fb}/files?prefix=img/"),
        ("tour-preview-image", f"{fb}/files/preview?path=img/dot.svg"),
        ("tour-delete-folder", f"{fb}/files/delete-folder?prefix=img/"),
        ("tour-keys", f"{kb}/keys"),
        ("tour-key", f"{kb}/key?key=hello"),
        ("tour-end-user-picker", f"/ui/workspaces/{ws}/integrations/{users['id']}/keys"),
        ("tour-api-keys", "/ui/api-keys"),
        ("tour-playground", "/ui/playground"),
        ("tour-playground-form", f"/ui/playground?ws={ws}&alias=files&action=list_files"),
    ]
    for name, path in tour:
        assert tab.go(path).status == 200, path
        tab.check(name)
    tab.go(f"{fb}/files/preview?path=img/dot.svg")
    assert page.evaluate("document.querySelector('img.preview').naturalWidth") == 8
    # the edit form: "Namespace Key" only with "Custom namespace"
    tab.go(fb)
    assert not page.is_visible("#edit-nskey")
    page.select_option("#edit-scope", label="Custom namespace")
    assert page.is_visible("#edit-nskey")
    # the created key is shown once, with a copy button
    tab.go("/ui/api-keys")
    page.fill("#key-name", "tour key")
    page.click("form.card button[type=submit]")
    plain = page.input_value("[data-testid=plain-key]")
    assert plain.startswith("cby_")
    page.click("button[data-copy]")
    assert page.evaluate("navigator.clipboard.readText()") == plain
    tab.check("api-key-created")
    assert http.request("GET", "/api/v1/workspaces", key=plain).status_code == 200
    # a 404 page
    assert (
        tab.go(f"/ui/workspaces/{ws}/integrations/{files['id']}/files/preview?path=nope").status
        == 404
    )
    tab.check("not-found", expect_status=404)
