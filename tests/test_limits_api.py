"""Limits and usage (issue 25): the routes' shapes and rules, quotas refusing growth and nothing
else, per-end-user limits with erase (acceptance 2), and the rate limit's 429 in process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import keys
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.helpers import Api, cubby_cli, error_body

KIB = 1024
SHARED = {"persistence": {"scope": "workspace"}}
NO_LIMITS = {
    "maxBytes": None, "maxFiles": None, "maxKeys": None, "maxItems": None,
    "perEndUser": None, "requestsPerSecond": None, "burst": None,
}  # fmt: skip


def _usage(api: Api, ws: str) -> dict[str, int]:
    return dict(api.ok("GET", f"/api/v1/workspaces/{ws}/usage")["usage"])


def _put(api: Api, ws: str, key: str, size: int, **extra: Any) -> Any:
    """A KV put of a string value whose JSON text is ``size`` bytes."""
    return api.execute("kv-store", "put", ws, {"key": key, "value": "x" * (size - 2)}, **extra)


def _write(api: Api, ws: str, path: str, size: int, **extra: Any) -> Any:
    return api.execute("storage", "write_file", ws, {"path": path, "content": "y" * size}, **extra)


def test_routes_shapes_and_who_may_manage_limits(api: Api) -> None:
    ws = api.create_workspace("limits-routes")
    assert _usage(api, ws) == {"bytes": 0, "files": 0, "keys": 0, "items": 0, "endUsers": 0}
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/limits") == {"limits": NO_LIMITS}
    body = {
        "maxBytes": 10 * KIB, "maxKeys": 3, "perEndUser": {"maxFiles": 2},
        "requestsPerSecond": 100, "burst": 20,
    }  # fmt: skip
    want = {**NO_LIMITS, **body}
    want["perEndUser"] = {"maxBytes": None, "maxFiles": 2, "maxKeys": None, "maxItems": None}
    assert api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", body) == {"limits": want}
    assert api.ok("GET", f"/api/v1/workspaces/{ws}/limits") == {"limits": want}

    for bad, field in (({"maxBytes": -1}, "maxBytes"), ({"burst": 0}, "burst"), ({"x": 1}, "x")):
        resp = api.request("PUT", f"/api/v1/workspaces/{ws}/limits", bad)
        assert resp.status_code == 400, resp.text
        assert field in resp.text

    api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "ada"}, status=201)
    assert _usage(api, ws)["endUsers"] == 1

    restricted = api.ok(
        "POST", "/api/v1/api-keys",
        {"name": "ws-only", "permissions": {"scope": "workspace", "workspaceIds": [ws]}},
        status=201,
    )["plainKey"]  # fmt: skip
    for method, sent in (("GET", None), ("PUT", {"maxBytes": 1})):
        resp = api.request(method, f"/api/v1/workspaces/{ws}/limits", sent, key=restricted)
        error_body(resp, 403, "FORBIDDEN")
    # usage is readable by any key that may see the workspace
    assert api.request("GET", f"/api/v1/workspaces/{ws}/usage", key=restricted).status_code == 200

    missing = "00000000-0000-4000-8000-000000000000"
    error_body(api.request("GET", f"/api/v1/workspaces/{missing}/usage"), 404, "NOT_FOUND")
    error_body(api.request("GET", f"/api/v1/workspaces/{missing}/limits"), 404, "NOT_FOUND")


@pytest.mark.conformance
def test_quotas_refuse_growth_only(api: Api) -> None:
    ws = api.create_workspace("limits-quota")
    api.add_integration(ws, "kv-store", "kv", SHARED)
    api.add_integration(ws, "storage", "files", SHARED)
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxBytes": 10 * KIB, "maxKeys": 2})

    assert _put(api, ws, "a", 4 * KIB).status_code == 200
    assert _write(api, ws, "f1", 4 * KIB).status_code == 200
    assert _usage(api, ws) | {"endUsers": 0} == {
        "bytes": 8 * KIB, "files": 1, "keys": 1, "items": 0, "endUsers": 0,
    }  # fmt: skip

    refused = error_body(_write(api, ws, "f2", 3 * KIB), 403, "QUOTA_EXCEEDED")
    assert refused["details"] == {
        "limit": 10 * KIB, "used": 8 * KIB, "requested": 3 * KIB,
        "scope": "workspace", "resource": "bytes",
    }  # fmt: skip
    read = api.execute("storage", "read_file", ws, {"path": "f2"})
    assert read.status_code == 400 and "FILE_NOT_FOUND" in read.text  # nothing written

    assert _put(api, ws, "b", 1 * KIB).status_code == 200
    keys = error_body(_put(api, ws, "c", 10), 403, "QUOTA_EXCEEDED")["details"]
    assert (keys["resource"], keys["limit"], keys["used"], keys["requested"]) == ("keys", 2, 2, 1)
    assert api.output("kv-store", "get", ws, {"key": "c"})["value"] is None

    # an overwrite that grows is refused and leaves the old value; shrinking ones always pass
    grown = error_body(_put(api, ws, "a", 6 * KIB), 403, "QUOTA_EXCEEDED")["details"]
    assert grown["requested"] == 2 * KIB and grown["resource"] == "bytes"
    assert len(api.output("kv-store", "get", ws, {"key": "a"})["value"]) == 4 * KIB - 2
    assert _put(api, ws, "a", 1 * KIB).status_code == 200
    assert _write(api, ws, "f1", 1 * KIB).status_code == 200
    assert _usage(api, ws)["bytes"] == 3 * KIB

    # lowering a limit below usage: growth refused, deletes and reads work
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxBytes": 1 * KIB, "maxKeys": 2})
    error_body(_write(api, ws, "f1", 1 * KIB + 1), 403, "QUOTA_EXCEEDED")
    assert api.execute("storage", "read_file", ws, {"path": "f1"}).status_code == 200
    api.output("kv-store", "delete", ws, {"key": "a"})
    api.output("storage", "delete_file", ws, {"path": "f1"})
    assert _usage(api, ws) | {"endUsers": 0} == {
        "bytes": 1 * KIB, "files": 0, "keys": 1, "items": 0, "endUsers": 0,
    }  # fmt: skip

    # null puts the server default back: none here
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {})
    assert _write(api, ws, "big", 20 * KIB).status_code == 200


@pytest.mark.conformance
def test_end_user_limits_and_erase(api: Api) -> None:
    """Acceptance 2: A at its limit is refused while B writes; erasing A brings the workspace's
    usage down by exactly A's figures."""
    ws = api.create_workspace("limits-end-users")
    api.add_integration(ws, "kv-store", "kv")  # end_user scope (the default)
    api.add_integration(ws, "storage", "files")
    api.add_integration(ws, "kv-store", "shared-kv", SHARED)
    api.ok(
        "PUT", f"/api/v1/workspaces/{ws}/limits",
        {"perEndUser": {"maxBytes": 8 * KIB, "maxFiles": 3, "maxKeys": 5}},
    )  # fmt: skip
    a = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "a"}, 201)
    assert _put(api, ws, "shared", 2 * KIB, integrationAlias="shared-kv").status_code == 200
    for i in range(3):
        assert _write(api, ws, f"a{i}", 2 * KIB, endUserId="a").status_code == 200
    assert _put(api, ws, "k", 1 * KIB, endUserId="a", integrationAlias="kv").status_code == 200
    refused = error_body(_write(api, ws, "a3", 10, endUserId="a"), 403, "QUOTA_EXCEEDED")
    assert refused["details"]["scope"] == "end_user"
    assert refused["details"]["resource"] == "files"
    too_big = error_body(
        _put(api, ws, "k2", 2 * KIB, endUserId="a", integrationAlias="kv"), 403, "QUOTA_EXCEEDED"
    )
    assert too_big["details"] == {
        "limit": 8 * KIB, "used": 7 * KIB, "requested": 2 * KIB,
        "scope": "end_user", "resource": "bytes",
    }  # fmt: skip
    for i in range(3):  # B is not held back by A
        assert _write(api, ws, f"b{i}", 2 * KIB, endUserId="b").status_code == 200
    # the workspace scope has no per-end-user limit
    assert _put(api, ws, "shared2", 6 * KIB, integrationAlias="shared-kv").status_code == 200

    a_usage = api.ok("GET", f"/api/v1/end-users/{a['endUser']['id']}/usage")["usage"]
    assert (a_usage["keys"], a_usage["files"], a_usage["bytes"]) == (1, 3, 7 * KIB)
    before = _usage(api, ws)
    assert before["bytes"] == 2 * KIB + 7 * KIB + 6 * KIB + 6 * KIB
    erased = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "a"})
    assert {k: erased["erased"][k] for k in ("keys", "files", "bytes")} == {
        k: a_usage[k] for k in ("keys", "files", "bytes")
    }
    after = _usage(api, ws)
    for field in ("bytes", "files", "keys"):
        assert before[field] - after[field] == a_usage[field], field
    # A may write again after the erase
    assert _write(api, ws, "again", 10, endUserId="a").status_code == 200


