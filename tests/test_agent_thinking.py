"""Sequential Thinking (API.md, "Agent tools"): chains, branches, revisions, the summary, error
reasons and limits, on every backend combination."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api, error_body

pytestmark = pytest.mark.conformance

T = "sequential-thinking"
M = "agent-memory"


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("think")
    api.add_integration(ws, T, "think", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, M, "mem", {"persistence": {"scope": "workspace"}})
    return ws


def run(api: Api, ws: str, action: str, input: Any) -> Any:
    return api.output(T, action, ws, input, integrationAlias="think")


def fail(
    api: Api, ws: str, action: str, input: Any, status: int, code: str, field: Any = None
) -> Any:
    resp = api.execute(T, action, ws, input, integrationAlias="think")
    return error_body(resp, status, code, field)


def test_chain_branch_revise_summary(api: Api, ws: str) -> None:
    out = run(api, ws, "add_thought", {"chainId": "c", "content": "first"})
    assert out["chainId"] == "c" and out["length"] == 1
    thought = out["thought"]
    assert set(thought) == {"thoughtId", "content", "branchName", "branchFrom", "revisions",
                            "previous", "createdAt", "updatedAt"}  # fmt: skip
    assert thought["thoughtId"] == 1 and thought["branchName"] is None
    assert thought["branchFrom"] is None and thought["revisions"] == 0 and thought["previous"] == []
    assert run(api, ws, "add_thought", {"chainId": "c", "content": "second"})["length"] == 2
    out = run(api, ws, "branch_thought", {"chainId": "c", "thoughtId": 1.0, "branchName": "alt",
                                          "content": "what if"})  # fmt: skip
    assert out["chainId"] == "c"
    assert out["thought"]["thoughtId"] == 3 and out["thought"]["branchName"] == "alt"
    assert out["thought"]["branchFrom"] == 1
    # continuing a branch keeps its origin
    out = run(api, ws, "branch_thought", {"chainId": "c", "thoughtId": 3, "branchName": "alt",
                                          "content": "then"})  # fmt: skip
    assert out["thought"]["thoughtId"] == 4 and out["thought"]["branchFrom"] == 1
    out = run(api, ws, "add_thought", {"chainId": "c", "content": "third"})
    assert out["thought"]["thoughtId"] == 5 and out["length"] == 3
    out = run(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 2, "content": "second v2"})
    out = run(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 2, "content": "second v3"})
    assert out["thought"]["content"] == "second v3" and out["thought"]["revisions"] == 2
    assert out["thought"]["previous"] == ["second", "second v2"]
    chain = run(api, ws, "get_chain", {"chainId": "c"})
    assert [t["thoughtId"] for t in chain["thoughts"]] == [1, 2, 5]
    assert chain["branches"] == [{"branchName": "alt", "branchFrom": 1, "length": 2}]
    full = run(api, ws, "get_chain", {"chainId": "c", "includeBranches": True})
    assert [t["thoughtId"] for t in full["thoughts"]] == [1, 2, 3, 4, 5]
    assert run(api, ws, "get_chain", {"chainId": "c", "includeBranches": None}) == chain
    summary = run(api, ws, "summarize_chain", {"chainId": "c"})
    assert summary["chainId"] == "c" and summary["thoughtCount"] == 5
    assert summary["branchCount"] == 1 and summary["revisionCount"] == 2
    assert summary["firstThought"]["content"] == "first"
    assert summary["lastThought"]["content"] == "third"
    assert [(b["branchName"], b["branchFrom"], b["length"], b["lastThought"]["content"])
            for b in summary["branches"]] == [("alt", 1, 2, "then")]  # fmt: skip
    # an unknown chain has no thoughts
    assert run(api, ws, "get_chain", {"chainId": "nope"}) == {
        "chainId": "nope", "thoughts": [], "branches": []}  # fmt: skip
    empty = run(api, ws, "summarize_chain", {"chainId": "nope"})
    assert empty["thoughtCount"] == 0 and empty["firstThought"] is None


def test_errors(api: Api, ws: str) -> None:
    run(api, ws, "add_thought", {"chainId": "c", "content": "one"})
    for action, inp in [
        ("branch_thought", {"chainId": "c", "thoughtId": 9, "branchName": "b", "content": "x"}),
        ("branch_thought", {"chainId": "z", "thoughtId": 1, "branchName": "b", "content": "x"}),
        ("revise_thought", {"chainId": "c", "thoughtId": 9, "content": "x"}),
        ("revise_thought", {"chainId": "z", "thoughtId": 1, "content": "x"}),
    ]:
        body = fail(api, ws, action, inp, 400, "ACTION_FAILED")
        assert body["details"]["reason"] == "THOUGHT_NOT_FOUND", (action, inp)
    fail(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 1.5, "content": "x"}, 400,
         "VALIDATION_ERROR", "input.thoughtId")  # fmt: skip
    fail(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 0, "content": "x"}, 400,
         "VALIDATION_ERROR", "input.thoughtId")  # fmt: skip
    # past a 32-bit id (PostgreSQL's INTEGER column): a 400 on every backend, not a 500
    fail(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 2**31, "content": "x"}, 400,
         "VALIDATION_ERROR", "input.thoughtId")  # fmt: skip
    fail(api, ws, "branch_thought", {"chainId": "c", "thoughtId": 16150214859, "branchName": "b",
                                     "content": "x"}, 400, "VALIDATION_ERROR",
         "input.thoughtId")  # fmt: skip
    fail(api, ws, "add_thought", {"chainId": "c", "content": "x" * (64 * 1024 + 1)}, 413,
         "PAYLOAD_TOO_LARGE")  # fmt: skip
    fail(api, ws, "add_thought", {"chainId": "", "content": "x"}, 400, "VALIDATION_ERROR",
         "input.chainId")  # fmt: skip
    fail(api, ws, "add_thought", {"chainId": "a\x00", "content": "x"}, 400, "VALIDATION_ERROR",
         "input.chainId")  # fmt: skip
    fail(api, ws, "add_thought", {"chainId": "c", "content": "\x00"}, 400, "VALIDATION_ERROR")
    # the failed calls took no ids: the next thought is 2
    assert run(api, ws, "add_thought", {"chainId": "c", "content": "two"})["thought"][
        "thoughtId"] == 2  # fmt: skip


def test_chain_limit(api: Api, ws: str, settings: Any, services: Any) -> None:
    # a small limit set on the running services (the setting is read per call)
    object.__setattr__(services.settings, "thinking_max_chain_thoughts", 3)
    for i in range(2):
        run(api, ws, "add_thought", {"chainId": "c", "content": str(i)})
    run(api, ws, "branch_thought", {"chainId": "c", "thoughtId": 1, "branchName": "b",
                                    "content": "x"})  # fmt: skip
    body = fail(api, ws, "add_thought", {"chainId": "c", "content": "4"}, 413,
                "PAYLOAD_TOO_LARGE")  # fmt: skip
    assert body["details"]["limit"] == 3
    fail(api, ws, "branch_thought", {"chainId": "c", "thoughtId": 1, "branchName": "b",
                                     "content": "x"}, 413, "PAYLOAD_TOO_LARGE")  # fmt: skip
    assert run(api, ws, "summarize_chain", {"chainId": "c"})["thoughtCount"] == 3
    # revisions are bounded too
    for i in range(100):
        run(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 1, "content": f"v{i}"})
    fail(api, ws, "revise_thought", {"chainId": "c", "thoughtId": 1, "content": "v"}, 413,
         "PAYLOAD_TOO_LARGE")  # fmt: skip


def test_idempotency_key_runs_a_write_once(api: Api, ws: str) -> None:
    """An exactly-once execute joins the agent tools' multi-statement writes to its own
    transaction (PostgreSQL: a savepoint of it), so a repeat replays the first answer."""
    inp = {"chainId": "once", "content": "only one"}
    first = api.execute(T, "add_thought", ws, inp, integrationAlias="think", idempotencyKey="k1")
    again = api.execute(T, "add_thought", ws, inp, integrationAlias="think", idempotencyKey="k1")
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["output"] == first.json()["output"]
    assert [t["content"] for t in run(api, ws, "get_chain", {"chainId": "once"})["thoughts"]] == [
        "only one"
    ]
    # a failing call under a key leaves nothing behind and takes no id
    bad = {"chainId": "once", "thoughtId": 7, "branchName": "b", "content": "x"}
    resp = api.execute(T, "branch_thought", ws, bad, integrationAlias="think", idempotencyKey="k2")
    assert error_body(resp, 400, "ACTION_FAILED")["details"]["reason"] == "THOUGHT_NOT_FOUND"
    out = api.execute(M, "create_entities", ws, {"entities": [{"name": "e", "type": "t"}]},
                      integrationAlias="mem", idempotencyKey="k3")  # fmt: skip
    assert out.status_code == 200, out.text
    assert run(api, ws, "add_thought", {"chainId": "once", "content": "two"})["thought"][
        "thoughtId"] == 2  # fmt: skip
