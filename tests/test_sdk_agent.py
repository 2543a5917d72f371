"""The Python SDK's agent-tool helpers (``client.memory()``, ``client.scratchpad()``,
``client.thinking()``): scenarios against the real app with the sync and async client (same
harness as tests/test_sdk_layer.py), and on the wire: reads carry no idempotency key, every
write a fresh one that its retries reuse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from cubby_client import BadRequestError, PayloadTooLargeError

from tests import test_sdk_transport as transport
from tests.test_sdk_layer import WORKSPACE, _workspace
from tests.test_sdk_resources import (  # noqa: F401 - sdk_fixture provides `sdk`
    AnyClient,
    MakeClient,
    aw,
    collect,
    raises,
    sdk_fixture,
)
from tests.test_sdk_transport import Scripted, error, ok

mode, script = transport.mode, transport.script  # the scripted-server fixtures


async def memory_scenario(c: AnyClient) -> None:
    ws = await _workspace(c, "sdk-memory", ("agent-memory", "memory", WORKSPACE),
                          ("agent-memory", "mine", None))  # fmt: skip
    memory = c.memory(ws)
    made = await aw(memory.create_entities([
        {"name": "Alice", "type": "person", "observations": ["Alice's city is Paris"]},
        {"name": "Acme", "type": "company"},
    ]))  # fmt: skip
    assert [e["name"] for e in made["entities"]] == ["Alice", "Acme"] and made["existing"] == []
    again = await aw(memory.create_entities([{"name": "Alice", "type": "robot"}]))
    assert again == {"entities": [], "existing": ["Alice"]}
    assert await aw(memory.add_observations("Alice", ["likes tea", "likes tea"])) == ["likes tea"]
    assert await aw(memory.add_observations("Alice", ["likes tea"])) == []
    assert await aw(memory.relate("Alice", "Acme", "works_at")) is True
    assert await aw(memory.relate("Alice", "Acme", "works_at")) is False
    got = await aw(memory.get("Alice"))
    assert got["entity"]["observations"] == ["Alice's city is Paris", "likes tea"]
    assert [(r["from"], r["to"], r["type"]) for r in got["relations"]] == [
        ("Alice", "Acme", "works_at")
    ]
    found = await aw(memory.search("alice PARI"))
    assert [e["name"] for e in found["entities"]] == ["Alice"] and found["nextCursor"] is None

    err = await raises(BadRequestError, lambda: memory.add_observations("Nobody", ["x"]))
    assert err.code == "ACTION_FAILED" and err.reason == "ENTITY_NOT_FOUND"
    err = await raises(BadRequestError, lambda: memory.get("Nobody"))
    assert err.reason == "ENTITY_NOT_FOUND"

    # paging: entities() walks every page of read_graph in name order
    await aw(memory.create_entities([{"name": f"n{i:02d}", "type": "t"} for i in range(25)]))
    names = [e["name"] async for e in _aiter(memory.entities(page_size=7))]
    assert names == sorted(["Alice", "Acme", *[f"n{i:02d}" for i in range(25)]])
    first = await aw(memory.graph(limit=2))
    assert len(first["entities"]) == 2 and first["nextCursor"]

    assert await aw(memory.delete_observations("Alice", ["likes tea", "absent"])) == 1
    assert await aw(memory.delete_relations([{"from": "Alice", "to": "Acme", "type": "x"}])) == 0
    assert await aw(memory.delete_entities(["Acme", "absent"])) == 1
    assert (await aw(memory.get("Alice")))["relations"] == []  # Acme's relations went too

    # an end_user alias: each end user has their own memory
    alice, bob = c.memory(ws, "mine", end_user_id="alice"), c.memory(ws, "mine", end_user_id="bob")
    await aw(alice.create_entities([{"name": "secret", "type": "note"}]))
    assert (await aw(bob.search("secret")))["entities"] == []
    assert [e["name"] for e in (await aw(alice.search("secret")))["entities"]] == ["secret"]


async def scratchpad_scenario(c: AnyClient) -> None:
    ws = await _workspace(c, "sdk-pad", ("agent-scratchpad", "scratchpad", WORKSPACE))
    pad = c.scratchpad(ws)
    info = await aw(pad.write("plans/today", "Write the report"))
    assert info["pageName"] == "plans/today" and info["size"] == len("Write the report")
    await aw(pad.append("plans/today", "\nand send it"))
    assert await aw(pad.read("plans/today")) == "Write the report\nand send it"
    page = await aw(pad.page("plans/today"))
    assert page["content"].endswith("send it") and page["size"] == len(page["content"])
    await aw(pad.append("log", "é"))  # append creates a missing page; size is UTF-8 bytes
    assert (await aw(pad.page("log")))["size"] == 2
    await asyncio.gather(*(aw(pad.append("log", f"[{i}]")) for i in range(8)))
    log = await aw(pad.read("log"))
    assert sorted(log[1:].replace("]", "] ").split()) == sorted(f"[{i}]" for i in range(8))

    assert [p["pageName"] for p in await collect(pad.pages(page_size=1))] == [
        "log",
        "plans/today",
    ]
    assert [p["pageName"] for p in await collect(pad.pages("plans/"))] == ["plans/today"]
    hits = await aw(pad.search("REPORT sen"))
    assert [h["pageName"] for h in hits] == ["plans/today"]

    err = await raises(BadRequestError, lambda: pad.read("missing"))
    assert err.reason == "PAGE_NOT_FOUND"
    assert await aw(pad.delete("log")) is True
    assert await aw(pad.delete("log")) is False
    assert await aw(pad.clear()) == 1
    assert await collect(pad.pages()) == []


async def thinking_scenario(c: AnyClient) -> None:
    ws = await _workspace(c, "sdk-think", ("sequential-thinking", "thinking", WORKSPACE))
    think = c.thinking(ws)
    first = await aw(think.add("plan", "Understand the problem"))
    assert first["thought"]["thoughtId"] == 1 and first["length"] == 1
    await aw(think.add("plan", "Try A"))
    branched = await aw(think.branch("plan", 2, "b", "Try B"))
    assert (branched["branchName"], branched["branchFrom"]) == ("b", 2)
    revised = await aw(think.revise("plan", 1, "Restate it"))
    assert revised["previous"] == ["Understand the problem"] and revised["revisions"] == 1

    chain = await aw(think.chain("plan"))
    assert [t["content"] for t in chain["thoughts"]] == ["Restate it", "Try A"]
    assert [(b["branchName"], b["branchFrom"], b["length"]) for b in chain["branches"]] == [
        ("b", 2, 1)
    ]
    every = await aw(think.chain("plan", include_branches=True))
    assert [t["thoughtId"] for t in every["thoughts"]] == [1, 2, 3]
    summary = await aw(think.summary("plan"))
    assert (summary["thoughtCount"], summary["branchCount"], summary["revisionCount"]) == (3, 1, 1)
    assert (await aw(think.chain("unknown")))["thoughts"] == []

    err = await raises(BadRequestError, lambda: think.revise("plan", 99, "x"))
    assert err.reason == "THOUGHT_NOT_FOUND"
    big = "x" * (64 * 1024 + 1)
    await raises(PayloadTooLargeError, lambda: think.add("plan", big))


async def _aiter(items: Any) -> Any:
    if hasattr(items, "__aiter__"):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


SCENARIOS = {
    "memory": memory_scenario,
    "scratchpad": scratchpad_scenario,
    "thinking": thinking_scenario,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_agent_scenario(scenario: str, sdk: tuple[AnyClient, MakeClient]) -> None:
    client, _ = sdk
    asyncio.run(SCENARIOS[scenario](client))


def _executed(output: Any) -> Any:
    return ok({"success": True, "output": output, "duration": 1})


def test_reads_carry_no_key_writes_a_fresh_one(script: Callable[..., Scripted]) -> None:
    graph = {"entities": [], "relations": [], "nextCursor": None}
    page = {"pageName": "p", "size": 1, "createdAt": "t", "updatedAt": "t"}
    chain = {"chainId": "c", "thoughts": [], "branches": []}
    s = script(
        [
            _executed({"entities": [], "existing": []}),
            _executed(graph),
            _executed(graph),
            _executed(page),
            _executed({**page, "content": "x"}),
            _executed({"pages": [], "nextCursor": None}),
            _executed({"results": []}),
            _executed(chain),
            _executed({"chainId": "c", "thoughtCount": 0}),
            _executed({"deleted": 0}),
        ]
    )

    async def calls(c: Any) -> None:
        memory, pad, think = c.memory("w"), c.scratchpad("w"), c.thinking("w", alias=None)
        await aw(memory.create_entities([{"name": "a", "type": "t"}]))
        await aw(memory.search("a"))
        await aw(memory.graph())
        await aw(pad.append("p", "x"))
        await aw(pad.read("p"))
        await collect(pad.pages())
        await aw(pad.search("x"))
        await aw(think.chain("c"))
        await aw(think.summary("c"))
        await aw(memory.delete_entities(["a"]))

    s.run(lambda c: calls(c))
    bodies = s.bodies()
    assert [(b["integrationName"], b["actionName"]) for b in bodies] == [
        ("agent-memory", "create_entities"),
        ("agent-memory", "search"),
        ("agent-memory", "read_graph"),
        ("agent-scratchpad", "append_page"),
        ("agent-scratchpad", "read_page"),
        ("agent-scratchpad", "list_pages"),
        ("agent-scratchpad", "search_pages"),
        ("sequential-thinking", "get_chain"),
        ("sequential-thinking", "summarize_chain"),
        ("agent-memory", "delete_entities"),
    ]
    assert [b.get("integrationAlias") for b in bodies[:4]] == ["memory"] * 3 + ["scratchpad"]
    assert "integrationAlias" not in bodies[7]  # alias=None: the only one of its kind
    keys = [b.get("idempotencyKey") for b in bodies]
    writes = [keys[0], keys[3], keys[9]]
    assert all(writes) and len(set(writes)) == 3
    assert [k for i, k in enumerate(keys) if i not in (0, 3, 9)] == [None] * 7


def test_a_write_is_retried_with_its_key(script: Callable[..., Scripted]) -> None:
    added = {"results": [{"entityName": "a", "added": ["x"]}]}
    s = script([error(503, "UNAVAILABLE"), _executed(added)])
    assert s.run(lambda c: c.memory("w").add_observations("a", ["x"])) == ["x"]
    keys = [b["idempotencyKey"] for b in s.bodies()]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
