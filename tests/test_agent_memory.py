"""Agent Memory (API.md, "Agent tools"): every action's output and error reasons, all-or-nothing
batches, search rules (words, prefixes, case, diacritics, hostile queries), paging. Runs on
every backend combination; the same expectations hold for SQLite FTS5 and PostgreSQL tsvector.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, error_body

pytestmark = pytest.mark.conformance

M = "agent-memory"


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("mem")
    api.add_integration(ws, M, "memory", {"persistence": {"scope": "workspace"}})
    return ws


def run(api: Api, ws: str, action: str, input: Any) -> Any:
    return api.output(M, action, ws, input, integrationAlias="memory")


def fail(api: Api, ws: str, action: str, input: Any, status: int, code: str) -> Any:
    resp = api.execute(M, action, ws, input, integrationAlias="memory")
    return error_body(resp, status, code)


def names(entities: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in entities]


def seed(api: Api, ws: str) -> None:
    run(api, ws, "create_entities", {"entities": [
        {"name": "Alice", "type": "person", "observations": ["Alice's team ships the café app",
                                                             "likes tea"]},
        {"name": "Bob", "type": "person", "observations": ["works with alice on billing"]},
        {"name": "Acme", "type": "company", "observations": ["makes anvils"]},
    ]})  # fmt: skip
    run(api, ws, "create_relations", {"relations": [
        {"from": "Alice", "to": "Acme", "type": "works_at"},
        {"from": "Bob", "to": "Acme", "type": "works_at"},
        {"from": "Alice", "to": "Bob", "type": "mentors"},
    ]})  # fmt: skip


def test_create_entities_and_existing(api: Api, ws: str) -> None:
    out = run(api, ws, "create_entities", {"entities": [
        {"name": "Alice", "type": "person", "observations": ["a", "b", "a"]},
        {"name": "Bob", "type": "person"},
        {"name": "Alice", "type": "other"},
    ]})  # fmt: skip
    assert names(out["entities"]) == ["Alice", "Bob"]
    alice = out["entities"][0]
    assert alice["type"] == "person" and alice["observations"] == ["a", "b"]
    assert set(alice) == {"name", "type", "observations", "createdAt", "updatedAt"}
    assert out["existing"] == ["Alice"]
    again = run(api, ws, "create_entities", {"entities": [{"name": "Bob", "type": "robot"}]})
    assert again == {"entities": [], "existing": ["Bob"]}
    got = run(api, ws, "get_entity", {"name": "Bob"})
    assert got["entity"]["type"] == "person" and got["relations"] == []


def test_add_observations_dedup_and_all_or_nothing(api: Api, ws: str) -> None:
    run(api, ws, "create_entities", {"entities": [{"name": "A", "type": "t"}]})
    out = run(api, ws, "add_observations", {"observations": [
        {"entityName": "A", "contents": ["one", "two", "one"]},
    ]})  # fmt: skip
    assert out == {"results": [{"entityName": "A", "added": ["one", "two"]}]}
    out = run(api, ws, "add_observations", {"observations": [
        {"entityName": "A", "contents": ["two", "three"]},
    ]})  # fmt: skip
    assert out == {"results": [{"entityName": "A", "added": ["three"]}]}
    body = fail(api, ws, "add_observations", {"observations": [
        {"entityName": "A", "contents": ["four"]},
        {"entityName": "Nobody", "contents": ["x"]},
    ]}, 400, "ACTION_FAILED")  # fmt: skip
    assert body["details"]["reason"] == "ENTITY_NOT_FOUND"
    assert body["details"]["entityName"] == "Nobody"
    assert run(api, ws, "get_entity", {"name": "A"})["entity"]["observations"] == [
        "one", "two", "three"
    ]  # fmt: skip
    # a bad item anywhere in a batch: nothing written either
    resp = api.execute(M, "create_entities", ws, {"entities": [
        {"name": "B", "type": "t"}, {"name": "", "type": "t"},
    ]}, integrationAlias="memory")  # fmt: skip
    error_body(resp, 400, "VALIDATION_ERROR", "input.entities.1.name")
    assert (
        fail(api, ws, "get_entity", {"name": "B"}, 400, "ACTION_FAILED")["details"]["reason"]
        == "ENTITY_NOT_FOUND"
    )


def test_relations(api: Api, ws: str) -> None:
    seed(api, ws)
    out = run(api, ws, "create_relations", {"relations": [
        {"from": "Alice", "to": "Acme", "type": "works_at"},
        {"from": "Acme", "to": "Alice", "type": "employs"},
    ]})  # fmt: skip
    assert out["existing"] == 1
    assert [(r["from"], r["to"], r["type"]) for r in out["relations"]] == [
        ("Acme", "Alice", "employs")
    ]
    assert set(out["relations"][0]) == {"from", "to", "type", "createdAt"}
    body = fail(api, ws, "create_relations", {"relations": [
        {"from": "Alice", "to": "Bob", "type": "knows"},
        {"from": "Alice", "to": "Ghost", "type": "knows"},
    ]}, 400, "ACTION_FAILED")  # fmt: skip
    assert body["details"]["reason"] == "ENTITY_NOT_FOUND"
    got = run(api, ws, "get_entity", {"name": "Alice"})
    rels = {(r["from"], r["to"], r["type"]) for r in got["relations"]}
    assert rels == {
        ("Alice", "Acme", "works_at"),
        ("Alice", "Bob", "mentors"),
        ("Acme", "Alice", "employs"),
    }
    out = run(api, ws, "delete_relations", {"relations": [
        {"from": "Alice", "to": "Bob", "type": "mentors"},
        {"from": "Alice", "to": "Bob", "type": "mentors"},
        {"from": "Nobody", "to": "Bob", "type": "x"},
    ]})  # fmt: skip
    assert out == {"deleted": 1}


def test_delete_entities_and_observations(api: Api, ws: str) -> None:
    seed(api, ws)
    out = run(
        api,
        ws,
        "delete_observations",
        {"entityName": "Alice", "observations": ["likes tea", "never said"]},
    )
    assert out == {"entityName": "Alice", "deleted": 1}
    assert "likes" not in str(run(api, ws, "search", {"query": "likes"})["entities"])
    body = fail(api, ws, "delete_observations", {"entityName": "Ghost", "observations": ["x"]},
                400, "ACTION_FAILED")  # fmt: skip
    assert body["details"]["reason"] == "ENTITY_NOT_FOUND"
    assert run(api, ws, "delete_entities", {"names": ["Acme", "Ghost"]}) == {"deleted": 1}
    bob = run(api, ws, "get_entity", {"name": "Bob"})
    assert [(r["from"], r["to"]) for r in bob["relations"]] == [("Alice", "Bob")]
    assert run(api, ws, "search", {"query": "anvils"})["entities"] == []


def test_search_words_prefixes_case_and_rank(api: Api, ws: str) -> None:
    seed(api, ws)
    # "alice" finds "Alice's" (and Bob, whose observation says alice), name matches first
    out = run(api, ws, "search", {"query": "alice"})
    assert names(out["entities"]) == ["Alice", "Bob"]
    assert {(r["from"], r["to"]) for r in out["relations"]} == {("Alice", "Bob")}
    assert names(run(api, ws, "search", {"query": "ALI"})["entities"]) == ["Alice", "Bob"]
    # every word must match, across name, type and one observation
    assert names(run(api, ws, "search", {"query": "alice billing"})["entities"]) == ["Bob"]
    assert names(run(api, ws, "search", {"query": "person tea"})["entities"]) == ["Alice"]
    assert run(api, ws, "search", {"query": "alice anvils"})["entities"] == []
    # diacritics do not matter either way
    assert names(run(api, ws, "search", {"query": "cafe"})["entities"]) == ["Alice"]
    assert names(run(api, ws, "search", {"query": "Café"})["entities"]) == ["Alice"]
    assert names(run(api, ws, "search", {"query": "company"})["entities"]) == ["Acme"]


HOSTILE = ['"', "*", "OR", "NEAR(", ":*", "&|!", "alice OR bob", "a:* | b", "NOT alice", "'",
           "\\", "(alice", "alice)", "^", "-alice", "{name}: x", "scope:x", "'a':*", "a & !b",
           "near(a b)", "x" * 900]  # fmt: skip


def test_hostile_queries_are_text(api: Api, ws: str) -> None:
    run(api, ws, "create_entities", {"entities": [
        {"name": "or near", "type": "not", "observations": ["alice a b scope name x"]}
    ]})  # fmt: skip
    for query in HOSTILE:
        out = run(api, ws, "search", {"query": query})
        assert set(out) == {"entities", "relations", "nextCursor"}, query
    # the words of a hostile query still match as words
    assert names(run(api, ws, "search", {"query": "(alice"})["entities"]) == ["or near"]
    assert names(run(api, ws, "search", {"query": "NEAR("})["entities"]) == ["or near"]
    assert names(run(api, ws, "search", {"query": "NOT alice"})["entities"]) == ["or near"]
    assert run(api, ws, "search", {"query": "alice OR bob"})["entities"] == []


def test_search_paging_and_bad_cursor(api: Api, ws: str) -> None:
    run(api, ws, "create_entities", {"entities": [
        {"name": f"item{i:02}", "type": "thing", "observations": ["common word"] * (1 + i % 3)}
        for i in range(25)
    ]})  # fmt: skip
    seen: list[str] = []
    cursor = None
    while True:
        inp: dict[str, Any] = {"query": "common", "limit": 7}
        if cursor:
            inp["cursor"] = cursor
        out = run(api, ws, "search", inp)
        seen += names(out["entities"])
        cursor = out["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"item{i:02}" for i in range(25)]
    for bad in ("nope!", "WzEsMl0", "AA"):
        resp = api.execute(M, "search", ws, {"query": "x", "cursor": bad},
                           integrationAlias="memory")  # fmt: skip
        error_body(resp, 400, "VALIDATION_ERROR", "input.cursor")
    # limits: clamped above the maximum, 0 is a 400
    assert len(run(api, ws, "search", {"query": "item", "limit": 5000})["entities"]) == 25
    resp = api.execute(M, "search", ws, {"query": "x", "limit": 0}, integrationAlias="memory")
    error_body(resp, 400, "VALIDATION_ERROR", "input.limit")


def test_read_graph_pages_without_gaps_while_writing(api: Api, ws: str) -> None:
    run(api, ws, "create_entities", {"entities": [
        {"name": f"n{i:03}", "type": "t"} for i in range(0, 60, 2)
    ]})  # fmt: skip
    run(api, ws, "create_relations", {"relations": [
        {"from": "n000", "to": "n002", "type": "next"}
    ]})  # fmt: skip
    seen: list[str] = []
    cursor = None
    page = 0
    while True:
        inp: dict[str, Any] = {"limit": 8}
        if cursor:
            inp["cursor"] = cursor
        out = run(api, ws, "read_graph", inp)
        if page == 0:
            assert out["relations"][0]["from"] == "n000"
        seen += names(out["entities"])
        # writes between pages: new names after the cursor show up, the rest are not repeated
        run(api, ws, "create_entities", {"entities": [{"name": f"n{2 * page * 8 + 31:03}",
                                                       "type": "t"}]})  # fmt: skip
        page += 1
        cursor = out["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen))
    assert {f"n{i:03}" for i in range(0, 60, 2)} <= set(seen)
    assert len(run(api, ws, "read_graph", {"limit": 5000})["entities"]) >= 30


def test_limits_and_bad_input(api: Api, ws: str) -> None:
    def bad(action: str, input: Any, status: int, code: str, field: str | None) -> None:
        resp = api.execute(M, action, ws, input, integrationAlias="memory")
        error_body(resp, status, code, field)

    bad("create_entities", {"entities": [{"name": "x" * 257, "type": "t"}]}, 400,
        "VALIDATION_ERROR", "input.entities.0.name")  # fmt: skip
    bad("create_entities", {"entities": [{"name": "a\x00b", "type": "t"}]}, 400,
        "VALIDATION_ERROR", "input.entities.0.name")  # fmt: skip
    bad("create_entities", {"entities": [{"name": "a\nb", "type": "t"}]}, 400,
        "VALIDATION_ERROR", "input.entities.0.name")  # fmt: skip
    bad("create_entities", {"entities": [{"name": "a", "type": "t", "observations": ["\x00"]}]},
        400, "VALIDATION_ERROR", None)  # fmt: skip
    bad("create_entities", {"entities": [{"name": "a", "type": "t",
                                          "observations": ["x" * (16 * 1024 + 1)]}]},
        413, "PAYLOAD_TOO_LARGE", "input.entities.0.observations.0")  # fmt: skip
    bad("create_entities", {"entities": [{"name": f"e{i}", "type": "t"} for i in range(1001)]},
        400, "VALIDATION_ERROR", "input.entities")  # fmt: skip
    bad("create_entities", {"entities": [{"name": "a", "entityType": "t"}]}, 400,
        "VALIDATION_ERROR", None)  # fmt: skip
    bad("get_entity", {"name": "ghost"}, 400, "ACTION_FAILED", None)
    bad("search", {}, 400, "VALIDATION_ERROR", "input.query")
    assert run(api, ws, "search", {"query": ""})["entities"] == []
    # an observation of exactly 16 KiB is fine, multi-byte text counted in bytes
    text = "é" * (8 * 1024)
    out = run(
        api,
        ws,
        "create_entities",
        {"entities": [{"name": "big", "type": "t", "observations": [text]}]},
    )
    assert out["entities"][0]["observations"] == [text]
    # nulls mean the defaults
    assert run(api, ws, "read_graph", {"limit": None, "cursor": None})["nextCursor"] is None
