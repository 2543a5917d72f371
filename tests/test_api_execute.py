"""POST /api/v1/actions/execute: which workspace integration runs, the namespace it gets, and
the database work one warm call costs (issue 2, acceptance 5 and 6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from cubby.core.registry import ActionContext, Integration
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import enabled_combos
from tests.helpers import Api

# Metadata-store behaviour runs on every metadata backend (file bodies play no part here);
# pure HTTP-layer checks run on the embedded default only, to keep the suite fast.
META = pytest.mark.parametrize(
    "backend", [c for c in enabled_combos() if not c.endswith("+s3")], indirect=True
)

# A test-only integration that reports where it ran, registered like any plug-in.
probe = Integration("probe", "Probe", "Test-only: reports the namespace an action ran in")


class WhereInput(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""


class Where(msgspec.Struct):
    ns: str
    workspace: str
    alias: str


@probe.action("where", "Where", "Report the namespace")
async def where(ctx: ActionContext, params: WhereInput) -> Where:
    return Where(
        ns=ctx.namespace.ns, workspace=ctx.namespace.workspace_id, alias=ctx.integration_alias
    )


@probe.action("other", "Other", "A second action, for enabledActions")
async def other(ctx: ActionContext, params: WhereInput) -> Where:
    return await where(ctx, params)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = build_services(settings)
    services.registry.register(probe)
    yield services
    services.close()


WORKSPACE = {"persistence": {"scope": "workspace"}}


def tenant(external_id: str) -> dict[str, Any]:
    return {"persistence": {"scope": "external", "externalId": external_id}}


def err(resp: Any, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    return dict(body)


def test_response_envelope(api: Api) -> None:
    ws = api.create_workspace("env")
    resp = api.execute("probe", "where", ws, {}, endUserId="u1")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"success", "output", "duration"}
    assert body["success"] is True and isinstance(body["duration"], (int, float))
    assert body["output"] == {"ns": "u:u1", "workspace": ws, "alias": "probe"}


@META
def test_resolution_by_id_alias_and_only_one(api: Api) -> None:
    ws = api.create_workspace("resolve")
    shared = api.add_integration(ws, "probe", "shared", WORKSPACE)
    t1 = api.add_integration(ws, "probe", "t1", tenant("tenant_1"))

    by_id = api.output("probe", "where", ws, workspaceIntegrationId=t1["id"])
    assert by_id == {"ns": "x:tenant_1", "workspace": ws, "alias": "t1"}
    by_alias = api.output("probe", "where", ws, integrationAlias="shared")
    assert by_alias == {"ns": "w", "workspace": ws, "alias": "shared"}
    both = api.output(
        "probe", "where", ws, workspaceIntegrationId=shared["id"], integrationAlias="shared"
    )
    assert both["alias"] == "shared"
    mismatch = api.execute(
        "probe", "where", ws, workspaceIntegrationId=shared["id"], integrationAlias="t1"
    )
    assert err(mismatch, 400, "VALIDATION_ERROR")["details"]["field"] == "integrationAlias"

    # several of that name and no selector: ambiguous, listing the aliases
    ambiguous = err(api.execute("probe", "where", ws), 400, "AMBIGUOUS_INTEGRATION")
    assert ambiguous["details"]["aliases"] == ["shared", "t1"]

    # the only one of that name runs without a selector
    api.ok("DELETE", f"/api/v1/workspaces/{ws}/integrations/{t1['id']}")
    assert api.output("probe", "where", ws)["alias"] == "shared"


@META
def test_no_integration_means_builtin_default_with_end_user_scope(api: Api) -> None:
    ws = api.create_workspace("default")
    missing = err(api.execute("probe", "where", ws), 400, "VALIDATION_ERROR")
    assert missing["details"]["field"] == "endUserId"
    assert "endUserId" in missing["error"]
    out = api.output("probe", "where", ws, endUserId="user_12345")
    assert out == {"ns": "u:user_12345", "workspace": ws, "alias": "probe"}
    # integrations of other kinds do not count
    api.add_integration(ws, "kv-store", "state", WORKSPACE)
    assert api.output("probe", "where", ws, endUserId="u")["ns"] == "u:u"


@META
def test_end_user_scope_needs_end_user_id(api: Api) -> None:
    ws = api.create_workspace("eu")
    api.add_integration(ws, "probe", "per_user")  # default settings: end_user
    missing = err(
        api.execute("probe", "where", ws, integrationAlias="per_user"), 400, "VALIDATION_ERROR"
    )
    assert missing["details"]["field"] == "endUserId"
    for bad in ("", "  ", "a\x01b", "x" * 257):
        resp = api.execute("probe", "where", ws, integrationAlias="per_user", endUserId=bad)
        assert err(resp, 400, "VALIDATION_ERROR")["details"]["field"] == "endUserId", bad
    ok = api.output("probe", "where", ws, integrationAlias="per_user", endUserId="é" * 128)
    assert ok["ns"] == "u:" + "é" * 128
    # workspace and external scopes ignore endUserId
    api.add_integration(ws, "probe", "shared", WORKSPACE)
    assert api.output("probe", "where", ws, integrationAlias="shared", endUserId="u")["ns"] == "w"


@META
def test_enabled_actions(api: Api) -> None:
    ws = api.create_workspace("enabled")
    wi = api.add_integration(ws, "probe", "limited", WORKSPACE, enabledActions=["where"])
    assert api.output("probe", "where", ws, integrationAlias="limited")["ns"] == "w"
    denied = err(
        api.execute("probe", "other", ws, integrationAlias="limited"), 403, "ACTION_NOT_ALLOWED"
    )
    assert denied["details"] == {"alias": "limited", "enabledActions": ["where"]}
    api.ok("PATCH", f"/api/v1/workspaces/{ws}/integrations/{wi['id']}", {"enabledActions": []})
    err(api.execute("probe", "where", ws, integrationAlias="limited"), 403, "ACTION_NOT_ALLOWED")
    api.ok("PATCH", f"/api/v1/workspaces/{ws}/integrations/{wi['id']}", {"enabledActions": None})
    assert api.output("probe", "other", ws, integrationAlias="limited")["ns"] == "w"


@META
def test_selectors_that_name_nothing(api: Api) -> None:
    ws = api.create_workspace("nothing")
    kv = api.add_integration(ws, "kv-store", "state", WORKSPACE)
    api.add_integration(ws, "probe", "mine", WORKSPACE)

    unknown_alias = api.execute("probe", "where", ws, integrationAlias="nope")
    assert err(unknown_alias, 404, "INTEGRATION_NOT_FOUND")["details"]["field"] == (
        "integrationAlias"
    )
    unknown_id = api.execute(
        "probe", "where", ws, workspaceIntegrationId="00000000-0000-4000-8000-000000000000"
    )
    assert err(unknown_id, 404, "INTEGRATION_NOT_FOUND")["details"]["field"] == (
        "workspaceIntegrationId"
    )
    # an alias or id of another integration type
    other_alias = err(
        api.execute("probe", "where", ws, integrationAlias="state"), 400, "VALIDATION_ERROR"
    )
    assert other_alias["details"]["field"] == "integrationAlias"
    assert "kv-store" in other_alias["error"]
    other_id = err(
        api.execute("probe", "where", ws, workspaceIntegrationId=kv["id"]), 400, "VALIDATION_ERROR"
    )
    assert other_id["details"]["field"] == "workspaceIntegrationId"

    err(api.execute("nope", "where", ws), 404, "INTEGRATION_NOT_FOUND")
    missing_action = err(api.execute("probe", "fly", ws), 404, "ACTION_NOT_FOUND")
    assert missing_action["details"]["field"] == "actionName"
    for bad_ws in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        err(api.execute("probe", "where", bad_ws, endUserId="u"), 404, "NOT_FOUND")
    # an alias from another workspace is not visible here
    other_ws = api.create_workspace("elsewhere")
    elsewhere = api.execute("probe", "where", other_ws, integrationAlias="mine")
    err(elsewhere, 404, "INTEGRATION_NOT_FOUND")


def test_input_handling(api: Api) -> None:
    ws = api.create_workspace("input")
    api.add_integration(ws, "probe", "p", WORKSPACE)
    assert api.output("probe", "where", ws, None)["ns"] == "w"  # input omitted
    resp = api.request(
        "POST",
        "/api/v1/actions/execute",
        {"integrationName": "probe", "actionName": "where", "workspaceId": ws, "input": None},
    )
    assert resp.status_code == 200, resp.text
    bad = err(api.execute("probe", "where", ws, {"note": 5}), 400, "VALIDATION_ERROR")
    assert bad["details"]["field"] == "input.note"
    unknown = err(api.execute("probe", "where", ws, {"scope": "x"}), 400, "VALIDATION_ERROR")
    assert unknown["details"]["field"] == "input.scope"
    # accepted and ignored request fields of the SDKs
    ok = api.execute(
        "probe",
        "where",
        ws,
        {},
        idempotencyKey="idem-1",
        partialIds=["a"],
        connectionExternalId="c",
    )
    assert ok.status_code == 200, ok.text


@META
def test_namespaces_follow_persistence_settings(api: Api) -> None:
    """Equal persistence settings share data; anything else never does."""
    ws = api.create_workspace("ns")
    other_ws = api.create_workspace("ns-other")
    api.add_integration(ws, "kv-store", "shared", WORKSPACE)
    api.add_integration(ws, "kv-store", "shared_too", WORKSPACE)
    api.add_integration(ws, "kv-store", "t1", tenant("tenant_123"))
    api.add_integration(ws, "kv-store", "t1_again", tenant("tenant_123"))
    api.add_integration(ws, "kv-store", "t2", tenant("tenant_456"))
    api.add_integration(ws, "kv-store", "per_user")
    api.add_integration(other_ws, "kv-store", "t1", tenant("tenant_123"))

    def put(where: str, alias: str, value: Any, user: str | None = None) -> None:
        extra = {"endUserId": user} if user else {}
        api.output(
            "kv-store", "put", where, {"key": "k", "value": value}, integrationAlias=alias, **extra
        )

    def get(where: str, alias: str, user: str | None = None) -> Any:
        extra = {"endUserId": user} if user else {}
        return api.output("kv-store", "get", where, {"key": "k"}, integrationAlias=alias, **extra)[
            "value"
        ]

    put(ws, "shared", "W")
    put(ws, "t1", "T1")
    put(ws, "t2", "T2")
    put(ws, "per_user", "U1", "u1")
    assert get(ws, "shared_too") == "W"
    assert get(ws, "t1_again") == "T1"
    assert get(ws, "t2") == "T2"
    assert get(ws, "per_user", "u1") == "U1"
    assert get(ws, "per_user", "u2") is None
    assert get(other_ws, "t1") is None
    # a user called "w" or a tenant called "u:u1" cannot alias another scope
    assert get(ws, "per_user", "w") is None
    api.add_integration(ws, "kv-store", "tricky", tenant("u:u1"))
    assert get(ws, "tricky") is None


def _sql_counter(services: Services) -> tuple[list[str], Any]:
    """Record every statement the SQLite connections run (reads inline, writes in the writer)."""
    db = services.meta.closer
    seen: list[str] = []
    conns = [db._reader, db._writer_conn]  # type: ignore[attr-defined]
    for conn in conns:
        conn.set_trace_callback(seen.append)

    def stop() -> None:
        for conn in conns:
            conn.set_trace_callback(None)

    return seen, stop


def _data_statements(statements: list[str]) -> list[str]:
    """Statements that touch a table (not BEGIN/COMMIT/SAVEPOINT bookkeeping)."""
    return [s for s in statements if re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", s, re.I)]


@pytest.mark.parametrize("selector", ["alias", "only-one", "default"])
def test_warm_execute_costs_one_query_beyond_the_action(
    api: Api, services: Services, selector: str
) -> None:
    """Acceptance 6: with warm caches, one execute = the action's own statements + one."""
    ws = api.create_workspace("hot")
    extra: dict[str, Any] = {"endUserId": "u1"}
    if selector != "default":
        api.add_integration(ws, "kv-store", "state", WORKSPACE)
    if selector == "alias":
        extra["integrationAlias"] = "state"
    api.output("kv-store", "put", ws, {"key": "k", "value": [1, 2]}, **extra)
    api.output("kv-store", "get", ws, {"key": "k"}, **extra)  # warm: key cache and all

    seen, stop = _sql_counter(services)
    try:
        assert api.output("kv-store", "get", ws, {"key": "k"}, **extra)["value"] == [1, 2]
    finally:
        stop()
    data = _data_statements(seen)
    action = [s for s in data if "kv_" in s]
    overhead = [s for s in data if "kv_" not in s]
    # Resolving workspace + integration is one query, none while the integration cache holds
    # the answer (only answers that name an integration are cached: "default" always asks).
    assert len(overhead) <= 1, overhead
    if selector == "default":
        assert len(overhead) == 1 and "workspace_integrations" in overhead[0]
    assert len(action) <= 2, action  # the list value: entry row + its items
    assert not [s for s in seen if "api_keys" in s]  # auth served from the cache


