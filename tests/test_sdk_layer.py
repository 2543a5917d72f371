"""The friendly layer (``client.storage(...)``, ``client.kv(...)``) against the real app.

Same harness as tests/test_sdk_resources.py: sync and async clients over the in-process app;
tests/test_sdk_live.py runs these scenarios over a socket too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cubby_client import AsyncCubby, BadRequestError, Cubby

from tests.test_sdk_resources import (  # noqa: F401 - sdk_fixture provides `sdk`
    AnyClient,
    MakeClient,
    aw,
    collect,
    raises,
    sdk_fixture,
)

WORKSPACE = {"persistence": {"scope": "workspace"}}


async def _workspace(c: AnyClient, slug: str, *integrations: tuple[str, str, Any]) -> str:
    ws: str = (await aw(c.workspaces.create(name=slug.title(), slug=slug)))["workspace"]["id"]
    for name, alias, settings in integrations:
        await aw(
            c.workspaces.add_integration(ws, integration_name=name, alias=alias, settings=settings)
        )
    return ws


async def kv_scenario(c: AnyClient) -> None:
    ws = await _workspace(
        c, "kv-layer", ("kv-store", "state", WORKSPACE), ("kv-store", "mine", None)
    )
    kv = c.kv(ws)
    assert await aw(kv.get("missing")) is None
    assert await aw(kv.get("missing", default={"fallback": True})) == {"fallback": True}
    await aw(kv.put("cursor", {"page": 3, "ids": [1, 2]}))
    assert await aw(kv.get("cursor")) == {"page": 3, "ids": [1, 2]}
    await aw(kv.put("flag", False))
    assert await aw(kv.get("flag", default=True)) is False  # only null falls back

    assert await aw(kv.append("seen", "a")) == 1
    assert await aw(kv.append("seen", {"id": 2})) == 2
    assert await aw(kv.append("seen", "a")) == 3
    assert await aw(kv.remove("seen", "a")) == 2
    assert await aw(kv.get("seen")) == [{"id": 2}]
    assert await aw(kv.remove("seen", "absent")) == 0

    err = await raises(BadRequestError, lambda: kv.append("cursor", 1))
    assert err.code == "ACTION_FAILED" and err.reason == "NOT_A_LIST"

    assert await aw(kv.delete("cursor")) is True
    assert await aw(kv.delete("cursor")) is False
    assert await aw(kv.get("cursor")) is None

    # end-user scoped alias: each end user has their own keys; none at all is an error
    alice, bob = c.kv(ws, "mine", end_user_id="alice"), c.kv(ws, "mine", end_user_id="bob")
    await aw(alice.put("theme", "dark"))
    assert await aw(bob.get("theme")) is None
    assert await aw(alice.get("theme")) == "dark"
    assert await aw(c.kv(ws).get("theme")) is None
    err = await raises(BadRequestError, lambda: c.kv(ws, "mine").get("theme"))
    assert err.details.get("field") == "endUserId"

    # alias=None: the server picks the only kv-store integration
    solo = await _workspace(c, "kv-solo", ("kv-store", "only", WORKSPACE))
    await aw(c.kv(solo, alias=None).put("x", 1))
    assert await aw(c.kv(solo, "only").get("x")) == 1


async def kv_beyond_scenario(c: AnyClient) -> None:
    """increment, keys(prefix), versions with if_version, expiries."""
    ws = await _workspace(c, "kv-beyond", ("kv-store", "state", WORKSPACE))
    kv = c.kv(ws)
    assert await aw(kv.increment("hits")) == 1
    assert await aw(kv.increment("hits", by=41)) == 42
    assert await aw(kv.increment("ratio", by=0.5)) == 0.5
    await aw(kv.put("name", "x"))
    err = await raises(BadRequestError, lambda: kv.increment("name"))
    assert err.reason == "NOT_A_NUMBER"

    assert await aw(kv.entry("doc")) == {
        "key": "doc",
        "value": None,
        "version": 0,
        "expiresAt": None,
    }
    assert await aw(kv.put("doc", {"n": 1}, if_version=0)) == 1
    err = await raises(BadRequestError, lambda: kv.put("doc", {"n": 9}, if_version=0))
    assert err.reason == "CONFLICT" and err.details["currentVersion"] == 1
    entry = await aw(kv.entry("doc"))
    assert await aw(kv.put("doc", {"n": entry["value"]["n"] + 1}, if_version=entry["version"])) == 2
    assert await aw(kv.get("doc")) == {"n": 2}

    await aw(kv.put("session", {"u": 1}, expires_in=3600))
    assert (await aw(kv.entry("session")))["expiresAt"]
    assert await aw(kv.append("recent", "a", expires_in=60)) == 1

    for i in range(5):
        await aw(kv.put(f"page:{i}", i))
    listed = await collect(kv.keys("page:", page_size=2))
    assert [k["key"] for k in listed] == [f"page:{i}" for i in range(5)]
    assert listed[0]["version"] == 1 and listed[0]["isList"] is False
    everything = [k["key"] for k in await collect(kv.keys())]
    assert everything == sorted(everything) and len(everything) == 11
    recent = next(k for k in await collect(kv.keys("rec")))
    assert (recent["isList"], recent["length"]) == (True, 1) and recent["expiresAt"]


async def storage_scenario(c: AnyClient) -> None:
    ws = await _workspace(
        c, "files-layer", ("storage", "files", WORKSPACE), ("storage", "private", None)
    )
    files = c.storage(ws)
    written = await aw(files.write("reports/monthly.json", '{"total": 1500}'))
    assert written["path"] == "reports/monthly.json" and written["size"] == 15
    assert written["etag"] and written["updatedAt"]
    assert await aw(files.read("reports/monthly.json")) == b'{"total": 1500}'
    assert await aw(files.read_text("reports/monthly.json")) == '{"total": 1500}'

    blob = bytes(range(256)) * 4
    info = await aw(files.write("media/blob.bin", blob, content_type="application/x-test"))
    assert info["size"] == len(blob) and info["contentType"] == "application/x-test"
    assert await aw(files.read("media/blob.bin")) == blob
    err = await raises(BadRequestError, lambda: files.read_text("media/blob.bin"))
    assert err.reason == "NOT_UTF8"
    assert await aw(files.read_text("reports/monthly.json", encoding="latin-1")) == (
        '{"total": 1500}'
    )
    await aw(files.write("notes/é.txt", "café ☕"))
    assert await aw(files.read_text("notes/é.txt")) == "café ☕"

    for i in range(5):
        await aw(files.write(f"pages/{i}.txt", str(i)))
    paged = await collect(files.list("pages/", page_size=2))
    assert [f["path"] for f in paged] == [f"pages/{i}.txt" for i in range(5)]
    everything = [f["path"] for f in await collect(files.list())]
    assert everything == sorted(everything) and len(everything) == 8

    url = await aw(files.download_url("media/blob.bin", expires_in=60))
    assert url.startswith("http")

    assert await aw(files.delete("pages/0.txt")) is True
    assert await aw(files.delete("pages/0.txt")) is False
    err = await raises(BadRequestError, lambda: files.read("pages/0.txt"))
    assert err.code == "ACTION_FAILED" and err.reason == "FILE_NOT_FOUND"
    err = await raises(BadRequestError, lambda: files.write("/abs", "x"))
    assert err.code == "VALIDATION_ERROR"

    mine = c.storage(ws, "private", end_user_id="alice")
    await aw(mine.write("secret.txt", "alice only"))
    assert await collect(c.storage(ws, "private", end_user_id="bob").list()) == []
    assert "secret.txt" not in [f["path"] for f in await collect(files.list())]


LAYER_SCENARIOS = {"kv": kv_scenario, "kv-beyond": kv_beyond_scenario, "storage": storage_scenario}


@pytest.mark.parametrize("scenario", list(LAYER_SCENARIOS))
def test_layer_scenario(scenario: str, sdk: tuple[AnyClient, MakeClient]) -> None:
    client, _ = sdk
    asyncio.run(LAYER_SCENARIOS[scenario](client))


def test_download_url_serves_the_bytes_without_a_key(
    sdk: tuple[AnyClient, MakeClient],
) -> None:
    client, _ = sdk

    async def go() -> None:
        ws = await _workspace(client, "dl", ("storage", "files", WORKSPACE))
        files = client.storage(ws)
        await aw(files.write("a/report.csv", "name,amount\nAlice,100\n", content_type="text/csv"))
        url = await aw(files.download_url("a/report.csv"))
        http = client._http
        resp = await aw(http.get(url))  # no Authorization header
        assert resp.status_code == 200
        assert resp.content == b"name,amount\nAlice,100\n"
        assert resp.headers["content-type"].startswith("text/csv")

    asyncio.run(go())


def test_handles_repr_their_target() -> None:
    client = Cubby(api_key="k")
    assert repr(client.kv("w1", end_user_id="u")) == "KV(workspace_id='w1', alias='state', " + (
        "end_user_id='u')"
    )
    assert repr(AsyncCubby(api_key="k").storage("w1")) == (
        "AsyncStorage(workspace_id='w1', alias='files')"
    )
