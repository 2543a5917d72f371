"""The dashboard over HTTP, in process: sign-in, sessions, CSRF, the permission gate, escaping,
the KV editor's validation and the playground's equality with the JSON API. (The same promises
in a real browser: test_dashboard_browser.py.)"""

from __future__ import annotations

import asyncio
import re
from html import unescape
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.core import clock, keys, workspaces
from cubby.core.models import KeyPermissions
from cubby.services import Services
from cubby.web.playground import build_input, snippets
from tests.helpers import Api

HOSTILE_FILE = "<img src=x onerror=alert(1)>.txt"
HOSTILE_KEY = "<script>alert(1)</script>"


def sign_in(client: TestClient, key: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    resp = client.post(
        "/sign-in", data={"csrf": token.group(1), "key": key, "next": "/"}, follow_redirects=False
    )
    assert resp.status_code == 303, resp.text
    return csrf_of(client.get("/").text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def restricted_key(services: Services, *workspace_ids: str) -> str:
    perms = KeyPermissions("workspace", list(workspace_ids))
    _, plain = asyncio.run(keys.create_key(services.meta, "restricted", None, perms))
    return plain


def test_signed_out_home_is_the_landing_page(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for link in ('href="/docs"', 'href="/openapi.json"', 'href="/health"'):
        assert link in page.text
    assert "cubby api-keys create --name admin" in page.text
    assert "CUBBY_API_KEY" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text and " on" + "click=" not in page.text


def test_sign_in_sets_a_strict_httponly_session_cookie(client: TestClient, org_key: str) -> None:
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post("/sign-in", data={"csrf": token, "key": org_key}, follow_redirects=False)
    cookie = next(
        v
        for k, v in resp.headers.multi_items()
        if k == "set-cookie" and v.startswith("cubby_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert org_key not in cookie and value and value not in org_key
    home = client.get("/")
    assert "Workspaces" in home.text and org_key not in home.text


def test_sign_in_refuses_a_bad_key_and_a_missing_form_token(
    client: TestClient, org_key: str
) -> None:
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    bad = client.post("/sign-in", data={"csrf": token, "key": "cby_nope"})
    assert bad.status_code == 401 and "unknown API key" in bad.text
    assert "cubby_session" not in client.cookies
    client.get("/")
    no_token = client.post("/sign-in", data={"key": org_key}, follow_redirects=False)
    assert no_token.status_code == 403
    assert "cubby_session" not in client.cookies


def test_posts_without_the_csrf_token_change_nothing(
    client: TestClient, api: Api, org_key: str
) -> None:
    csrf = sign_in(client, org_key)
    refused = client.post("/ui/workspaces", data={"name": "X", "slug": "x"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = client.post("/ui/workspaces", data={"name": "X", "slug": "x", "csrf": csrf + "x"})
    assert wrong.status_code == 403
    assert api.ok("GET", "/api/v1/workspaces")["total"] == 0
    ok = client.post("/ui/workspaces", data={"name": "X", "slug": "x", "csrf": csrf})
    assert ok.status_code == 200
    assert api.ok("GET", "/api/v1/workspaces")["total"] == 1
    header = client.post(
        "/ui/workspaces", data={"name": "Y", "slug": "y"}, headers={"X-CSRF-Token": csrf}
    )
    assert header.status_code == 200


def test_revoking_the_key_ends_its_sessions(
    client: TestClient, api: Api, services: Services
) -> None:
    _, plain = asyncio.run(keys.create_key(services.meta, "web", None, None))
    sign_in(client, plain)
    key_id = next(
        k["id"] for k in api.ok("GET", "/api/v1/api-keys")["apiKeys"] if k["name"] == "web"
    )
    api.ok("DELETE", f"/api/v1/api-keys/{key_id}")
    after = client.get("/ui/api-keys", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/?next=")
    assert "Sign in" in client.get("/").text


def test_sessions_expire(client: TestClient, org_key: str) -> None:
    sign_in(client, org_key)
    try:
        clock.set_offset(13 * 3600)
        assert client.get("/ui/api-keys", follow_redirects=False).status_code == 303
    finally:
        clock.set_offset(0)


def test_sign_out_ends_the_session(client: TestClient, org_key: str) -> None:
    csrf = sign_in(client, org_key)
    cookie = client.cookies["cubby_session"]
    out = client.post("/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set("cubby_session", cookie)  # even a kept copy of the cookie is dead
    assert client.get("/ui/api-keys", follow_redirects=False).status_code == 303


def test_next_after_sign_in_stays_on_this_site(client: TestClient, org_key: str) -> None:
    page = client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/sign-in",
        data={"csrf": token, "key": org_key, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/"


def test_restricted_key_reaches_only_its_workspaces(
    client: TestClient, api: Api, services: Services
) -> None:
    ws_a = api.create_workspace("team-a")
    ws_b = api.create_workspace("team-b")
    wi_b = api.add_integration(ws_b, "storage", "files", {"persistence": {"scope": "workspace"}})[
        "id"
    ]
    kv_b = api.add_integration(ws_b, "kv-store", "state")["id"]
    csrf = sign_in(client, restricted_key(services, ws_a))
    home = client.get("/").text
    assert "team-a" in home and "team-b" not in home and ws_b not in home
    base = f"/ui/workspaces/{ws_b}"
    for url in (
        base,
        f"{base}/integrations/{wi_b}",
        f"{base}/integrations/{wi_b}/files",
        f"{base}/integrations/{wi_b}/files/preview?path=a.txt",
        f"{base}/integrations/{wi_b}/files/download?path=a.txt",
        f"{base}/integrations/{wi_b}/files/delete-folder?prefix=a/",
        f"{base}/integrations/{kv_b}/keys?endUser=u1",
        f"{base}/integrations/{kv_b}/key?key=k&endUser=u1",
        f"/ui/playground?ws={ws_b}",
    ):
        resp = client.get(url, follow_redirects=False)
        assert resp.status_code == 403, (url, resp.status_code)
        assert "Not allowed" in resp.text
    for url, data in (
        (f"{base}/delete", {"confirm": "team-b"}),
        (f"{base}/rename", {"name": "Mine"}),
        (f"{base}/integrations", {"integrationName": "storage"}),
        (f"{base}/integrations/{wi_b}/files/delete-folder", {"prefix": "a/"}),
    ):
        resp = client.post(url, data={**data, "csrf": csrf})
        assert resp.status_code == 403, url
    assert api.ok("GET", f"/api/v1/workspaces/{ws_b}")["workspace"]["name"] == "Team-B"
    assert client.get("/ui/api-keys").status_code == 403  # org keys only
    assert 'href="/ui/api-keys"' not in client.get("/").text


def test_user_data_renders_as_text(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("hostile")
    files = api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    state = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    api.output(
        "storage",
        "write_file",
        ws,
        {"path": f"d/{HOSTILE_FILE}", "content": HOSTILE_KEY},
        integrationAlias="files",
    )
    api.output(
        "kv-store", "put", ws, {"key": HOSTILE_KEY, "value": HOSTILE_FILE}, integrationAlias="state"
    )
    sign_in(client, org_key)
    base = f"/ui/workspaces/{ws}/integrations"
    pages = [
        client.get(f"{base}/{files['id']}/files?prefix=d/").text,
        client.get(
            f"{base}/{files['id']}/files/preview", params={"path": f"d/{HOSTILE_FILE}"}
        ).text,
        client.get(f"{base}/{state['id']}/key", params={"key": HOSTILE_KEY}).text,
    ]
    for html in pages:
        assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in pages[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2]


def test_invalid_json_in_the_editor_changes_nothing(
    client: TestClient, api: Api, org_key: str
) -> None:
    ws = api.create_workspace("kv")
    state = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "cfg", "value": {"a": 1}}, integrationAlias="state")
    csrf = sign_in(client, org_key)
    resp = client.post(
        f"/ui/workspaces/{ws}/integrations/{state['id']}/keys/save",
        data={"csrf": csrf, "key": "cfg", "value": "{a: 1"},
    )
    assert resp.status_code == 400
    assert "not valid JSON" in resp.text and "{a: 1" in resp.text  # the draft stays in place
    got = api.output("kv-store", "get", ws, {"key": "cfg"}, integrationAlias="state")
    assert got["value"] == {"a": 1}


def _run_playground(
    client: TestClient,
    csrf: str,
    ws: str,
    alias: str,
    action: str,
    fields: dict[str, str],
    end_user: str | None = None,
) -> dict[str, Any]:
    data = {"csrf": csrf, "ws": ws, "alias": alias, "action": action, **fields}
    if end_user:
        data["endUserId"] = end_user
    resp = client.post("/ui/playground/run", data=data, headers={"Accept": "application/json"})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_playground_answers_what_execute_answers(
    client: TestClient, api: Api, org_key: str
) -> None:
    ws = api.create_workspace("play")
    api.add_integration(ws, "storage", "files")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    csrf = sign_in(client, org_key)
    run = _run_playground(
        client, csrf, ws, "state", "put", {"input.key": "k", "input.value": '{"n": [1, 2]}'}
    )
    assert run["status"] == 200
    assert run["request"]["input"] == {"key": "k", "value": {"n": [1, 2]}}
    direct = api.ok("POST", "/api/v1/actions/execute", run["request"])
    assert direct["output"]["version"] == run["response"]["output"]["version"] + 1
    assert {**run["response"]["output"], "version": 0} == {**direct["output"], "version": 0}
    got = _run_playground(client, csrf, ws, "state", "get", {"input.key": "k"})
    assert (
        got["response"]["output"]
        == api.ok("POST", "/api/v1/actions/execute", got["request"])["output"]
    )
    # an end_user integration without an end user: the same 400 as the API
    missing = _run_playground(client, csrf, ws, "files", "read_file", {"input.path": "a"})
    direct_missing = api.request("POST", "/api/v1/actions/execute", missing["request"])
    assert missing["status"] == direct_missing.status_code == 400
    assert missing["response"] == direct_missing.json()
    assert org_key not in str(run)
    assert "$CUBBY_API_KEY" in run["snippets"]["curl"]


def test_playground_form_types() -> None:
    props = {
        "key": {"type": "SHORT_TEXT", "required": True},
        "content": {"type": "LONG_TEXT", "required": True},
        "value": {"type": "JSON", "required": True},
        "limit": {"type": "NUMBER", "required": False},
        "flag": {"type": "CHECKBOX", "required": False},
        "enc": {"type": "DROPDOWN", "required": False},
    }
    out = build_input(
        props,
        {
            "input.key": "k",
            "input.content": "",
            "input.value": "[1]",
            "input.limit": "10",
            "input.flag": "true",
            "input.enc": "",
        },
    )
    assert out == {"key": "k", "content": "", "value": [1], "limit": 10, "flag": True}
    assert build_input(props, {"input.limit": "1.5"})["limit"] == 1.5
    with pytest.raises(Exception, match="not valid JSON"):
        build_input(props, {"input.value": "{nope"})
    code = snippets(
        "http://h:1",
        {
            "integrationName": "kv-store",
            "actionName": "put",
            "workspaceId": "w",
            "input": {"key": "it's"},
        },
    )
    assert "'\\''" in code["curl"]  # a quote in the body survives the shell
    assert "from cubby_client import Cubby" in code["python"]
    assert "process.env.CUBBY_API_KEY" in code["typescript"]


def test_usage_and_end_user_picker(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("usage")
    files = api.add_integration(ws, "storage", "files")
    for user in ("u-1", "u-2"):
        api.output(
            "storage",
            "write_file",
            ws,
            {"path": f"{user}.txt", "content": "abc"},
            integrationAlias="files",
            endUserId=user,
        )
    sign_in(client, org_key)
    page = client.get(f"/ui/workspaces/{ws}").text
    assert re.search(r'<td class="num">2</td>', page)  # two files across end users
    picker = client.get(f"/ui/workspaces/{ws}/integrations/{files['id']}/files").text
    assert "u-1" in picker and "u-2" in picker and "u-1.txt" not in picker
    one = client.get(f"/ui/workspaces/{ws}/integrations/{files['id']}/files?endUser=u-1").text
    assert "u-1.txt" in one and "u-2.txt" not in one
    state = api.add_integration(ws, "kv-store", "state")
    key = client.get(
        f"/ui/workspaces/{ws}/integrations/{state['id']}/key?key=k", follow_redirects=False
    )
    assert key.status_code == 303 and key.headers["location"].endswith("/keys")


def test_keys_list_by_prefix_a_page_at_a_time(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("many")
    state = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    for i in range(55):
        api.output(
            "kv-store", "put", ws, {"key": f"user:{i:03d}", "value": i}, integrationAlias="state"
        )
    api.output(
        "kv-store", "add_to_list", ws, {"key": "queue", "value": 1}, integrationAlias="state"
    )
    sign_in(client, org_key)
    base = f"/ui/workspaces/{ws}/integrations/{state['id']}/keys"
    first = client.get(base, params={"prefix": "user:"}).text
    shown = re.findall(r">(user:\d{3})</a>", first)
    assert shown == [f"user:{i:03d}" for i in range(50)]
    cursor = re.search(r'href="[^"]*cursor=([^"&]+)[^"]*" rel="next"', first)
    assert cursor is not None
    second = client.get(base, params={"prefix": "user:", "cursor": cursor.group(1)}).text
    assert re.findall(r">(user:\d{3})</a>", second) == [f"user:{i:03d}" for i in range(50, 55)]
    assert 'rel="next"' not in second and "queue" not in second
    assert "list (1)" in client.get(base, params={"prefix": "q"}).text


def test_a_new_key_can_expire(client: TestClient, api: Api, org_key: str) -> None:
    """The keys page's "New key" form has the TTL field the key page has."""
    ws = api.create_workspace("new-key-ttl")
    state = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    csrf = sign_in(client, org_key)
    base = f"/ui/workspaces/{ws}/integrations/{state['id']}/keys"
    assert 'name="expiresInSeconds"' in client.get(base).text
    for key, ttl in (("session", "600"), ("forever", "")):
        saved = client.post(
            f"{base}/save",
            data={"csrf": csrf, "fromList": "1", "key": key, "value": '"x"',
                  "expiresInSeconds": ttl},
            follow_redirects=False,
        )  # fmt: skip
        assert saved.status_code == 303, saved.text[:300]
    got = api.output("kv-store", "get", ws, {"key": "session"}, integrationAlias="state")
    assert got["expiresAt"] is not None
    kept = api.output("kv-store", "get", ws, {"key": "forever"}, integrationAlias="state")
    assert kept["expiresAt"] is None


def test_upload_over_the_limit_is_refused_and_stores_nothing(
    client: TestClient, api: Api, org_key: str, services: Services
) -> None:
    ws = api.create_workspace("upload")
    files = api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    csrf = sign_in(client, org_key)
    url = f"/ui/workspaces/{ws}/integrations/{files['id']}/files/upload"
    limit = services.settings.storage_max_file_bytes
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"}
    big = client.post(url, params={"path": "big.bin"}, content=b"x" * (limit + 1), headers=headers)
    assert big.status_code == 413
    ok = client.post(url, params={"path": "d/ok.bin"}, content=b"\x00\x01", headers=headers)
    assert ok.status_code == 200 and ok.json()["size"] == 2
    several = client.post(
        url,
        data={"csrf": csrf, "folder": "multi"},
        files=[("files", ("a.txt", b"A", "text/plain")), ("files", ("b.txt", b"BB", "text/plain"))],
    )
    assert several.status_code == 200
    listed = api.output("storage", "list_files", ws, {}, integrationAlias="files")["files"]
    assert {f["path"]: f["size"] for f in listed} == {
        "d/ok.bin": 2,
        "multi/a.txt": 1,
        "multi/b.txt": 2,
    }


def test_usage_shows_zero_not_blank(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("zero-usage")
    api.add_integration(ws, "kv-store", "empty-state", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, "storage", "empty-files", {"persistence": {"scope": "workspace"}})
    sign_in(client, org_key)
    page = client.get(f"/ui/workspaces/{ws}").text
    usage = page[page.index('id="usage"') :]
    rows = re.findall(r"<tr>\s*<td>(empty-\w+)</td>.*?</tr>", usage, re.S)
    assert sorted(rows) == ["empty-files", "empty-state"]
    cells = re.findall(r'<td class="num">(.*?)</td>', usage, re.S)
    assert "" not in [c.strip() for c in cells]  # nothing blank
    assert '<td class="num">0</td>' in usage and "0 B" in usage


def _revoke_warnings(client: TestClient) -> dict[str, str]:
    page = client.get("/ui/api-keys").text
    found = re.findall(r'<tr data-key-id="([^"]+)">.*?data-confirm="([^"]+)"', page, re.S)
    return {key_id: unescape(text) for key_id, text in found}


def test_revoking_your_own_or_the_last_org_wide_key_warns_first(
    client: TestClient, services: Services, org_key: str
) -> None:
    ws = asyncio.run(workspaces.create(services.meta, "W", "w"))
    restricted_key(services, ws.id)
    sign_in(client, org_key)
    by_name = {k.name: k.id for k in asyncio.run(services.meta.api_keys.all())}
    warnings = _revoke_warnings(client)
    assert "signed in with" in warnings[by_name["tests"]]
    assert "last organisation-wide key" in warnings[by_name["tests"]]
    assert warnings[by_name["restricted"]] == (
        "Revoke key restricted? Programs using it stop working."
    )
    asyncio.run(keys.create_key(services.meta, "second", None, None))
    by_name = {k.name: k.id for k in asyncio.run(services.meta.api_keys.all())}
    warnings = _revoke_warnings(client)
    assert "last organisation-wide" not in " ".join(warnings.values())
    assert "signed in with" in warnings[by_name["tests"]]
    assert "signed in with" not in warnings[by_name["second"]]


def _next_and_back(
    client: TestClient, url: str, first_range: str, last_range: str
) -> tuple[str, str, str]:
    """Open a two-page list at ``url``, follow "next" to its last page and "previous" back:
    the three pages' texts, each checked for its range and links."""
    first = unescape(client.get(url).text)
    assert first_range in first and 'rel="prev"' not in first
    link = re.search(r'href="([^"]+)" rel="next"', first)
    assert link is not None
    second = unescape(client.get(link.group(1)).text)
    assert last_range in second and 'rel="next"' not in second
    back = re.search(r'href="([^"]+)" rel="prev"', second)
    assert back is not None
    again = unescape(client.get(back.group(1)).text)
    assert first_range in again and 'rel="prev"' not in again
    return first, second, again


def test_pagers_go_back_and_say_where_they_are(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("pager")
    state = api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    files = api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
    for i in range(55):
        key = {"key": f"k{i:03d}", "value": 1}
        api.output("kv-store", "put", ws, key, integrationAlias="state")
        api.output(
            "storage", "write_file", ws, {"path": f"f{i:03d}.txt", "content": "x"},
            integrationAlias="files",
        )  # fmt: skip
    sign_in(client, org_key)
    # keys and a file search are counted on every page; a folder's entries (files and
    # subfolders) only on the last
    for kind, page_name, what, first_range in (
        ("keys", state, "keys", "keys 1 to 50 of 55</span>"),
        ("files", files, "entries", "entries 1 to 50</span>"),
        ("files", files, "files", "files 1 to 50 of 55</span>"),
    ):
        base = f"/ui/workspaces/{ws}/integrations/{page_name['id']}/{kind}"
        if what == "files":
            base += "?q=f"
        first, _, again = _next_and_back(client, base, first_range, f"{what} 51 to 55 of 55")
        assert re.findall(r">(k\d{3}|f\d{3}\.txt)</a>", again) == re.findall(
            r">(k\d{3}|f\d{3}\.txt)</a>", first
        )


def test_workspace_and_mcp_server_lists_page_both_ways(
    client: TestClient, api: Api, org_key: str
) -> None:
    """Past a page, the workspaces list and a workspace's MCP servers say where they are and
    link the pages either side; every item shows once, in one order (created_at, id)."""
    slugs = [f"ws{i:03d}" for i in range(103)]
    ids = [api.create_workspace(slug) for slug in slugs]
    for i in range(53):
        api.ok("POST", "/api/v1/mcp/servers", {"name": f"m{i:03d}", "workspaceId": ids[0]}, 201)
    sign_in(client, org_key)
    for url, what, size, total, item in (
        ("/", "workspaces", 100, 103, r"<code>(ws\d{3})</code>"),
        (f"/ui/workspaces/{ids[0]}", "servers", 50, 53, r">(m\d{3})</a>"),
    ):
        first, second, again = _next_and_back(
            client, url, f"{what} 1 to {size} of {total}</span>",
            f"{what} {size + 1} to {total} of {total}</span>",
        )  # fmt: skip
        shown = re.findall(item, first)
        assert re.findall(item, again) == shown and len(shown) == size
        both = shown + re.findall(item, second)
        assert len(both) == len(set(both)) == total
    assert client.get("/?cursor=-1").status_code == 400


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
WHEN = re.compile(r'<time datetime="([^"]+)" title="\1" data-relative>\1</time>')


def test_every_page_shows_times_relative_with_the_exact_one_on_hover(
    client: TestClient, api: Api, org_key: str
) -> None:
    """Every time on these pages comes from the when() macro (static/times.js makes it "3 min
    ago" and keeps the exact time in its title); none is printed raw."""
    ws = api.create_workspace("times")
    shared = {"persistence": {"scope": "workspace"}}
    kv = api.add_integration(ws, "kv-store", "state", shared)
    memory = api.add_integration(ws, "agent-memory", "memory", shared)
    pad = api.add_integration(ws, "agent-scratchpad", "pad", shared)
    think = api.add_integration(ws, "sequential-thinking", "think", shared)
    api.output("kv-store", "put", ws, {"key": "k", "value": 1, "expiresInSeconds": 3600},
               integrationAlias="state")  # fmt: skip
    api.output("agent-memory", "create_entities", ws,
               {"entities": [{"name": "Ann", "type": "person"}, {"name": "Acme", "type": "org"}]},
               integrationAlias="memory")  # fmt: skip
    api.output("agent-memory", "create_relations", ws,
               {"relations": [{"from": "Ann", "to": "Acme", "type": "works_at"}]},
               integrationAlias="memory")  # fmt: skip
    api.output("agent-scratchpad", "write_page", ws, {"pageName": "notes", "content": "tea"},
               integrationAlias="pad")  # fmt: skip
    api.output("sequential-thinking", "add_thought", ws, {"chainId": "c", "content": "first"},
               integrationAlias="think")  # fmt: skip
    sign_in(client, org_key)
    base = f"/ui/workspaces/{ws}/integrations"
    for url, times in (
        ("/", 1),
        (f"{base}/{kv['id']}/keys", 2),  # updated, expires
        (f"{base}/{memory['id']}/memory", 2),
        (f"{base}/{memory['id']}/memory/entity?name=Ann", 3),  # created, updated, relation
        (f"{base}/{pad['id']}/pages", 2),
        (f"{base}/{pad['id']}/pages?q=tea", 1),
        (f"{base}/{pad['id']}/page?name=notes", 2),
        (f"{base}/{think['id']}/chains?chainId=c", 1),
    ):
        page = client.get(url)
        assert page.status_code == 200, (url, page.text[:500])
        shown = WHEN.findall(page.text)
        assert len(shown) >= times and all(ISO_TIME.match(iso) for iso in shown), url
        assert not ISO_TIME.search(WHEN.sub("", page.text)), f"a raw time on {url}"


def test_agent_tool_pagers_count_and_go_back(client: TestClient, api: Api, org_key: str) -> None:
    ws = api.create_workspace("agent-pager")
    shared = {"persistence": {"scope": "workspace"}}
    memory = api.add_integration(ws, "agent-memory", "memory", shared)
    pad = api.add_integration(ws, "agent-scratchpad", "pad", shared)
    entities = [{"name": f"e{i:03d}", "type": "t"} for i in range(55)]
    api.output("agent-memory", "create_entities", ws, {"entities": entities},
               integrationAlias="memory")  # fmt: skip
    for i in range(55):
        api.output("agent-scratchpad", "write_page", ws, {"pageName": f"p{i:03d}", "content": "x"},
                   integrationAlias="pad")  # fmt: skip
    sign_in(client, org_key)
    for wi, page_name, what in ((memory, "memory", "entities"), (pad, "pages", "pages")):
        base = f"/ui/workspaces/{ws}/integrations/{wi['id']}/{page_name}"
        _next_and_back(client, base, f"{what} 1 to 50 of 55</span>", f"{what} 51 to 55 of 55")
