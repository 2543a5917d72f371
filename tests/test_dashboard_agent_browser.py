"""The agent-tool pages in real Chromium (issue 23): an agent-memory integration's entities
(browse, search, paging, one entity with its observations, relations and the SVG picture of its
neighbourhood, every edit), an agent-scratchpad's pages (view, edit, append, search, delete), a
sequential-thinking chain as a tree with branches and revisions, and the end-user picker.

Hostile names and contents (markup, quotes, right-to-left text) must show as text: the tests
check the literal text on the page and that nothing they carry ran (``window.__xss``). The JSON
API is asked after each edit whether it agrees with what the page did.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api
from tests.test_dashboard_browser import Tab, _pick, _run, browser, http, server, tab  # noqa: F401

pytestmark = pytest.mark.slow

SHARED = {"persistence": {"scope": "workspace"}}
HOSTILE = "<script>window.__xss=1</script>\"quoted\" 'single'"
HOSTILE_TEXT = '<img src=x onerror="window.__xss=2"> & <b>bold</b>'
RTL = "שלום עולם مرحبا"


def _out(api: Api, kind: str, action: str, ws: str, body: dict[str, Any], **kw: Any) -> Any:
    return api.output(kind, action, ws, body, **kw)


def _memory(api: Api, ws: str, action: str, body: dict[str, Any], **kw: Any) -> Any:
    return _out(api, "agent-memory", action, ws, body, integrationAlias="memory", **kw)


def _open(on: Tab, ws: str, alias: str, page_name: str) -> None:
    on.go(f"/ui/workspaces/{ws}")
    row = on.page.locator("#integrations tr", has_text=alias).first
    href = row.locator(f"a[href$='/{page_name}']").get_attribute("href")
    assert href is not None
    on.go(href)


def _no_script_ran(on: Tab) -> None:
    assert on.page.evaluate("window.__xss") is None


def _texts(on: Tab, selector: str) -> list[str]:
    """textContent of every match (SVG elements have no innerText)."""
    found = on.page.locator(selector).evaluate_all("els => els.map(e => e.textContent)")
    return [str(text) for text in found]


def test_memory_browse_search_edit_and_graph(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("agent-memory-ui")
    http.add_integration(ws, "agent-memory", "memory", SHARED)
    _memory(http, ws, "create_entities", {"entities": [
        {"name": "Alice", "type": "person", "observations": ["Alice's favourite city is Paris"]},
        {"name": "Acme", "type": "company", "observations": []},
        {"name": HOSTILE, "type": "<i>type</i>", "observations": [HOSTILE_TEXT, RTL]},
        {"name": RTL, "type": "place"},
    ]})  # fmt: skip
    _memory(http, ws, "create_relations", {"relations": [
        {"from": "Alice", "to": "Acme", "type": "works_at"},
        {"from": HOSTILE, "to": "Alice", "type": "<knows>"},
        {"from": "Alice", "to": RTL, "type": "visited"},
    ]})  # fmt: skip
    page = tab.page
    tab.sign_in(http.key)
    _open(tab, ws, "memory", "memory")
    tab.check("agent-memory-list")
    table = page.locator("table.entities")
    assert HOSTILE in table.inner_text() and RTL in table.inner_text()
    assert "works_at → Acme" in table.inner_text()
    _no_script_ran(tab)

    # search: case-insensitive, a word matches the start of a longer one
    page.fill("#memory-q", "ALICE pari")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("table.entities")
    names = page.locator("table.entities tbody td:first-child").all_inner_texts()
    assert names == ["Alice"]
    tab.check("agent-memory-search")

    # one entity: observations, relations and the picture of its neighbourhood
    page.click("table.entities a:text-is('Alice')")
    page.wait_for_selector("svg.graph-picture")
    tab.check("agent-memory-entity")
    labels = _texts(tab, "svg.graph-picture .node title")
    assert sorted(labels) == sorted(["Alice", "Acme", HOSTILE, RTL])
    edges = _texts(tab, "svg.graph-picture .edge title")
    assert sorted(edges) == sorted(
        ["Alice works_at Acme", f"{HOSTILE} <knows> Alice", f"Alice visited {RTL}"]
    )
    assert page.locator("svg.graph-picture line").count() == 3
    _no_script_ran(tab)

    # add observations (one per line), then delete one
    page.fill("#add-obs", "likes tea\n" + HOSTILE_TEXT)
    page.click("form[action$='/memory/observe'] button")
    page.wait_for_selector("p.flash:has-text('Added 2 observation')")
    got = _memory(http, ws, "get_entity", {"name": "Alice"})["entity"]["observations"]
    assert got == ["Alice's favourite city is Paris", "likes tea", HOSTILE_TEXT]
    page.locator("ol.observations li", has_text="likes tea").locator("button").click()
    page.wait_for_selector("p.flash:has-text('Deleted 1 observation')")
    got = _memory(http, ws, "get_entity", {"name": "Alice"})["entity"]["observations"]
    assert "likes tea" not in got and HOSTILE_TEXT in got
    _no_script_ran(tab)

    # relate to an entity made in the list page's form, then delete that relation
    _open(tab, ws, "memory", "memory")
    page.fill("#new-entity-name", "Bob")
    page.fill("#new-entity-type", "person")
    page.fill("#new-entity-obs", "new here\nlikes chess")
    page.click("form[action$='/memory/create'] button")
    page.wait_for_selector("h1:has-text('Bob')")
    bob = _memory(http, ws, "get_entity", {"name": "Bob"})["entity"]
    assert (bob["type"], bob["observations"]) == ("person", ["new here", "likes chess"])
    page.fill("#rel-type", "knows")
    page.fill("#rel-to", "Alice")
    page.click("form[action$='/memory/relate'] button")
    page.wait_for_selector("p.flash:has-text('Related')")
    rels = _memory(http, ws, "get_entity", {"name": "Bob"})["relations"]
    assert [(r["from"], r["to"], r["type"]) for r in rels] == [("Bob", "Alice", "knows")]
    assert page.locator("svg.graph-picture line").count() == 1
    page.locator("table.relations tr", has_text="knows").locator("button").click()
    page.wait_for_selector("p.flash:has-text('Deleted 1 relation')")
    assert _memory(http, ws, "get_entity", {"name": "Bob"})["relations"] == []

    # delete the entity (after the confirm dialog)
    page.click("form[action$='/memory/delete'] button")
    page.wait_for_selector("p.flash:has-text('Deleted Bob')")
    assert tab.dialogs and tab.dialogs[-1].startswith("confirm")
    found = http.execute("agent-memory", "get_entity", ws, {"name": "Bob"},
                         integrationAlias="memory")  # fmt: skip
    assert found.status_code == 400 and found.json()["details"]["reason"] == "ENTITY_NOT_FOUND"


def test_memory_pages_without_duplicates_or_gaps(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("agent-memory-paging")
    http.add_integration(ws, "agent-memory", "memory", SHARED)
    names = [f"entity-{i:03d}" for i in range(120)]
    _memory(http, ws, "create_entities",
            {"entities": [{"name": n, "type": "thing"} for n in names]})  # fmt: skip
    tab.sign_in(http.key)
    _open(tab, ws, "memory", "memory")
    seen: list[str] = []
    while True:
        seen += tab.page.locator("table.entities tbody td:first-child").all_inner_texts()
        more = tab.page.locator("a[rel=next]")
        if more.count() == 0:
            break
        more.click()
        tab.page.wait_for_load_state("load")
    assert seen == names
    tab.check("agent-memory-last-page")


def test_scratchpad_view_edit_append_search(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("agent-pages-ui")
    http.add_integration(ws, "agent-scratchpad", "scratchpad", SHARED)

    def pad(action: str, body: dict[str, Any]) -> Any:
        return _out(http, "agent-scratchpad", action, ws, body, integrationAlias="scratchpad")

    pad("write_page", {"pageName": HOSTILE, "content": HOSTILE_TEXT + "\n" + RTL})
    pad("write_page", {"pageName": "plans/today", "content": "Write the quarterly report"})
    page = tab.page
    tab.sign_in(http.key)
    _open(tab, ws, "scratchpad", "pages")
    tab.check("agent-pages-list")
    assert HOSTILE in page.locator("table.pages").inner_text()

    page.locator("table.pages a").first.click()  # "<" sorts before "p"
    page.wait_for_selector("pre.page-content")
    tab.check("agent-page-view")
    assert page.locator("h1").inner_text() == HOSTILE
    assert page.locator("pre.page-content").inner_text() == HOSTILE_TEXT + "\n" + RTL
    _no_script_ran(tab)

    # append, then edit (replace) the other page
    _open(tab, ws, "scratchpad", "pages")
    page.click("table.pages a:text-is('plans/today')")
    page.fill("#append-content", "\n- and send it")
    page.click("form[action$='/pages/append'] button")
    page.wait_for_selector("p.flash:has-text('Appended')")
    want = "Write the quarterly report\n- and send it"
    assert pad("read_page", {"pageName": "plans/today"})["content"] == want
    assert page.locator("pre.page-content").inner_text() == want
    page.fill("#page-editor", "Replaced\nline two")
    page.click("form[action$='/pages/write'] button")
    page.wait_for_selector("p.flash:has-text('Saved')")
    assert pad("read_page", {"pageName": "plans/today"})["content"] == "Replaced\nline two"
    tab.check("agent-page-edited")

    # search every word, case-insensitive and by prefix; then delete
    _open(tab, ws, "scratchpad", "pages")
    page.fill("#page-q", "REPLAC two")
    page.click("form[role=search] button")
    page.wait_for_selector("table.page-hits")
    assert page.locator("table.page-hits tbody a").all_inner_texts() == ["plans/today"]
    tab.check("agent-pages-search")
    page.click("table.page-hits a")
    page.click("form[action$='/pages/delete'] button")
    page.wait_for_selector("p.flash:has-text('Deleted plans/today')")
    listed = pad("list_pages", {})["pages"]
    assert [p["pageName"] for p in listed] == [HOSTILE]

    # a page that does not exist yet: an empty editor that creates it
    page.goto(page.url.split("/pages")[0] + "/page?name=notes%2Fnew")
    assert "no page with this name yet" in page.inner_text("main")
    page.fill("#page-editor", "first words")
    page.click("form[action$='/pages/write'] button")
    page.wait_for_selector("pre.page-content")
    assert pad("read_page", {"pageName": "notes/new"})["content"] == "first words"


def test_thought_chain_as_a_tree(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("agent-thinking-ui")
    http.add_integration(ws, "sequential-thinking", "thinking", SHARED)

    def think(action: str, body: dict[str, Any]) -> Any:
        return _out(http, "sequential-thinking", action, ws, body, integrationAlias="thinking")

    for text in ["Understand the problem", "Try approach A", HOSTILE_TEXT]:
        think("add_thought", {"chainId": "plan", "content": text})
    for text in ["Try B", RTL]:
        branch = {"chainId": "plan", "thoughtId": 2, "branchName": "approach-b"}
        think("branch_thought", {**branch, "content": text})
    think("revise_thought", {"chainId": "plan", "thoughtId": 1, "content": "Restate it"})
    page = tab.page
    tab.sign_in(http.key)
    _open(tab, ws, "thinking", "chains")
    page.fill("#chain-id", "plan")
    page.click("form[action$='/chains'] button")
    page.wait_for_selector("section.chain")
    tab.check("agent-chain-tree")
    _no_script_ran(tab)

    main = page.locator("section.chain > ol.thoughts > li.thought")
    assert main.count() == 3
    assert main.nth(0).locator(".thought-text").inner_text() == "Restate it"
    assert main.nth(0).locator("details.previous li").all_text_contents() == [
        "Understand the problem"
    ]
    assert main.nth(2).locator(".thought-text").inner_text() == HOSTILE_TEXT
    branch = main.nth(1).locator(".branch")
    assert "approach-b" in branch.locator(".branch-head").inner_text()
    assert branch.locator(".thought-text").all_inner_texts() == ["Try B", RTL]
    assert "5 thought(s), 1 branch(es), 1 revision(s)" in page.inner_text("section.chain")

    # add, branch and revise through the forms
    page.fill("#add-thought", "Decide")
    page.click("form[action$='/chains/add'] button")
    page.wait_for_selector("p.flash:has-text('Added thought 6')")
    page.fill("#branch-from", "6")
    page.fill("#branch-name", "second-opinion")
    page.fill("#branch-content", "Ask a colleague")
    page.click("form[action$='/chains/branch'] button")
    page.wait_for_selector("p.flash:has-text('on a branch')")
    page.fill("#revise-id", "6")
    page.fill("#revise-content", "Decide by Friday")
    page.click("form[action$='/chains/revise'] button")
    page.wait_for_selector("p.flash:has-text('Revised thought 6')")
    chain = think("get_chain", {"chainId": "plan"})
    assert [t["content"] for t in chain["thoughts"]][-1] == "Decide by Friday"
    last = page.locator("section.chain > ol.thoughts > li.thought").nth(3)
    assert last.locator(".thought-text").first.inner_text() == "Decide by Friday"
    assert "second-opinion" in last.locator(".branch").inner_text()
    tab.check("agent-chain-edited")


def test_end_user_picker_for_agent_memory(tab: Tab, http: Api) -> None:  # noqa: F811
    ws = http.create_workspace("agent-picker-ui")
    http.add_integration(ws, "agent-memory", "memory", None)  # end_user scope (the default)
    _memory(http, ws, "create_entities", {"entities": [{"name": "Alice's cat", "type": "pet"}]},
            endUserId="alice")  # fmt: skip
    page = tab.page
    tab.sign_in(http.key)
    _open(tab, ws, "memory", "memory")
    picker = page.locator("form.picker")
    assert picker.count() == 1 and page.locator("table.entities").count() == 0
    tab.check("agent-memory-picker")
    # the end users with data here are links (agent-tool owners too); typing an id works too
    assert page.locator("form.picker .hint a").all_inner_texts() == ["alice"]
    page.click("form.picker .hint a")
    page.wait_for_selector("table.entities")
    assert page.locator("table.entities tbody a").all_inner_texts() == ["Alice's cat"]
    page.fill("#endUser", "bob")
    page.click("form.picker button")
    page.wait_for_selector("table.entities")
    assert "No entities yet" in page.inner_text("table.entities")
    # an entity page without an end user goes to the picker first
    tab.go(page.url.split("/memory")[0].removeprefix(tab.base) + "/memory/entity?name=x")
    assert page.locator("form.picker").count() == 1
    assert page.locator("table.entities").count() == 0
    # the scratchpad and thinking pickers list their own owners
    http.add_integration(ws, "agent-scratchpad", "pad", None)
    http.add_integration(ws, "sequential-thinking", "think", None)
    _out(http, "agent-scratchpad", "write_page", ws, {"pageName": "todo", "content": "x"},
         integrationAlias="pad", endUserId="bob")  # fmt: skip
    _out(http, "sequential-thinking", "add_thought", ws, {"chainId": "c", "content": "t"},
         integrationAlias="think", endUserId="carol")  # fmt: skip
    for alias, page_name, owner, shown in (
        ("pad", "pages", "bob", "table.pages"),
        ("think", "chains", "carol", "form.picker"),
    ):
        _open(tab, ws, alias, page_name)
        assert page.locator("form.picker .hint a").all_inner_texts() == [owner]
        page.click("form.picker .hint a")
        page.wait_for_selector(shown)
        assert f"endUser={owner}" in page.url


def test_playground_forms_of_the_three_kinds(tab: Tab, http: Api) -> None:  # noqa: F811
    """The playground's forms come from the catalog props: lists of objects as JSON, numbers,
    checkboxes; a run answers what execute answers."""
    ws = http.create_workspace("agent-playground")
    http.add_integration(ws, "agent-memory", "memory", SHARED)
    http.add_integration(ws, "agent-scratchpad", "scratchpad", SHARED)
    http.add_integration(ws, "sequential-thinking", "thinking", SHARED)
    tab.sign_in(http.key)

    _pick(tab, ws, "memory", "create_entities")
    entities = '[{"name": "Ada", "type": "person", "observations": ["wrote the first program"]}]'
    ran = _run(tab, {"entities": entities})
    tab.check("agent-playground-memory")
    assert ran["status"] == 200, ran
    assert [e["name"] for e in ran["body"]["output"]["entities"]] == ["Ada"]
    _pick(tab, ws, "memory", "search")
    assert tab.page.locator("input[type=number][name='input.limit']").count() == 1
    ran = _run(tab, {"query": "ADA program"})
    assert [e["name"] for e in ran["body"]["output"]["entities"]] == ["Ada"]

    _pick(tab, ws, "scratchpad", "append_page")
    assert tab.page.locator("textarea[name='input.content']").count() == 1
    ran = _run(tab, {"pageName": "notes", "content": "first line"})
    tab.check("agent-playground-scratchpad")
    assert ran["status"] == 200 and ran["body"]["output"]["pageName"] == "notes"

    _pick(tab, ws, "thinking", "add_thought")
    assert _run(tab, {"chainId": "c1", "content": "one"})["status"] == 200
    _pick(tab, ws, "thinking", "revise_thought")
    ran = _run(tab, {"chainId": "c1", "thoughtId": "1", "content": "uno"})
    tab.check("agent-playground-thinking")
    assert ran["status"] == 200 and ran["body"]["output"]["thought"]["previous"] == ["one"]
    _pick(tab, ws, "thinking", "get_chain")
    assert tab.page.locator("input[type=checkbox][name='input.includeBranches']").count() == 1
    ran = _run(tab, {"chainId": "c1"})
    assert [t["content"] for t in ran["body"]["output"]["thoughts"]] == ["uno"]
    _pick(tab, ws, "thinking", "revise_thought")
    ran = _run(tab, {"chainId": "c1", "thoughtId": "9", "content": "x"})
    assert ran["status"] == 400 and ran["body"]["details"]["reason"] == "THOUGHT_NOT_FOUND"