def test_rate_limit_in_process(api: Api, services: Services) -> None:
    ws = api.create_workspace("limits-rate")
    other = api.create_workspace("limits-rate-other")
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"requestsPerSecond": 1, "burst": 3})
    answers = [api.execute("kv-store", "get", ws, {"key": "k"}, endUserId="u") for _ in range(6)]
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    refusals = [r for r in answers if r.status_code == 429]
    assert refusals, [r.status_code for r in answers]
    for resp in refusals:
        body = error_body(resp, 429, "RATE_LIMITED")
        assert int(resp.headers["retry-after"]) >= 1
        assert body["details"] == {"limit": 1.0, "retryAfter": int(resp.headers["retry-after"])}
    assert all(
        api.execute("kv-store", "get", other, {"key": "k"}, endUserId="u").status_code == 200
        for _ in range(10)
    )
    # lifting the limit through this process applies at once
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {})
    assert api.execute("kv-store", "get", ws, {"key": "k"}, endUserId="u").status_code == 200
    assert services.rate_limiter.refused >= len(refusals)


def test_cli_limits_usage_and_recount(tmp_path: Path) -> None:
    env = {"CUBBY_DATA_DIR": str(tmp_path / "data")}
    made = cubby_cli("api-keys", "create", "--name", "t", "--create-data-dir", env=env)
    assert made.returncode == 0, made.stderr
    created = cubby_cli("workspaces", "create", "Acme", "--slug", "acme", env=env)
    assert created.returncode == 0, created.stderr
    set_ = cubby_cli(
        "workspaces", "limits", "acme", "--max-bytes", "1GiB", "--max-keys", "100",
        "--end-user-max-bytes", "50MB", "--requests-per-second", "50", "--burst", "10",
        "--json", env=env,
    )  # fmt: skip
    assert set_.returncode == 0, set_.stderr
    assert json.loads(set_.stdout) == {
        **NO_LIMITS, "maxBytes": 2**30, "maxKeys": 100, "requestsPerSecond": 50.0, "burst": 10,
        "perEndUser": {"maxBytes": 50_000_000, "maxFiles": None, "maxKeys": None, "maxItems": None},
    }  # fmt: skip
    cleared = cubby_cli("workspaces", "limits", "acme", "--max-bytes", "none", env=env)
    assert cleared.returncode == 0 and "max bytes: none" in cleared.stdout
    assert "max keys: 100" in cleared.stdout
    bad = cubby_cli("workspaces", "limits", "acme", "--max-bytes", "lots", env=env)
    assert bad.returncode != 0 and "--max-bytes" in bad.stderr
    usage = cubby_cli("workspaces", "usage", "acme", "--json", env=env)
    assert json.loads(usage.stdout) == {
        "bytes": 0, "files": 0, "keys": 0, "items": 0, "endUsers": 0,
    }  # fmt: skip
    recount = cubby_cli("usage", "--recount", env=env)
    assert recount.returncode == 0 and recount.stdout.startswith("recounted: 1 counter rows")


