"""Exactly-once execute (issue 14, point 5): idempotencyKey on every write action, on every
backend, through the fast execute path and the declared route alike."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from cubby.api import execute as execute_api
from cubby.core import clock, idempotency
from cubby.errors import CubbyError
from cubby.services import Services
from tests.helpers import Api
from tests.test_storage_files import INLINE_MAX, blob_keys

pytestmark = pytest.mark.conformance

SCOPE = {"persistence": {"scope": "workspace"}}
REPLAYED = "idempotent-replayed"


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("idem")
    api.add_integration(workspace, "kv-store", "state", SCOPE)
    api.add_integration(workspace, "storage", "files", SCOPE)
    return workspace


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    yield
    clock.set_offset(0)


def call(
    api: Api, integration: str, action: str, ws: str, input: Any, key: str, **extra: Any
) -> httpx.Response:
    return api.execute(integration, action, ws, input, idempotencyKey=key, **extra)


def items(api: Api, ws: str, key: str) -> list[Any]:
    return list(api.output("kv-store", "get", ws, {"key": key})["value"] or [])


def test_repeat_replays_the_first_answer(api: Api, ws: str) -> None:
    first = call(api, "kv-store", "add_to_list", ws, {"key": "l", "value": 1}, "k1")
    assert first.status_code == 200 and REPLAYED not in first.headers
    # the same request, spelled differently (member order, whitespace): still the same
    body = {"integrationName": "kv-store", "actionName": "add_to_list", "workspaceId": ws,
            "idempotencyKey": "k1"}  # fmt: skip
    raw = json.dumps(body)[:-1] + ', "input": {"value" :  1 ,"key":"l"}}'
    again = api.client.post("/api/v1/actions/execute", content=raw, headers=api.headers())
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    assert again.json()["output"] == first.json()["output"]
    assert items(api, ws, "l") == [1]
    other = call(api, "kv-store", "add_to_list", ws, {"key": "l", "value": 1}, "k2")
    assert other.status_code == 200 and REPLAYED not in other.headers
    assert items(api, ws, "l") == [1, 1]


def test_a_number_beyond_a_double_is_answered_as_without_a_key(api: Api, ws: str) -> None:
    """1e400 is valid JSON that msgspec cannot decode as a value: the request's fingerprint
    falls back to its bytes instead of answering 500 (the schemathesis run found it)."""
    body = {"integrationName": "kv-store", "actionName": "put", "workspaceId": ws}
    for key in (None, "big"):
        raw = json.dumps({**body, **({"idempotencyKey": key} if key else {})})[:-1]
        raw += ', "input": {"key": "big", "value": 1e400}}'
        resp = api.client.post("/api/v1/actions/execute", content=raw, headers=api.headers())
        assert resp.status_code < 500, resp.text
    plain = api.client.post(
        "/api/v1/actions/execute",
        content=json.dumps(body)[:-1] + ', "input": {"key": "big", "value": 1e400}}',
        headers=api.headers(),
    )
    assert resp.status_code == plain.status_code


def test_different_body_is_a_conflict(api: Api, ws: str) -> None:
    assert call(api, "kv-store", "put", ws, {"key": "a", "value": 1}, "same").status_code == 200
    for integration, action, input in [
        ("kv-store", "put", {"key": "a", "value": 2}),
        ("kv-store", "delete", {"key": "a"}),
        ("storage", "write_file", {"path": "a", "content": "1"}),
    ]:
        resp = call(api, integration, action, ws, input, "same")
        assert resp.status_code == 409, resp.text
        assert resp.json()["code"] == "IDEMPOTENCY_CONFLICT"
    assert api.output("kv-store", "get", ws, {"key": "a"})["value"] == 1
    # another workspace has its own keys
    ws2 = api.create_workspace("idem-2")
    resp = call(api, "kv-store", "put", ws2, {"key": "a", "value": 2}, "same", endUserId="u")
    assert resp.status_code == 200 and REPLAYED not in resp.headers


def test_read_actions_ignore_the_key(api: Api, ws: str) -> None:
    call(api, "kv-store", "put", ws, {"key": "r", "value": "v1"}, "w")
    for _ in range(2):
        resp = call(api, "kv-store", "get", ws, {"key": "r"}, "w")
        assert resp.status_code == 200 and REPLAYED not in resp.headers
    api.output("kv-store", "put", ws, {"key": "r", "value": "v2"})
    assert call(api, "kv-store", "get", ws, {"key": "r"}, "read").json()["output"]["value"] == "v2"
    for integration, action in [("storage", "list_files"), ("kv-store", "list_keys")]:
        resp = call(api, integration, action, ws, {}, "w")
        assert resp.status_code == 200 and REPLAYED not in resp.headers


def test_key_length_is_checked(api: Api, ws: str) -> None:
    for bad in ("", "x" * 256):
        resp = call(api, "kv-store", "put", ws, {"key": "a", "value": 1}, bad)
        assert resp.status_code == 400
        assert resp.json()["details"]["field"] == "idempotencyKey"
    assert call(api, "kv-store", "put", ws, {"key": "a", "value": 1}, "x" * 255).status_code == 200


def test_a_failed_action_records_nothing(api: Api, ws: str) -> None:
    api.output("kv-store", "put", ws, {"key": "s", "value": "not a list"})
    resp = call(api, "kv-store", "add_to_list", ws, {"key": "s", "value": 1}, "retry-me")
    assert resp.json()["details"]["reason"] == "NOT_A_LIST"
    api.output("kv-store", "delete", ws, {"key": "s"})
    resp = call(api, "kv-store", "add_to_list", ws, {"key": "s", "value": 1}, "retry-me")
    assert resp.status_code == 200 and REPLAYED not in resp.headers
    assert items(api, ws, "s") == [1]


def test_records_last_24_hours(api: Api, ws: str, services: Services) -> None:
    call(api, "kv-store", "add_to_list", ws, {"key": "d", "value": 1}, "day")
    clock.set_offset(23 * 3600)
    assert call(api, "kv-store", "add_to_list", ws, {"key": "d", "value": 1}, "day").headers[
        REPLAYED
    ]
    clock.set_offset(25 * 3600)
    resp = call(api, "kv-store", "add_to_list", ws, {"key": "d", "value": 2}, "day")
    assert resp.status_code == 200 and REPLAYED not in resp.headers
    assert items(api, ws, "d") == [1, 2]
    clock.set_offset(50 * 3600)
    assert api.client.portal.call(idempotency.sweep, services.meta) == 1


def test_storage_actions_run_once(api: Api, ws: str, services: Services) -> None:
    big = "B" * (INLINE_MAX + 1)
    w1 = call(api, "storage", "write_file", ws, {"path": "f/a.txt", "content": big}, "w")
    w2 = call(api, "storage", "write_file", ws, {"path": "f/a.txt", "content": big}, "w")
    assert w2.headers[REPLAYED] == "true" and w2.json()["output"] == w1.json()["output"]
    assert len(blob_keys(api, services, ws + "/")) == 1  # the replay uploaded nothing
    # an overwrite inside an idempotent call drops the replaced body after its commit
    w3 = call(api, "storage", "write_file", ws, {"path": "f/a.txt", "content": big + "2"}, "w3")
    assert w3.status_code == 200
    assert len(blob_keys(api, services, ws + "/")) == 1
    m = {"from": "f/a.txt", "to": "f/b.txt"}
    assert call(api, "storage", "move_file", ws, m, "m").status_code == 200
    again = call(api, "storage", "move_file", ws, m, "m")  # not FILE_NOT_FOUND: a replay
    assert again.status_code == 200 and again.headers[REPLAYED] == "true"
    for i in range(3):
        api.output("storage", "write_file", ws, {"path": f"f/{i}", "content": "x"})
    d1 = call(api, "storage", "delete_folder", ws, {"prefix": "f/"}, "d")
    assert d1.json()["output"]["deleted"] == 4
    api.output("storage", "write_file", ws, {"path": "f/new", "content": "x"})
    d2 = call(api, "storage", "delete_folder", ws, {"prefix": "f/"}, "d")
    assert d2.json()["output"]["deleted"] == 4 and d2.headers[REPLAYED] == "true"
    assert blob_keys(api, services, ws + "/") == []
    # a stale ifMatch inside an idempotent call changes nothing and records nothing
    cur = api.output("storage", "write_file", ws, {"path": "g", "content": "1"})
    stale = {"path": "g", "content": "2", "ifMatch": "0" * 32}
    assert call(api, "storage", "write_file", ws, stale, "g").json()["details"]["reason"] == (
        "CONFLICT"
    )
    fresh = {**stale, "ifMatch": cur["etag"]}
    ok = call(api, "storage", "write_file", ws, fresh, "g2")
    assert ok.status_code == 200 and REPLAYED not in ok.headers


def test_100_appends_sent_two_and_three_times_concurrently(api: Api, ws: str) -> None:
    sends = [i for i in range(100) for _ in range(3 if i % 10 == 0 else 2)]

    def send(i: int) -> tuple[int, httpx.Response]:
        body = {"key": "once", "value": f"item-{i}"}
        return i, call(api, "kv-store", "add_to_list", ws, body, f"append-{i}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, sends))
    for _, resp in results:
        assert resp.status_code == 200, resp.text
    replays = Counter(i for i, r in results if REPLAYED in r.headers)
    assert all(replays[i] == (2 if i % 10 == 0 else 1) for i in range(100)), replays
    lengths: dict[int, set[int]] = {}
    for i, resp in results:
        lengths.setdefault(i, set()).add(resp.json()["output"]["length"])
    assert all(len(v) == 1 for v in lengths.values())  # every copy got the same answer
    got = items(api, ws, "once")
    assert sorted(got) == sorted(f"item-{i}" for i in range(100))


def test_a_duplicate_waits_for_the_first_or_gets_in_progress(
    api: Api, ws: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    action = services.registry.get("kv-store").actions["add_to_list"]  # type: ignore[union-attr]
    real = action.handler
    started = threading.Event()

    async def slow(ctx: Any, params: Any) -> Any:
        started.set()
        await asyncio.sleep(0.5)
        return await real(ctx, params)

    monkeypatch.setattr(action, "handler", slow)
    body = {"key": "w", "value": 1}

    def race(key: str) -> list[httpx.Response]:
        started.clear()
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(call, api, "kv-store", "add_to_list", ws, body, key)
            started.wait(5)
            second = pool.submit(call, api, "kv-store", "add_to_list", ws, body, key)
            return [first.result(), second.result()]

    first, second = race("wait")
    assert first.status_code == second.status_code == 200
    assert second.headers[REPLAYED] == "true" and REPLAYED not in first.headers
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.1)
    first, second = race("busy")
    assert first.status_code == 200
    assert second.status_code == 409 and second.json()["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert items(api, ws, "w") == [1, 1]


def test_declared_route_behaves_like_the_fast_path(api: Api, ws: str, services: Services) -> None:
    """The same calls through the Starlette route (no fast path) give the same answers."""

    async def error(request: Any, exc: Exception) -> Any:
        from cubby.api.endpoint import json_response

        assert isinstance(exc, CubbyError)
        return json_response(exc.to_body(), exc.status, exc.headers)

    plain = Starlette(
        routes=[ep.route() for ep in execute_api.ENDPOINTS],
        exception_handlers={CubbyError: error},
    )
    plain.state.services = services
    with TestClient(plain) as client:
        slow = Api(client, api.key)
        for route in (api, slow):
            key = f"route-{id(route)}"
            body = {"key": key, "value": 1}
            first = call(route, "kv-store", "add_to_list", ws, body, key)
            again = call(route, "kv-store", "add_to_list", ws, body, key)
            other = call(route, "kv-store", "add_to_list", ws, {**body, "value": 2}, key)
            assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
            assert REPLAYED not in first.headers and again.headers[REPLAYED] == "true"
            assert again.json()["output"] == first.json()["output"]
            assert first.json()["output"]["length"] == 1
            assert other.json()["code"] == "IDEMPOTENCY_CONFLICT"
