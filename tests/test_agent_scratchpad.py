"""Agent Scratchpad (API.md, "Agent tools"): every action's output and error reasons, limits
(page size 413, names), search (words, prefixes, snippets, hostile queries) and paging, on
every backend combination."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, error_body

pytestmark = pytest.mark.conformance

S = "agent-scratchpad"


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("pad")
    api.add_integration(ws, S, "pad", {"persistence": {"scope": "workspace"}})
    return ws


def run(api: Api, ws: str, action: str, input: Any) -> Any:
    return api.output(S, action, ws, input, integrationAlias="pad")


def fail(
    api: Api, ws: str, action: str, input: Any, status: int, code: str, field: Any = None
) -> Any:
    resp = api.execute(S, action, ws, input, integrationAlias="pad")
    return error_body(resp, status, code, field)


def test_write_read_append_delete(api: Api, ws: str) -> None:
    page = run(api, ws, "write_page", {"pageName": "notes", "content": "héllo"})
    assert set(page) == {"pageName", "size", "createdAt", "updatedAt"}
    assert page["pageName"] == "notes" and page["size"] == 6
    page = run(api, ws, "append_page", {"pageName": "notes", "content": " world"})
    assert page["size"] == 12
    got = run(api, ws, "read_page", {"pageName": "notes"})
    assert got["content"] == "héllo world" and got["size"] == 12 and got["pageName"] == "notes"
    assert set(got) == {"pageName", "content", "size", "createdAt", "updatedAt"}
    # append creates a missing page; write replaces
    assert run(api, ws, "append_page", {"pageName": "new", "content": "a"})["size"] == 1
    assert run(api, ws, "write_page", {"pageName": "new", "content": ""})["size"] == 0
    body = fail(api, ws, "read_page", {"pageName": "gone"}, 400, "ACTION_FAILED")
    assert body["details"]["reason"] == "PAGE_NOT_FOUND" and "list_pages" in body["error"]
    assert run(api, ws, "delete_page", {"pageName": "new"}) == {"pageName": "new", "deleted": True}
    assert run(api, ws, "delete_page", {"pageName": "new"}) == {"pageName": "new", "deleted": False}
    assert run(api, ws, "clear_all", {}) == {"deleted": 1}
    assert run(api, ws, "list_pages", {}) == {"pages": [], "nextCursor": None}
    assert run(api, ws, "search_pages", {"query": "hello"})["results"] == []


def test_list_pages_prefix_and_paging_while_writing(api: Api, ws: str) -> None:
    for i in range(0, 40, 2):
        run(api, ws, "write_page", {"pageName": f"p/{i:02}", "content": str(i)})
    run(api, ws, "write_page", {"pageName": "q", "content": "other"})
    seen: list[str] = []
    cursor = None
    step = 0
    while True:
        inp: dict[str, Any] = {"prefix": "p/", "limit": 6}
        if cursor:
            inp["cursor"] = cursor
        out = run(api, ws, "list_pages", inp)
        seen += [p["pageName"] for p in out["pages"]]
        run(api, ws, "write_page", {"pageName": f"p/{step * 12 + 13:02}", "content": "late"})
        step += 1
        cursor = out["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen)) and all(n.startswith("p/") for n in seen)
    assert {f"p/{i:02}" for i in range(0, 40, 2)} <= set(seen)
    fail(api, ws, "list_pages", {"cursor": "%%%"}, 400, "VALIDATION_ERROR", "input.cursor")
    assert len(run(api, ws, "list_pages", {"limit": 99999})["pages"]) > 20


def test_search_pages(api: Api, ws: str) -> None:
    run(api, ws, "write_page", {"pageName": "plan", "content": "x " * 200 + "Ship the Café "
                                "release on Friday; Alice's review first."})  # fmt: skip
    run(api, ws, "write_page", {"pageName": "alice-notes", "content": "todo: tea"})
    out = run(api, ws, "search_pages", {"query": "alice"})
    assert [r["pageName"] for r in out["results"]] == ["alice-notes", "plan"]
    plan = out["results"][1]
    assert set(plan) == {"pageName", "snippet", "updatedAt"}
    assert "Alice's" in plan["snippet"] and plan["snippet"].startswith("…")
    assert [r["pageName"] for r in run(api, ws, "search_pages", {"query": "CAFE fri"})[
        "results"]] == ["plan"]  # fmt: skip
    assert run(api, ws, "search_pages", {"query": "cafe tea"})["results"] == []
    for query in ['"', "*", "OR", "NEAR(", ":*", "&|!", "'x':*", "a | b", "(", "{name}:x"]:
        assert set(run(api, ws, "search_pages", {"query": query})) == {"results", "nextCursor"}
    # appends are searchable, paging by cursor
    for i in range(7):
        run(api, ws, "append_page", {"pageName": f"log{i}", "content": "deploy started "})
    seen: list[str] = []
    cursor = None
    while True:
        inp: dict[str, Any] = {"query": "deploy", "limit": 3}
        if cursor:
            inp["cursor"] = cursor
        out = run(api, ws, "search_pages", inp)
        seen += [r["pageName"] for r in out["results"]]
        cursor = out["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"log{i}" for i in range(7)]


def test_limits_and_bad_names(api: Api, ws: str, settings: Any) -> None:
    limit = settings.scratchpad_max_page_bytes
    big = "x" * (limit - 10)
    run(api, ws, "write_page", {"pageName": "big", "content": big})
    body = fail(api, ws, "append_page", {"pageName": "big", "content": "y" * 11}, 413,
                "PAYLOAD_TOO_LARGE")  # fmt: skip
    assert body["details"]["limit"] == limit
    assert run(api, ws, "append_page", {"pageName": "big", "content": "y" * 10})["size"] == limit
    assert run(api, ws, "read_page", {"pageName": "big"})["size"] == limit
    fail(api, ws, "write_page", {"pageName": "w", "content": "z" * (limit + 1)}, 413,
         "PAYLOAD_TOO_LARGE")  # fmt: skip
    for name in ["", "a\nb", "a\x00b", "x" * 257, "tab\there"]:
        fail(api, ws, "write_page", {"pageName": name, "content": "c"}, 400, "VALIDATION_ERROR",
             "input.pageName")  # fmt: skip
    fail(api, ws, "write_page", {"pageName": "n", "content": "a\x00"}, 400, "VALIDATION_ERROR")
    fail(api, ws, "clear_all", {"all": True}, 400, "VALIDATION_ERROR")
    # hostile but valid names are plain text
    for name in ["../x", "'; DROP TABLE scratch_pages; --", "<b>x</b>", "名前 ü"]:
        run(api, ws, "write_page", {"pageName": name, "content": name})
        assert run(api, ws, "read_page", {"pageName": name})["content"] == name
