"""Versions, compare-and-set (``put {ifVersion}``) and ``increment``: semantics on every backend
combination (the concurrency proofs against live servers are in test_kv_counters.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api
from tests.test_kv_numbers import call, inp

pytestmark = pytest.mark.conformance


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("versions")
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    return ws


def kv(api: Api, ws: str, action: str, **input: Any) -> Any:
    return api.output("kv-store", action, ws, input)


def failure(api: Api, ws: str, action: str, **input: Any) -> dict[str, Any]:
    resp = api.execute("kv-store", action, ws, input)
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == "ACTION_FAILED"
    return dict(body["details"])


def test_every_change_bumps_the_version(api: Api, ws: str) -> None:
    assert kv(api, ws, "get", key="k")["version"] == 0
    assert kv(api, ws, "put", key="k", value=1)["version"] == 1
    assert kv(api, ws, "put", key="k", value=1)["version"] == 2  # same value: still a change
    assert kv(api, ws, "increment", key="k")["version"] == 3
    assert kv(api, ws, "put", key="k", value=[])["version"] == 4
    assert kv(api, ws, "add_to_list", key="k", value="a")["version"] == 5
    kv(api, ws, "remove_from_list", key="k", value="nope")  # removes nothing: no change
    assert kv(api, ws, "get", key="k")["version"] == 5
    kv(api, ws, "remove_from_list", key="k", value="a")
    assert kv(api, ws, "get", key="k")["version"] == 6
    kv(api, ws, "delete", key="k")
    assert kv(api, ws, "get", key="k")["version"] == 0
    assert kv(api, ws, "put", key="k", value="new")["version"] == 1


def test_if_version(api: Api, ws: str) -> None:
    assert kv(api, ws, "put", key="k", value="a", ifVersion=0)["version"] == 1
    details = failure(api, ws, "put", key="k", value="b", ifVersion=0)
    assert details == {"reason": "CONFLICT", "key": "k", "currentVersion": 1}
    assert failure(api, ws, "put", key="k", value="b", ifVersion=7)["currentVersion"] == 1
    assert kv(api, ws, "get", key="k")["value"] == "a"  # the failures changed nothing
    assert kv(api, ws, "put", key="k", value="b", ifVersion=1)["version"] == 2
    assert kv(api, ws, "put", key="k", value=["l"], ifVersion=2)["version"] == 3
    assert kv(api, ws, "get", key="k") == {
        "key": "k",
        "value": ["l"],
        "version": 3,
        "expiresAt": None,
    }
    assert failure(api, ws, "put", key="missing", value=1, ifVersion=1) == {
        "reason": "CONFLICT",
        "key": "missing",
        "currentVersion": 0,
    }
    assert kv(api, ws, "get", key="missing")["value"] is None
    assert kv(api, ws, "put", key="k2", value=1, ifVersion=None)["version"] == 1


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_bad_if_version_is_a_400(api: Api, ws: str, bad: Any) -> None:
    resp = api.execute("kv-store", "put", ws, {"key": "k", "value": 1, "ifVersion": bad})
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "input.ifVersion"


def test_increment(api: Api, ws: str) -> None:
    assert kv(api, ws, "increment", key="c") == {"key": "c", "value": 1, "version": 1}
    assert kv(api, ws, "increment", key="c", by=41)["value"] == 42
    assert kv(api, ws, "increment", key="c", by=-50)["value"] == -8
    assert kv(api, ws, "increment", key="c", by=None)["value"] == -7
    assert kv(api, ws, "get", key="c")["value"] == -7
    out = kv(api, ws, "increment", key="c", by=0.5)
    assert out["value"] == -6.5 and isinstance(out["value"], float)
    out = kv(api, ws, "increment", key="c", by=6.5)  # a float stays a float, even at 0.0
    assert out["value"] == 0.0 and isinstance(out["value"], float)
    assert kv(api, ws, "increment", key="f", by=2.5)["value"] == 2.5
    assert kv(api, ws, "increment", key="f", by=2)["value"] == 4.5
    assert kv(api, ws, "increment", key="f", by=0.1)["value"] == pytest.approx(4.6)
    # Integers stay exact beyond 64 bits.
    kv(api, ws, "put", key="big", value=9223372036854775807)
    assert kv(api, ws, "increment", key="big")["value"] == 9223372036854775808
    kv(api, ws, "put", key="f2", value=1.0)
    out = kv(api, ws, "increment", key="f2")
    assert out["value"] == 2.0 and isinstance(out["value"], float)
    kv(api, ws, "put", key="e", value=1e300)
    assert kv(api, ws, "increment", key="e", by=1e300)["value"] == 2e300


@pytest.mark.parametrize("value", ["7", None, True, [1], {"n": 1}, "x"])
def test_increment_of_a_non_number_changes_nothing(api: Api, ws: str, value: Any) -> None:
    kv(api, ws, "put", key="k", value=value)
    assert failure(api, ws, "increment", key="k") == {"reason": "NOT_A_NUMBER", "key": "k"}
    assert kv(api, ws, "get", key="k") == {
        "key": "k",
        "value": value,
        "version": 1,
        "expiresAt": None,
    }


def test_increment_of_a_list_built_by_appends_is_not_a_number(api: Api, ws: str) -> None:
    kv(api, ws, "add_to_list", key="l", value=1)
    assert failure(api, ws, "increment", key="l")["reason"] == "NOT_A_NUMBER"
    assert kv(api, ws, "get", key="l")["value"] == [1]


def test_increment_overflow_is_out_of_range(api: Api, ws: str) -> None:
    kv(api, ws, "put", key="max", value=1.7e308)
    assert failure(api, ws, "increment", key="max", by=1e308)["reason"] == "OUT_OF_RANGE"
    assert kv(api, ws, "get", key="max")["value"] == 1.7e308
    resp = call(api, ws, "put", inp("huge", "1e400"))
    assert resp.status_code == 200, resp.text
    assert failure(api, ws, "increment", key="huge")["reason"] == "OUT_OF_RANGE"
    kv(api, ws, "put", key="long", value=int("9" * 4001))
    assert failure(api, ws, "increment", key="long")["reason"] == "OUT_OF_RANGE"


@pytest.mark.parametrize("by", ["1", True, [1], {"n": 1}])
def test_bad_by_is_a_400(api: Api, ws: str, by: Any) -> None:
    resp = api.execute("kv-store", "increment", ws, {"key": "k", "by": by})
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "input.by"


def test_huge_by_is_a_400(api: Api, ws: str) -> None:
    resp = call(api, ws, "increment", '{"key": "k", "by": 1e400}')
    assert resp.status_code == 400, resp.text
    assert kv(api, ws, "get", key="k")["value"] is None


def test_increment_with_an_idempotency_key_counts_once(api: Api, ws: str) -> None:
    first = api.execute(
        "kv-store", "increment", ws, {"key": "once", "by": 5}, idempotencyKey="inc-1"
    )
    again = api.execute(
        "kv-store", "increment", ws, {"key": "once", "by": 5}, idempotencyKey="inc-1"
    )
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (
        again.json()["output"]
        == first.json()["output"]
        == {"key": "once", "value": 5, "version": 1}
    )
    assert kv(api, ws, "get", key="once")["value"] == 5
    # list_keys is read-only: a key on it is ignored, never recorded
    page = api.execute("kv-store", "list_keys", ws, {}, idempotencyKey="inc-1")
    assert page.status_code == 200 and "Idempotent-Replayed" not in page.headers