def test_warm_put_writes_nothing_but_the_action(api: Api, services: Services) -> None:
    ws = api.create_workspace("hot-put")
    api.add_integration(ws, "kv-store", "state", WORKSPACE)
    api.output("kv-store", "put", ws, {"key": "k", "value": 1})
    seen, stop = _sql_counter(services)
    try:
        api.output("kv-store", "put", ws, {"key": "k", "value": 2})
    finally:
        stop()
    overhead = [s for s in _data_statements(seen) if "kv_" not in s]
    assert len(overhead) <= 1, overhead  # zero while the integration cache is warm
    assert not [s for s in seen if "api_keys" in s]


def test_integration_changes_take_effect_at_once_in_this_process(api: Api) -> None:
    """The execute lookup is cached, but every change made here drops the cached answer."""
    ws = api.create_workspace("cache-drop")
    wi = api.add_integration(ws, "kv-store", "state", WORKSPACE)
    api.output("kv-store", "put", ws, {"key": "k", "value": "shared"})
    assert api.output("kv-store", "get", ws, {"key": "k"})["value"] == "shared"
    api.ok(
        "PATCH",
        f"/api/v1/workspaces/{ws}/integrations/{wi['id']}",
        {"settings": {"persistence": {"scope": "external", "externalId": "t1"}}},
    )
    assert api.output("kv-store", "get", ws, {"key": "k"})["value"] is None
    api.ok("PATCH", f"/api/v1/workspaces/{ws}/integrations/{wi['id']}", {"enabledActions": ["put"]})
    assert api.execute("kv-store", "get", ws, {"key": "k"}).json()["code"] == "ACTION_NOT_ALLOWED"
    api.ok("DELETE", f"/api/v1/workspaces/{ws}/integrations/{wi['id']}")
    resp = api.execute("kv-store", "get", ws, {"key": "k"})  # built-in default: end_user
    assert resp.status_code == 400 and resp.json()["details"]["field"] == "endUserId"
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    assert api.execute("kv-store", "get", ws, {"key": "k"}, endUserId="u").status_code == 404
