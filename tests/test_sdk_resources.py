"""Every resource method of the SDK against the real app, sync and async.

In process: ``Cubby`` over Starlette's TestClient (an ``httpx.Client``) and ``AsyncCubby`` over
``httpx.ASGITransport``, both built from ``create_app``. The scenarios are written once, as
coroutines that ``await aw(...)`` each call: for the sync client ``aw`` passes values through,
for the async one it awaits them. tests/test_sdk_live.py runs the same scenarios over a socket.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from cubby_client import (
    AsyncCubby,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    Cubby,
    CubbyError,
    NotFoundError,
    PermissionDeniedError,
)
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.services import Services
from cubby.settings import Settings

AnyClient = Cubby | AsyncCubby
MakeClient = Callable[[str], AnyClient]
BASE = "http://testserver"


async def aw(value: Any) -> Any:
    """The value of a sync call, or the awaited value of an async one."""
    return await value if inspect.isawaitable(value) else value


async def collect(items: Iterable[Any] | AsyncIterator[Any]) -> list[Any]:
    if isinstance(items, AsyncIterator):
        return [item async for item in items]
    return list(items)


async def raises(exc_type: type[CubbyError], call: Callable[[], Any]) -> CubbyError:
    """The error ``call()`` raises (sync or async), checked against ``exc_type``."""
    with pytest.raises(exc_type) as info:
        await aw(call())
    return info.value


# -- scenarios (shared with tests/test_sdk_live.py) -------------------------------------------


async def workspaces_scenario(c: AnyClient) -> None:
    created = await aw(c.workspaces.create(name="Acme", slug="acme"))
    ws = created["workspace"]
    assert ws["slug"] == "acme" and ws["name"] == "Acme"
    await aw(c.workspaces.create(name="Beta", slug="beta"))

    page = await aw(c.workspaces.list())
    assert page["total"] == 2
    assert {w["slug"] for w in page["workspaces"]} == {"acme", "beta"}
    first = await aw(c.workspaces.list(limit=1, offset=1))
    assert len(first["workspaces"]) == 1 and first["total"] == 2

    assert (await aw(c.workspaces.get(ws["id"])))["workspace"]["id"] == ws["id"]
    renamed = await aw(c.workspaces.update(ws["id"], name="Acme Inc"))
    assert renamed["workspace"]["name"] == "Acme Inc"
    assert renamed["workspace"]["slug"] == "acme"
    reslugged = await aw(c.workspaces.update(ws["id"], slug="acme-inc"))
    assert reslugged["workspace"]["slug"] == "acme-inc"

    err = await raises(ConflictError, lambda: c.workspaces.create(name="X", slug="beta"))
    assert err.status == 409 and err.code == "SLUG_EXISTS"
    err = await raises(BadRequestError, lambda: c.workspaces.update(ws["id"]))
    assert err.code == "VALIDATION_ERROR"
    err = await raises(BadRequestError, lambda: c.workspaces.create(name="X", slug="Bad Slug"))
    assert err.code == "VALIDATION_ERROR" and err.details

    assert await aw(c.workspaces.delete(ws["id"])) == {"deleted": True, "id": ws["id"]}
    err = await raises(NotFoundError, lambda: c.workspaces.get(ws["id"]))
    assert err.status == 404 and err.code == "NOT_FOUND"


async def workspace_integrations_scenario(c: AnyClient) -> None:
    ws = (await aw(c.workspaces.create(name="Ints", slug="ints")))["workspace"]["id"]
    added = await aw(
        c.workspaces.add_integration(
            ws,
            integration_name="kv-store",
            alias="state",
            display_name="Workspace State",
            enabled_actions=["get", "put"],
            settings={"persistence": {"scope": "workspace"}},
            sort_order=3,
        )
    )
    wi = added["integration"]
    assert wi["integrationName"] == "kv-store" and wi["alias"] == "state"
    assert wi["displayName"] == "Workspace State"
    assert wi["enabledActions"] == ["get", "put"]
    assert wi["settings"] == {"persistence": {"scope": "workspace"}}
    assert wi["sortOrder"] == 3 and wi["workspaceId"] == ws

    # the older Weavz spelling of alias, and connection fields that are echoed back
    legacy = await aw(
        c.workspaces.add_integration(
            ws,
            integration_name="kv-store",
            integration_alias="tenant_kv",
            connection_strategy="fixed",
            settings={"persistence": {"scope": "external", "externalId": "tenant_123"}},
        )
    )
    assert legacy["integration"]["alias"] == "tenant_kv"
    assert legacy["integration"]["connectionStrategy"] == "fixed"

    listed = await aw(c.workspaces.list_integrations(ws))
    assert listed["total"] == 2
    assert {i["alias"] for i in listed["integrations"]} == {"state", "tenant_kv"}
    got = await aw(c.workspaces.get_integration(ws, wi["id"]))
    assert got["integration"]["id"] == wi["id"]

    updated = await aw(
        c.workspaces.update_integration(
            ws, wi["id"], display_name="State", enabled_actions=["get", "put", "delete"]
        )
    )
    assert updated["integration"]["displayName"] == "State"
    assert updated["integration"]["enabledActions"] == ["get", "put", "delete"]
    assert updated["integration"]["alias"] == "state"

    err = await raises(
        ConflictError,
        lambda: c.workspaces.add_integration(ws, integration_name="kv-store", alias="state"),
    )
    assert err.code == "ALIAS_CONFLICT"
    err = await raises(
        NotFoundError, lambda: c.workspaces.add_integration(ws, integration_name="nope")
    )
    assert err.code == "INTEGRATION_NOT_FOUND"
    err = await raises(
        BadRequestError,
        lambda: c.workspaces.add_integration(
            ws, integration_name="kv-store", alias="bad", settings={"persistence": {"scope": "x"}}
        ),
    )
    assert err.code == "VALIDATION_ERROR"
    with pytest.raises(ValueError):
        await aw(
            c.workspaces.add_integration(
                ws, integration_name="kv-store", alias="a", integration_alias="b"
            )
        )

    removed = await aw(c.workspaces.remove_integration(ws, legacy["integration"]["id"]))
    assert removed == {"deleted": True, "id": legacy["integration"]["id"]}
    await raises(
        NotFoundError, lambda: c.workspaces.get_integration(ws, legacy["integration"]["id"])
    )
    assert (await aw(c.workspaces.list_integrations(ws)))["total"] == 1


async def api_keys_scenario(c: AnyClient, make: MakeClient) -> None:
    ws_a = (await aw(c.workspaces.create(name="A", slug="keys-a")))["workspace"]["id"]
    ws_b = (await aw(c.workspaces.create(name="B", slug="keys-b")))["workspace"]["id"]
    created = await aw(c.api_keys.create(name="only-a", workspace_ids=[ws_a]))
    key = created["apiKey"]
    assert created["plainKey"].startswith(key["keyPrefix"])
    assert key["permissions"] == {"scope": "workspace", "workspaceIds": [ws_a]}
    dated = await aw(
        c.api_keys.create(
            name="dated",
            expires_at="2999-01-01T00:00:00Z",
            permissions={"scope": "workspace", "workspaceIds": [ws_b]},
        )
    )
    assert dated["apiKey"]["expiresAt"].startswith("2999-01-01")

    listed = await aw(c.api_keys.list())
    assert {"only-a", "dated"} <= {k["name"] for k in listed["apiKeys"]}
    assert listed["total"] == len(listed["apiKeys"])

    restricted = make(created["plainKey"])
    assert (await aw(restricted.workspaces.get(ws_a)))["workspace"]["id"] == ws_a
    err = await raises(PermissionDeniedError, lambda: restricted.workspaces.get(ws_b))
    assert err.status == 403 and err.code == "SCOPE_DENIED"
    err = await raises(PermissionDeniedError, lambda: restricted.api_keys.list())
    assert err.code == "FORBIDDEN"

    assert await aw(c.api_keys.delete(key["id"])) == {"deleted": True, "id": key["id"]}
    err = await raises(AuthenticationError, lambda: restricted.workspaces.get(ws_a))
    assert err.status == 401 and err.code == "UNAUTHENTICATED"
    await raises(NotFoundError, lambda: c.api_keys.delete(key["id"]))
    await raises(AuthenticationError, lambda: make("cby_not_a_real_key").workspaces.list())
    with pytest.raises(ValueError):
        await aw(
            c.api_keys.create(name="x", workspace_ids=[ws_a], permissions={"scope": "workspace"})
        )


async def catalog_scenario(c: AnyClient) -> None:
    catalog = await aw(c.integrations.list())
    assert "kv-store" in catalog["registered"]
    assert catalog["total"] == len(catalog["integrations"])
    kv = (await aw(c.integrations.get("kv-store")))["integration"]
    assert kv["name"] == "kv-store" and kv["displayName"] == "State KV"
    assert {"get", "put", "delete", "add_to_list", "remove_from_list"} <= set(kv["actions"])
    err = await raises(NotFoundError, lambda: c.integrations.get("nope"))
    assert err.code == "INTEGRATION_NOT_FOUND"
    summary = await aw(c.integrations.list_summary())
    assert summary["total"] == catalog["total"]
    brief = {i["name"]: i for i in summary["integrations"]}["kv-store"]
    assert brief["actionCount"] == len(kv["actions"]) and brief["logoUrl"] == kv["logoUrl"]


async def actions_scenario(c: AnyClient) -> None:
    ws = (await aw(c.workspaces.create(name="Run", slug="run")))["workspace"]["id"]
    wi = await aw(
        c.workspaces.add_integration(
            ws,
            integration_name="kv-store",
            alias="state",
            settings={"persistence": {"scope": "workspace"}},
        )
    )
    put = await aw(
        c.actions.execute(
            "kv-store",
            "put",
            workspace_id=ws,
            integration_alias="state",
            input={"key": "k", "value": {"n": 1}},
            idempotency_key="put-k-1",
        )
    )
    assert put["success"] is True
    assert put["output"] == {"key": "k", "value": {"n": 1}, "version": 1, "expiresAt": None}
    assert isinstance(put["duration"], int | float)
    by_id = await aw(
        c.actions.execute(
            "kv-store",
            "get",
            workspace_id=ws,
            workspace_integration_id=wi["integration"]["id"],
            input={"key": "k"},
        )
    )
    assert by_id["output"]["value"] == {"n": 1}
    only_one = await aw(c.actions.execute("kv-store", "get", workspace_id=ws, input={"key": "k"}))
    assert only_one["output"]["value"] == {"n": 1}

    # ACTION_FAILED is a BadRequestError carrying the reason
    await aw(c.actions.execute("kv-store", "put", workspace_id=ws, input={"key": "s", "value": 1}))
    err = await raises(
        BadRequestError,
        lambda: c.actions.execute(
            "kv-store", "add_to_list", workspace_id=ws, input={"key": "s", "value": 2}
        ),
    )
    assert err.code == "ACTION_FAILED" and err.details["reason"] == "NOT_A_LIST"
    assert err.reason == "NOT_A_LIST"

    # end_user scope: end_user_id is sent as endUserId and isolates data
    await aw(c.workspaces.add_integration(ws, integration_name="kv-store", alias="mine"))
    err = await raises(
        BadRequestError,
        lambda: c.actions.execute(
            "kv-store", "get", workspace_id=ws, integration_alias="mine", input={"key": "k"}
        ),
    )
    assert err.code == "VALIDATION_ERROR" and err.details.get("field") == "endUserId"
    for user, value in (("u1", "one"), ("u2", "two")):
        await aw(
            c.actions.execute(
                "kv-store",
                "put",
                workspace_id=ws,
                integration_alias="mine",
                end_user_id=user,
                input={"key": "k", "value": value},
            )
        )
    got = await aw(
        c.actions.execute(
            "kv-store",
            "get",
            workspace_id=ws,
            integration_alias="mine",
            end_user_id="u1",
            input={"key": "k"},
        )
    )
    assert got["output"]["value"] == "one"

    err = await raises(
        BadRequestError,
        lambda: c.actions.execute("kv-store", "get", workspace_id=ws, input={"key": "k"}),
    )
    assert err.code == "AMBIGUOUS_INTEGRATION" and err.details["aliases"] == ["mine", "state"]
    err = await raises(
        NotFoundError,
        lambda: c.actions.execute("kv-store", "nope", workspace_id=ws, input={}),
    )
    assert err.code == "ACTION_NOT_FOUND"
    err = await raises(
        BadRequestError,
        lambda: c.actions.execute(
            "kv-store", "get", workspace_id=ws, integration_alias="state", input={"nope": 1}
        ),
    )
    assert err.code == "VALIDATION_ERROR"


async def raw_request_scenario(c: AnyClient) -> None:
    assert await aw(c.request("GET", "/health")) == {"status": "healthy"}
    page = await aw(c.request("GET", "/api/v1/workspaces", params={"limit": 1}))
    assert "workspaces" in page
    await raises(NotFoundError, lambda: c.request("GET", "/api/v1/nothing-here"))


async def end_users_scenario(c: AnyClient) -> None:
    ws = (await aw(c.workspaces.create(name="Tenants", slug="tenants")))["workspace"]["id"]
    made = await aw(
        c.end_users.create(
            workspace_id=ws, external_id="user_1", display_name="Ada", email="ada@example.com",
            metadata={"plan": "pro"},
        )
    )  # fmt: skip
    eu = made["endUser"]
    assert eu["externalId"] == "user_1" and eu["metadata"] == {"plan": "pro"}
    other = (await aw(c.end_users.create(workspace_id=ws, external_id="user_2")))["endUser"]
    err = await raises(
        ConflictError, lambda: c.end_users.create(workspace_id=ws, external_id="user_1")
    )
    assert err.code == "DUPLICATE"
    listed = await aw(c.end_users.list(ws))
    assert listed["total"] == 2 and [e["id"] for e in listed["endUsers"]] == [eu["id"], other["id"]]
    assert len((await aw(c.end_users.list(ws, limit=1, offset=1)))["endUsers"]) == 1
    assert (await aw(c.end_users.get(eu["id"])))["endUser"] == eu
    updated = await aw(c.end_users.update(eu["id"], display_name="Ada L."))
    assert updated["endUser"]["displayName"] == "Ada L." and updated["endUser"]["email"]

    # data under the end user's externalId, then usage and erase
    for user in ("user_1", "user_2"):
        files = c.storage(ws, alias=None, end_user_id=user)
        await aw(files.write("notes.txt", "hello"))
        kv = c.kv(ws, alias=None, end_user_id=user)
        await aw(kv.put("k", user))
    usage = await aw(c.end_users.usage(eu["id"]))
    # bytes: the file's 5 and the KV value's JSON text (8: "user_1" with its quotes)
    assert usage == {"usage": {"keys": 1, "files": 1, "bytes": 13, "items": 0}}
    erased = await aw(c.end_users.erase(ws, "user_2"))
    assert erased == {
        "workspaceId": ws, "endUserId": "user_2", "erased": {"keys": 1, "files": 1, "bytes": 13,
                                                        "items": 0},
    }  # fmt: skip
    assert (await aw(c.end_users.usage(other["id"])))["usage"]["keys"] == 0
    gone = await aw(c.end_users.delete(eu["id"], erase_data=True))
    assert gone == {"deleted": True, "id": eu["id"], "erased": usage["usage"]}
    assert await aw(c.end_users.delete(other["id"])) == {"deleted": True, "id": other["id"]}
    await raises(NotFoundError, lambda: c.end_users.get(eu["id"]))
    assert (await aw(c.end_users.list(ws)))["total"] == 0


SCENARIOS: dict[str, Callable[..., Any]] = {
    "workspaces": workspaces_scenario,
    "workspace_integrations": workspace_integrations_scenario,
    "api_keys": api_keys_scenario,
    "catalog": catalog_scenario,
    "actions": actions_scenario,
    "end_users": end_users_scenario,
    "raw_request": raw_request_scenario,
}


def run_scenario(name: str, client: AnyClient, make: MakeClient) -> None:
    scenario = SCENARIOS[name]
    args = (client, make) if "make" in inspect.signature(scenario).parameters else (client,)
    asyncio.run(scenario(*args))


# -- in-process fixtures -----------------------------------------------------------------------


@pytest.fixture(name="sdk", params=["sync", "async"])
def sdk_fixture(
    request: pytest.FixtureRequest, settings: Settings, services: Services, org_key: str
) -> Iterator[tuple[AnyClient, MakeClient]]:
    """(client with the org key, factory for clients with other keys) over the in-process app."""
    app = create_app(settings, services)
    if request.param == "sync":
        with TestClient(app, base_url=BASE) as http:

            def make(key: str) -> AnyClient:
                return Cubby(api_key=key, base_url=BASE, http_client=http, max_retries=0)

            yield make(org_key), make
    else:
        http_async = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)

        def make(key: str) -> AnyClient:
            return AsyncCubby(api_key=key, base_url=BASE, http_client=http_async, max_retries=0)

        yield make(org_key), make
        asyncio.run(http_async.aclose())


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_resource_scenario(scenario: str, sdk: tuple[AnyClient, MakeClient]) -> None:
    client, make = sdk
    run_scenario(scenario, client, make)


def test_no_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUBBY_API_KEY", raising=False)
    for cls in (Cubby, AsyncCubby):
        with pytest.raises(CubbyError, match="CUBBY_API_KEY"):
            cls()
