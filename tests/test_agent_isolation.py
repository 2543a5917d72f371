"""The agent tools' data stays in its cell (workspace x scope x owner), end-user erase removes
it and reports it, usage counts it, and deleting a workspace removes its rows."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.helpers import Api, Cell, isolation_cells

pytestmark = pytest.mark.conformance


def write_everything(api: Api, ws: str, user: str) -> None:
    """Two entities (one relation), one page and one thought for end user ``user``."""

    def run(kind: str, action: str, inp: Any) -> None:
        api.output(kind, action, ws, inp, integrationAlias=kind, endUserId=user)

    run("agent-memory", "create_entities", {"entities": [
        {"name": "me", "type": "cell", "observations": [f"secret {user}"]},
        {"name": f"only-{user}", "type": "cell"},
    ]})  # fmt: skip
    run("agent-memory", "create_relations",
        {"relations": [{"from": "me", "to": f"only-{user}", "type": "owns"}]})  # fmt: skip
    run("agent-scratchpad", "write_page", {"pageName": "p", "content": f"page {user}"})
    run("sequential-thinking", "add_thought", {"chainId": "c", "content": f"thought {user}"})


def cells_for_all(api: Api) -> list[Cell]:
    """The twelve cells of tests.helpers.isolation_cells, with all three agent integrations
    under the same aliases' persistence settings (one alias per kind and setting)."""
    cells = isolation_cells(api, "agent-memory")
    seen: set[str] = set()
    for cell in cells:
        if cell.ws in seen:
            continue
        seen.add(cell.ws)
        for kind in ("agent-scratchpad", "sequential-thinking"):
            for alias, settings in (
                ("users", None),
                ("shared", {"persistence": {"scope": "workspace"}}),
                ("tenant-123", {"persistence": {"scope": "external", "externalId": "tenant_123"}}),
                ("tenant-456", {"persistence": {"scope": "external", "externalId": "tenant_456"}}),
            ):
                api.add_integration(cell.ws, kind, f"{kind[:5]}-{alias}", settings)
    return cells


def extra_for(cell: Cell, kind: str) -> dict[str, Any]:
    ex = cell.extra()
    if kind != "agent-memory":
        ex["integrationAlias"] = f"{kind[:5]}-{cell.alias}"
    return ex


def test_cells_never_mix(api: Api) -> None:
    cells = cells_for_all(api)
    for i, cell in enumerate(cells):
        ex = {k: extra_for(cell, k) for k in ("agent-memory", "agent-scratchpad",
                                             "sequential-thinking")}  # fmt: skip
        api.output("agent-memory", "create_entities", cell.ws, {"entities": [
            {"name": "me", "type": "cell", "observations": [f"secret{i}"]}]},
            **ex["agent-memory"])  # fmt: skip
        api.output("agent-scratchpad", "append_page", cell.ws,
                   {"pageName": "p", "content": f"page{i}"}, **ex["agent-scratchpad"])  # fmt: skip
        api.output("sequential-thinking", "add_thought", cell.ws,
                   {"chainId": "c", "content": f"t{i}"}, **ex["sequential-thinking"])  # fmt: skip
    for i, cell in enumerate(cells):
        ex = {k: extra_for(cell, k) for k in ("agent-memory", "agent-scratchpad",
                                             "sequential-thinking")}  # fmt: skip
        graph = api.output("agent-memory", "read_graph", cell.ws, {}, **ex["agent-memory"])
        assert [e["observations"] for e in graph["entities"]] == [[f"secret{i}"]], cell
        found = api.output("agent-memory", "search", cell.ws, {"query": "secret"},
                           **ex["agent-memory"])  # fmt: skip
        assert len(found["entities"]) == 1, cell
        page = api.output("agent-scratchpad", "read_page", cell.ws, {"pageName": "p"},
                          **ex["agent-scratchpad"])  # fmt: skip
        assert page["content"] == f"page{i}", cell
        hits = api.output("agent-scratchpad", "search_pages", cell.ws, {"query": "page"},
                          **ex["agent-scratchpad"])  # fmt: skip
        assert len(hits["results"]) == 1, cell
        chain = api.output("sequential-thinking", "get_chain", cell.ws, {"chainId": "c"},
                           **ex["sequential-thinking"])  # fmt: skip
        assert [(t["thoughtId"], t["content"]) for t in chain["thoughts"]] == [(1, f"t{i}")]


def test_erase_usage_and_workspace_delete(api: Api, services: Any) -> None:
    ws = api.create_workspace("erase")
    for kind in ("agent-memory", "agent-scratchpad", "sequential-thinking"):
        api.add_integration(ws, kind, kind, None)
        api.add_integration(ws, kind, f"{kind}-shared", {"persistence": {"scope": "workspace"}})
    alice = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "alice"}, 201)
    bob = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "bob"}, 201)
    for user in ("alice", "bob"):
        write_everything(api, ws, user)
    # the workspace-scoped copy must survive alice's erase
    api.output("agent-memory", "create_entities", ws, {"entities": [{"name": "s", "type": "t"}]},
               integrationAlias="agent-memory-shared")  # fmt: skip
    usage = api.ok("GET", f"/api/v1/end-users/{alice['endUser']['id']}/usage")["usage"]
    assert usage["items"] == 4  # two entities, one page, one thought
    out = api.ok("DELETE", f"/api/v1/end-users/{alice['endUser']['id']}",
                 params={"eraseData": "true"})  # fmt: skip
    assert out["erased"]["items"] == 4
    bob_usage = api.ok("GET", f"/api/v1/end-users/{bob['endUser']['id']}/usage")["usage"]
    assert bob_usage["items"] == 4
    for kind, action, inp in [
        ("agent-memory", "read_graph", {}),
        ("agent-scratchpad", "list_pages", {}),
        ("sequential-thinking", "get_chain", {"chainId": "c"}),
    ]:
        gone = api.output(kind, action, ws, inp, integrationAlias=kind, endUserId="alice")
        kept = api.output(kind, action, ws, inp, integrationAlias=kind, endUserId="bob")
        assert not any(v for k, v in gone.items() if isinstance(v, list)), (kind, gone)
        assert any(v for k, v in kept.items() if isinstance(v, list)), (kind, kept)
    assert (
        api.output(
            "agent-memory",
            "search",
            ws,
            {"query": "secret alice"},
            integrationAlias="agent-memory",
            endUserId="alice",
        )["entities"]
        == []
    )
    # erase through the workspace route, for an id that was never registered
    write_everything(api, ws, "carol")
    out = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "carol"})
    assert out["erased"]["items"] == 4
    assert api.output("agent-memory", "read_graph", ws, {}, integrationAlias="agent-memory-shared"
                      )["entities"][0]["name"] == "s"  # fmt: skip
    # deleting the workspace deletes every agent-tool row it had
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    meta = services.meta

    async def counts() -> list[int]:
        return [
            await store.count(ws, ns)
            for store in (meta.memory, meta.scratchpad, meta.thinking)
            for ns in ("u:bob", "w")
        ]

    assert asyncio.run(counts()) == [0] * 6