@pytest.mark.conformance
@pytest.mark.metadata_only
def test_items_count_and_limit(api: Api) -> None:
    """Agent-tool items (memory entities + scratchpad pages + thoughts) are counted and capped."""
    ws = api.create_workspace("limits-items")
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxItems": 3})
    pad = "agent-scratchpad"
    for name in ("a", "b"):
        api.output(pad, "write_page", ws, {"pageName": name, "content": "hi"}, endUserId="u")
    api.output(pad, "write_page", ws, {"pageName": "a", "content": "again"}, endUserId="u")
    api.output(
        "agent-memory", "create_entities", ws,
        {"entities": [{"name": "Ada", "type": "person"}]},
        endUserId="u",
    )  # fmt: skip
    assert _usage(api, ws)["items"] == 3
    page = {"pageName": "c", "content": "x"}
    refused = error_body(
        api.execute(pad, "write_page", ws, page, endUserId="v"), 403, "QUOTA_EXCEEDED"
    )
    assert refused["details"] == {
        "limit": 3, "used": 3, "requested": 1, "scope": "workspace", "resource": "items",
    }  # fmt: skip
    api.output(pad, "delete_page", ws, {"pageName": "b"}, endUserId="u")
    assert _usage(api, ws)["items"] == 2
    api.output(pad, "write_page", ws, page, endUserId="v")
    erased = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "u"})
    assert erased["erased"]["items"] == 2
    assert _usage(api, ws)["items"] == 1


