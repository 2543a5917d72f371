"""TTL: ``expiresInSeconds`` on put and add_to_list. An expired key reads as missing on every
path at once (the test moves cubby.core.clock, never sleeps); the sweeper removes its rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from cubby.core import clock, kv_expiry
from cubby.core.scopes import namespace_for
from cubby.services import Services
from tests.helpers import Api

pytestmark = pytest.mark.conformance

SCOPE = {"persistence": {"scope": "workspace"}}
TEN_YEARS = 10 * 365 * 24 * 3600


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    clock.set_offset(0)
    yield
    clock.set_offset(0)


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("ttl")
    api.add_integration(ws, "kv-store", "state", SCOPE)
    return ws


def kv(api: Api, ws: str, action: str, **input: Any) -> Any:
    return api.output("kv-store", action, ws, input)


def keys(api: Api, ws: str) -> list[str]:
    return [k["key"] for k in kv(api, ws, "list_keys", limit=1000)["keys"]]


def row_counts(api: Api, services: Services, ws: str) -> tuple[int, int]:
    """(kv_entries rows, kv_list_items rows) of the workspace, expired ones included."""
    meta: Any = services.meta.kv
    sql = [
        f"SELECT count(*) FROM {t} WHERE workspace_id = " for t in ("kv_entries", "kv_list_items")
    ]
    if hasattr(meta.db, "read"):
        entries, items = (
            meta.db.read(lambda c, q=q: c.execute(q + "?", (ws,)).fetchone()[0]) for q in sql
        )
        return entries, items

    async def count() -> tuple[int, int]:
        return (
            await meta.db.fetchval(sql[0] + "$1", ws),
            await meta.db.fetchval(sql[1] + "$1", ws),
        )

    return api.client.portal.call(count)


def test_expired_key_is_missing_everywhere_then_swept(
    api: Api, services: Services, ws: str
) -> None:
    put = kv(api, ws, "put", key="s", value={"a": 1}, expiresInSeconds=1)
    assert put["version"] == 1 and put["expiresAt"] is not None
    at = datetime.fromisoformat(put["expiresAt"].replace("Z", "+00:00")).timestamp()
    assert abs(at - (clock.now() + 1)) < 2
    kv(api, ws, "add_to_list", key="l", value="x", expiresInSeconds=1)
    kv(api, ws, "add_to_list", key="l", value="y")  # keeps the list's expiry
    kv(api, ws, "put", key="n", value=41, expiresInSeconds=1)
    kv(api, ws, "put", key="keep", value="forever")
    got = kv(api, ws, "get", key="l")
    assert got["value"] == ["x", "y"] and got["expiresAt"] is not None and got["version"] == 2
    assert keys(api, ws) == ["keep", "l", "n", "s"]

    clock.set_offset(1.001)
    for key in ("s", "l", "n"):
        assert kv(api, ws, "get", key=key) == {
            "key": key,
            "value": None,
            "version": 0,
            "expiresAt": None,
        }
    assert keys(api, ws) == ["keep"]
    assert kv(api, ws, "delete", key="s") == {"key": "s", "deleted": False}
    assert kv(api, ws, "remove_from_list", key="l", value="x") == {
        "key": "l",
        "removed": 0,
        "length": 0,
    }
    # Writes treat it as missing too: a new list, a count from 0, ifVersion 0 succeeds.
    assert kv(api, ws, "add_to_list", key="l", value="z")["length"] == 1
    assert kv(api, ws, "get", key="l")["value"] == ["z"]
    assert kv(api, ws, "get", key="l")["expiresAt"] is None
    assert kv(api, ws, "increment", key="n")["value"] == 1

    clock.set_offset(5)
    kv(api, ws, "put", key="gone1", value=[1, 2, 3], expiresInSeconds=1)
    kv(api, ws, "put", key="gone2", value="v", expiresInSeconds=1)
    assert row_counts(api, services, ws) == (5, 4)  # keep, l, n, gone1, gone2; [z] + [1,2,3]
    clock.set_offset(7)
    removed = api.client.portal.call(kv_expiry.sweep_expired, services.meta.kv)
    assert removed == 2
    assert row_counts(api, services, ws) == (3, 1)
    assert keys(api, ws) == ["keep", "l", "n"]


def test_put_without_ttl_clears_it_and_ifversion_zero_on_expired(api: Api, ws: str) -> None:
    kv(api, ws, "put", key="k", value=1, expiresInSeconds=60)
    assert kv(api, ws, "put", key="k", value=2)["expiresAt"] is None
    clock.set_offset(120)
    assert kv(api, ws, "get", key="k")["expiresAt"] is None  # still there: no TTL any more
    kv(api, ws, "put", key="e", value=1, expiresInSeconds=1)
    clock.set_offset(122)
    out = kv(api, ws, "put", key="e", value="again", ifVersion=0)
    assert out["value"] == "again" and out["version"] >= 1
    # Versions keep growing across an expiry, so a stale ifVersion can never match again.
    assert out["version"] == 2


def test_add_to_list_ttl_refreshes_and_increment_keeps_it(api: Api, ws: str) -> None:
    first = kv(api, ws, "add_to_list", key="l", value=1, expiresInSeconds=10)
    kv(api, ws, "add_to_list", key="l", value=2, expiresInSeconds=100)
    clock.set_offset(50)
    assert kv(api, ws, "get", key="l")["value"] == [1, 2]
    kv(api, ws, "put", key="c", value=1, expiresInSeconds=100)
    assert kv(api, ws, "increment", key="c")["value"] == 2
    entry = kv(api, ws, "list_keys", prefix="c")["keys"][0]
    assert entry["expiresAt"] is not None
    clock.set_offset(151)
    assert kv(api, ws, "get", key="c")["value"] is None
    assert kv(api, ws, "get", key="l")["value"] is None
    assert first["version"] == 1


@pytest.mark.parametrize("bad", [0, -1, TEN_YEARS + 1, 1.5, "10", True])
def test_bad_expires_in_seconds_is_a_400(api: Api, ws: str, bad: Any) -> None:
    for action, extra in (("put", {}), ("add_to_list", {})):
        resp = api.execute(
            "kv-store", action, ws, {"key": "k", "value": 1, "expiresInSeconds": bad, **extra}
        )
        assert resp.status_code == 400, (action, bad, resp.text)
        assert resp.json()["details"]["field"] == "input.expiresInSeconds"
    assert kv(api, ws, "get", key="k")["value"] is None


def test_limits_and_whole_floats_are_accepted(api: Api, ws: str) -> None:
    assert kv(api, ws, "put", key="a", value=1, expiresInSeconds=TEN_YEARS)["expiresAt"]
    assert kv(api, ws, "put", key="b", value=1, expiresInSeconds=120.0)["expiresAt"]
    assert kv(api, ws, "put", key="c", value=1, expiresInSeconds=None)["expiresAt"] is None


def test_ttl_is_per_namespace(api: Api, services: Services, ws: str) -> None:
    api.add_integration(ws, "kv-store", "users")
    for user, ttl in (("alice", 1), ("bob", None)):
        input: dict[str, Any] = {"key": "k", "value": user}
        if ttl:
            input["expiresInSeconds"] = ttl
        api.output("kv-store", "put", ws, input, integrationAlias="users", endUserId=user)
    clock.set_offset(2)
    api.client.portal.call(kv_expiry.sweep_expired, services.meta.kv)
    got = {
        u: api.output("kv-store", "get", ws, {"key": "k"}, integrationAlias="users", endUserId=u)[
            "value"
        ]
        for u in ("alice", "bob")
    }
    assert got == {"alice": None, "bob": "bob"}
    assert namespace_for(ws, {"persistence": {"scope": "end_user"}}, "bob").ns == "u:bob"
