"""Every KV Store example of the spec, sent verbatim over HTTP (only the workspace id differs:
the spec's 550e8400-... is a placeholder for the caller's own workspace)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.conformance

SPEC_WORKSPACE = "550e8400-e29b-41d4-a716-446655440000"

STATE_INTEGRATION = """{
    "integrationName": "kv-store",
    "alias": "state",
    "displayName": "Workspace State",
    "settings": { "persistence": { "scope": "workspace" } }
  }"""

STORE_A_VALUE = """{
    "integrationName": "kv-store",
    "actionName": "put",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "integrationAlias": "state",
    "input": {
      "key": "last_sync_timestamp",
      "value": "2025-01-15T10:00:00Z"
    }
  }"""

RETRIEVE_A_VALUE = """{
    "integrationName": "kv-store",
    "actionName": "get",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "key": "last_sync_timestamp"
    }
  }"""

MANAGE_LISTS = """{
    "integrationName": "kv-store",
    "actionName": "add_to_list",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "key": "processed_orders",
      "value": "order_123"
    }
  }"""

CHECK_CACHE = """{
    "integrationName": "kv-store",
    "actionName": "get",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "integrationAlias": "state",
    "input": { "key": "cache:slack:channels:W123" }
  }"""

SYNC_STATUS = """{
    "integrationName": "kv-store",
    "actionName": "put",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "key": "sync:cust_123:status",
      "value": "in_progress"
    }
  }"""

TENANT_KV = """{
    "integrationName": "kv-store",
    "alias": "tenant_kv",
    "settings": {
      "persistence": { "scope": "external", "externalId": "tenant_123" }
    }
  }"""


def send(api: Api, path: str, body: str, ws: str) -> dict:  # type: ignore[type-arg]
    """POST a spec body exactly as curl -d would send it (the text, not re-encoded JSON)."""
    resp = api.client.post(
        path,
        content=body.replace(SPEC_WORKSPACE, ws).encode(),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert resp.status_code in (200, 201), resp.text
    assert resp.headers["content-type"] == "application/json"
    return dict(resp.json())


def execute(api: Api, body: str, ws: str) -> dict:  # type: ignore[type-arg]
    result = send(api, "/api/v1/actions/execute", body, ws)
    assert result["success"] is True
    assert isinstance(result["duration"], (int, float))
    return dict(result["output"])


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("spec-kv")
    send(api, f"/api/v1/workspaces/{workspace}/integrations", STATE_INTEGRATION, workspace)
    return workspace


def test_store_then_retrieve_without_alias(api: Api, ws: str) -> None:
    assert execute(api, STORE_A_VALUE, ws) == {
        "key": "last_sync_timestamp",
        "value": "2025-01-15T10:00:00Z",
        "version": 1,
        "expiresAt": None,
    }
    # No alias: the workspace's only kv-store integration ("state") runs, same data.
    assert execute(api, RETRIEVE_A_VALUE, ws) == {
        "key": "last_sync_timestamp",
        "value": "2025-01-15T10:00:00Z",
        "version": 1,
        "expiresAt": None,
    }


def test_manage_lists(api: Api, ws: str) -> None:
    assert execute(api, MANAGE_LISTS, ws) == {"key": "processed_orders", "length": 1, "version": 1}
    assert execute(api, MANAGE_LISTS, ws) == {"key": "processed_orders", "length": 2, "version": 2}
    got = api.output("kv-store", "get", ws, {"key": "processed_orders"})
    assert got == {
        "key": "processed_orders",
        "value": ["order_123", "order_123"],
        "version": 2,
        "expiresAt": None,
    }


def test_caching_pattern(api: Api, ws: str) -> None:
    """Check cache -> miss gives value null (so `if not output.value` works) -> fill -> hit."""
    miss = execute(api, CHECK_CACHE, ws)
    assert miss == {
        "key": "cache:slack:channels:W123",
        "value": None,
        "version": 0,
        "expiresAt": None,
    }
    channels = [{"id": "C1", "name": "general"}, {"id": "C2", "name": "random"}]
    api.output(
        "kv-store",
        "put",
        ws,
        {"key": "cache:slack:channels:W123", "value": channels},
        integrationAlias="state",
    )
    hit = execute(api, CHECK_CACHE, ws)
    assert hit["value"] == channels


def test_sync_status_pattern(api: Api, ws: str) -> None:
    assert execute(api, SYNC_STATUS, ws) == {
        "key": "sync:cust_123:status",
        "value": "in_progress",
        "version": 1,
        "expiresAt": None,
    }
    done = SYNC_STATUS.replace('"in_progress"', '"completed"')
    execute(api, done, ws)
    got = api.output(
        "kv-store", "get", ws, {"key": "sync:cust_123:status"}, integrationAlias="state"
    )
    assert got["value"] == "completed"


def test_custom_namespace_example_is_isolated(api: Api, ws: str) -> None:
    send(api, f"/api/v1/workspaces/{ws}/integrations", TENANT_KV, ws)
    execute(api, STORE_A_VALUE, ws)
    tenant = api.output(
        "kv-store", "get", ws, {"key": "last_sync_timestamp"}, integrationAlias="tenant_kv"
    )
    assert tenant["value"] is None
    # With two kv-store integrations, the spec's alias-less call is now ambiguous.
    resp = api.client.post(
        "/api/v1/actions/execute",
        headers=api.headers(),
        content=RETRIEVE_A_VALUE.replace(SPEC_WORKSPACE, ws),
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "AMBIGUOUS_INTEGRATION"
    assert resp.json()["details"]["aliases"] == ["state", "tenant_kv"]


def test_values_are_any_json(api: Api, ws: str) -> None:
    for value in [
        None,
        True,
        0,
        -1.5,
        "",
        "ünïcødé ✓",
        [],
        {},
        {"a": [1, {"b": None}]},
        [[1], [2, [3]]],
        10**15,
    ]:
        api.output("kv-store", "put", ws, {"key": "any", "value": value})
        got = api.output("kv-store", "get", ws, {"key": "any"})
        assert json.dumps(got["value"]) == json.dumps(value)