def test_metrics_refusals_and_top_usage(settings: Settings) -> None:
    config = settings.with_overrides(metrics="anyone")
    services = build_services(config)
    _, org_key = asyncio.run(keys.create_key(services.meta, "tests", None, None))
    with TestClient(create_app(config, services)) as client:
        api = Api(client, org_key)
        ws = api.create_workspace("limits-metrics")
        api.add_integration(ws, "kv-store", "kv", SHARED)
        api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxKeys": 1})
        assert _put(api, ws, "a", 10).status_code == 200
        error_body(_put(api, ws, "b", 10), 403, "QUOTA_EXCEEDED")
        text = client.get("/metrics").text
    services.close()
    assert f'cubby_workspace_usage{{workspace="{ws}",resource="keys"}} 1' in text
    assert f'cubby_workspace_usage{{workspace="{ws}",resource="bytes"}} 10' in text
    refusals = [
        line for line in text.splitlines()
        if line.startswith('cubby_limit_refusals_total{kind="quota",resource="keys"}')
    ]  # fmt: skip
    assert refusals and float(refusals[0].rsplit(" ", 1)[1]) >= 1


@pytest.mark.conformance
@pytest.mark.metadata_only
def test_quota_refusal_inside_an_exactly_once_execute(api: Api) -> None:
    """A keyed (idempotent) write refused by a quota answers 403 and records nothing, so the
    same key works once room is made."""
    ws = api.create_workspace("limits-keyed")
    api.add_integration(ws, "kv-store", "kv", SHARED)
    api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxKeys": 1})
    assert _put(api, ws, "a", 10).status_code == 200
    refused = _put(api, ws, "b", 10, idempotencyKey="once-b")
    error_body(refused, 403, "QUOTA_EXCEEDED")
    api.output("kv-store", "delete", ws, {"key": "a"})
    again = _put(api, ws, "b", 10, idempotencyKey="once-b")
    assert again.status_code == 200, again.text
    assert _usage(api, ws)["keys"] == 1
