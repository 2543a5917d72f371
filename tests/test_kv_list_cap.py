"""``add_to_list`` is capped by CUBBY_KV_MAX_LIST_ITEMS like a list ``put`` (issue 16, item 9),
on both metadata backends: an append to a full list is 413 and changes nothing, the check is
part of the append's write (concurrent appends from several stores never overshoot), and a list
made longer before the cap can still be read, shrunk and deleted."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from cubby.backends.url import open_meta_store
from cubby.errors import PayloadTooLarge
from cubby.settings import Settings
from tests.backends import item, new_namespace
from tests.helpers import Api

BACKENDS = pytest.mark.parametrize("backend", ["sqlite+file", "postgres+file"], indirect=True)
CAP = 5
KV = {"integrationAlias": "kv"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(kv_max_list_items=CAP)


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("cap")
    api.add_integration(workspace, "kv-store", "kv", {"persistence": {"scope": "workspace"}})
    return workspace


def full(resp: Any, items: int, limit: int = CAP) -> None:
    assert resp.status_code == 413, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE", body
    assert body["details"] == {"field": "input.value", "limit": limit, "items": items}
    assert f"already has {items} items" in body["error"]
    assert "CUBBY_KV_MAX_LIST_ITEMS" in body["error"]


@BACKENDS
def test_append_up_to_the_cap_works_and_one_more_is_a_413_that_changes_nothing(
    api: Api, ws: str
) -> None:
    for i in range(CAP):
        out = api.output("kv-store", "add_to_list", ws, {"key": "l", "value": i}, **KV)
        assert (out["length"], out["version"]) == (i + 1, i + 1)
    before = api.output("kv-store", "get", ws, {"key": "l"}, **KV)
    assert before["value"] == list(range(CAP)) and before["expiresAt"] is None
    # Refused with and without expiresInSeconds: neither the items, the version nor the
    # expiry move.
    for extra in ({}, {"expiresInSeconds": 60}):
        resp = api.execute("kv-store", "add_to_list", ws, {"key": "l", "value": 9, **extra}, **KV)
        full(resp, CAP)
    assert api.output("kv-store", "get", ws, {"key": "l"}, **KV) == before
    # Making room lets the next append in; a list put at the cap is still fine.
    api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": 0}, **KV)
    out = api.output("kv-store", "add_to_list", ws, {"key": "l", "value": 9}, **KV)
    assert out["length"] == CAP
    api.output("kv-store", "put", ws, {"key": "p", "value": [0] * CAP}, **KV)
    full(api.execute("kv-store", "add_to_list", ws, {"key": "p", "value": 1}, **KV), CAP)
    # A non-list is still NOT_A_LIST, an expired or missing key still starts a new list.
    api.output("kv-store", "put", ws, {"key": "s", "value": "text"}, **KV)
    resp = api.execute("kv-store", "add_to_list", ws, {"key": "s", "value": 1}, **KV)
    assert resp.status_code == 400 and resp.json()["details"]["reason"] == "NOT_A_LIST"
    assert (
        api.output("kv-store", "add_to_list", ws, {"key": "new", "value": 1}, **KV)["length"] == 1
    )


@BACKENDS
def test_a_list_over_the_cap_from_before_stays_readable_removable_and_deletable(
    api: Api, ws: str, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Made while the cap was higher (as lists grown by appends before the cap were).
    with monkeypatch.context() as m:
        m.setattr(services, "settings", services.settings.with_overrides(kv_max_list_items=8))
        api.output("kv-store", "put", ws, {"key": "big", "value": [1, 2, 3, 4, 5, 6, 7]}, **KV)
        api.output("kv-store", "add_to_list", ws, {"key": "big", "value": 8}, **KV)
    assert services.settings.kv_max_list_items == CAP
    got = api.output("kv-store", "get", ws, {"key": "big"}, **KV)
    assert got["value"] == [1, 2, 3, 4, 5, 6, 7, 8] and got["version"] == 2
    full(api.execute("kv-store", "add_to_list", ws, {"key": "big", "value": 9}, **KV), 8)
    keys = api.output("kv-store", "list_keys", ws, {}, **KV)["keys"]
    assert [(k["key"], k["length"]) for k in keys] == [("big", 8)]
    out = api.output("kv-store", "remove_from_list", ws, {"key": "big", "value": 1}, **KV)
    assert (out["removed"], out["length"]) == (1, 7)
    full(api.execute("kv-store", "add_to_list", ws, {"key": "big", "value": 9}, **KV), 7)
    assert api.output("kv-store", "delete", ws, {"key": "big"}, **KV)["deleted"] is True
    assert (
        api.output("kv-store", "add_to_list", ws, {"key": "big", "value": 9}, **KV)["length"] == 1
    )


@BACKENDS
def test_concurrent_appends_at_the_edge_never_overshoot(settings: Settings, services: Any) -> None:
    """Three stores on one database (three pools or SQLite writers, as three processes would
    have) race 30 appends at a list holding cap - 3 items: exactly 3 get in, each at its own
    length, and the other 27 are refused without a trace. (``services`` makes the data dir and
    the schema.)"""
    cap, room, racers = 12, 3, 30
    url = settings.resolved_database_url
    stores = [open_meta_store(url) for _ in range(3)]

    async def scenario() -> tuple[list[Any], Any, Any]:
        for store in stores:
            await store.start()
        ns = await new_namespace(stores[0])
        start = [item(f"old{i}") for i in range(cap - room)]
        text = b"[" + b",".join(i.text.encode() for i in start) + b"]"
        version = await stores[0].kv.put(ns, "edge", text, start)

        async def one(n: int) -> Any:
            store = stores[n % len(stores)]
            try:
                return await store.kv.append(ns, "edge", item(f"new{n}"), max_items=cap)
            except PayloadTooLarge as exc:
                return exc

        results = await asyncio.gather(*(one(n) for n in range(racers)))
        found = await stores[1].kv.get(ns, "edge")
        page = await stores[2].kv.page(ns, "edge", None, 1)
        for store in stores:
            await store.stop()
        return [version, *results], found, page

    try:
        (version, *results), found, page = asyncio.run(scenario())
    finally:
        for store in stores:
            store.close()
    done = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, PayloadTooLarge)]
    assert len(done) == room and len(refused) == racers - room, results
    assert sorted(length for length, _ in done) == list(range(cap - room + 1, cap + 1))
    assert sorted(v for _, v in done) == list(range(version + 1, version + room + 1))
    assert all(r.details == {"field": "input.value", "limit": cap, "items": cap} for r in refused)
    assert found is not None and found.version == version + room
    assert len(msgspec.json.decode(found.value)) == cap == page[0].length
