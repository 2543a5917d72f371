"""The SDK over a real socket against `cubby serve`.

First the spec's Python examples (spec/storage-and-kv-store.md, "Python SDK" tabs), written the
way the Weavz Python SDK spells them. Only the import line and the client class differ:
``from cubby_client import Cubby as WeavzClient`` and a ``base_url`` for the local server.
Then every resource and layer scenario of tests/test_sdk_resources.py and test_sdk_layer.py,
sync and async, each on a fresh server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cubby_client import AsyncCubby, Cubby

from tests.helpers import LiveServer, live_server
from tests.test_sdk_layer import LAYER_SCENARIOS
from tests.test_sdk_resources import SCENARIOS, AnyClient, run_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sdk-live")) as server:
        yield server


def new_workspace(server: LiveServer, slug: str) -> str:
    with Cubby(api_key=server.key, base_url=server.base_url) as client:
        return client.workspaces.create(name=slug.title(), slug=slug)["workspace"]["id"]


# -- the spec's Python examples ----------------------------------------------------------------


def test_setup_aliases_with_workspace_persistence(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-setup")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)

    client.workspaces.add_integration(
        workspace_id,
        integration_name="storage",
        alias="files",
        display_name="Workspace Files",
        settings={"persistence": {"scope": "workspace"}},
    )
    client.workspaces.add_integration(
        workspace_id,
        integration_name="kv-store",
        alias="state",
        display_name="Workspace State",
        settings={"persistence": {"scope": "workspace"}},
    )

    listed = client.workspaces.list_integrations(workspace_id)["integrations"]
    assert {(i["integrationName"], i["alias"], i["displayName"]) for i in listed} == {
        ("storage", "files", "Workspace Files"),
        ("kv-store", "state", "Workspace State"),
    }
    assert all(i["settings"] == {"persistence": {"scope": "workspace"}} for i in listed)


def _setup(client: Cubby, workspace_id: str) -> None:
    for name, alias in (("storage", "files"), ("kv-store", "state")):
        client.workspaces.add_integration(
            workspace_id,
            integration_name=name,
            alias=alias,
            settings={"persistence": {"scope": "workspace"}},
        )


def test_storage_write_read_list(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-storage")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)
    _setup(client, workspace_id)

    # Write a file
    result = client.actions.execute(
        "storage",
        "write_file",
        workspace_id=workspace_id,
        integration_alias="files",
        input={
            "path": "reports/monthly.json",
            "content": json.dumps({"month": "January", "total": 1500}),
        },
    )
    assert result["output"]["path"] == "reports/monthly.json"

    # Read a file
    result = client.actions.execute(
        "storage",
        "read_file",
        workspace_id=workspace_id,
        input={"path": "reports/monthly.json"},
    )
    data = json.loads(result["output"]["content"])
    assert data == {"month": "January", "total": 1500}

    # List files
    result = client.actions.execute(
        "storage",
        "list_files",
        workspace_id=workspace_id,
        input={"prefix": "reports/"},
    )
    assert [f["path"] for f in result["output"]["files"]] == ["reports/monthly.json"]

    # Delete a file
    result = client.actions.execute(
        "storage",
        "delete_file",
        workspace_id=workspace_id,
        integration_alias="files",
        input={"path": "reports/monthly.json"},
    )
    assert result["output"]["deleted"] is True


def test_kv_put_get_add_to_list(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-kv")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)
    _setup(client, workspace_id)

    # Store a value
    client.actions.execute(
        "kv-store",
        "put",
        workspace_id=workspace_id,
        integration_alias="state",
        input={"key": "last_sync_timestamp", "value": "2025-01-15T10:00:00Z"},
    )

    # Retrieve a value
    result = client.actions.execute(
        "kv-store",
        "get",
        workspace_id=workspace_id,
        input={"key": "last_sync_timestamp"},
    )
    assert result["output"]["value"] == "2025-01-15T10:00:00Z"

    # Manage lists
    result = client.actions.execute(
        "kv-store",
        "add_to_list",
        workspace_id=workspace_id,
        input={"key": "processed_orders", "value": "order_123"},
    )
    assert result["output"]["length"] == 1
    client.actions.execute(
        "kv-store",
        "add_to_list",
        workspace_id=workspace_id,
        input={"key": "processed_orders", "value": "order_456"},
    )
    client.actions.execute(
        "kv-store",
        "remove_from_list",
        workspace_id=workspace_id,
        input={"key": "processed_orders", "value": "order_123"},
    )
    result = client.actions.execute(
        "kv-store", "get", workspace_id=workspace_id, input={"key": "processed_orders"}
    )
    assert result["output"]["value"] == ["order_456"]


def test_caching_pattern(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-cache")
    fetches: list[str] = []

    def fetch_slack_channels(team: str) -> list[dict[str, str]]:
        fetches.append(team)
        return [{"id": "C1", "name": "general"}]

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)
    _setup(client, workspace_id)

    def list_channels() -> list[dict[str, str]]:
        # Check cache
        cached = client.actions.execute(
            "kv-store",
            "get",
            workspace_id=workspace_id,
            integration_alias="state",
            input={"key": "cache:slack:channels:W123"},
        )
        if not cached["output"]["value"]:
            channels = fetch_slack_channels("W123")
            client.actions.execute(
                "kv-store",
                "put",
                workspace_id=workspace_id,
                integration_alias="state",
                input={"key": "cache:slack:channels:W123", "value": channels},
            )
            return channels
        value: list[dict[str, str]] = cached["output"]["value"]
        return value

    assert list_channels() == [{"id": "C1", "name": "general"}]
    assert list_channels() == [{"id": "C1", "name": "general"}]
    assert fetches == ["W123"]  # the second call was a cache hit


def test_sync_status_pattern(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-sync")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)
    _setup(client, workspace_id)

    def status() -> object:
        result = client.actions.execute(
            "kv-store", "get", workspace_id=workspace_id, input={"key": "sync:cust_123:status"}
        )
        return result["output"]["value"]

    assert status() is None
    client.actions.execute(
        "kv-store",
        "put",
        workspace_id=workspace_id,
        input={"key": "sync:cust_123:status", "value": "in_progress"},
    )
    assert status() == "in_progress"
    client.actions.execute(
        "kv-store",
        "put",
        workspace_id=workspace_id,
        input={"key": "sync:cust_123:status", "value": "completed"},
    )
    assert status() == "completed"


def test_file_storage_use_case(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-exports")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)
    _setup(client, workspace_id)

    client.actions.execute(
        "storage",
        "write_file",
        workspace_id=workspace_id,
        input={
            "path": "exports/cust_123/report-2025-01.csv",
            "content": "name,amount\nAlice,100\nBob,200",
        },
    )
    result = client.actions.execute(
        "storage",
        "read_file",
        workspace_id=workspace_id,
        integration_alias="files",
        input={"path": "exports/cust_123/report-2025-01.csv"},
    )
    assert result["output"]["content"] == "name,amount\nAlice,100\nBob,200"


def test_persistence_scopes(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-scopes")

    from cubby_client import Cubby as WeavzClient

    client = WeavzClient(api_key=live.key, base_url=live.base_url)

    # Shared workspace
    client.workspaces.add_integration(
        workspace_id,
        integration_name="storage",
        alias="workspace_files",
        settings={"persistence": {"scope": "workspace"}},
    )
    # Custom namespace
    client.workspaces.add_integration(
        workspace_id,
        integration_name="kv-store",
        alias="tenant_kv",
        settings={"persistence": {"scope": "external", "externalId": "tenant_123"}},
    )
    client.workspaces.add_integration(
        workspace_id,
        integration_name="kv-store",
        alias="other_tenant_kv",
        settings={"persistence": {"scope": "external", "externalId": "tenant_456"}},
    )

    client.actions.execute(
        "storage",
        "write_file",
        workspace_id=workspace_id,
        integration_alias="workspace_files",
        input={"path": "shared.txt", "content": "for everyone"},
    )
    for user in ("user_12345", "user_67890"):  # every end user sees workspace data
        result = client.actions.execute(
            "storage",
            "read_file",
            workspace_id=workspace_id,
            integration_alias="workspace_files",
            end_user_id=user,
            input={"path": "shared.txt"},
        )
        assert result["output"]["content"] == "for everyone"

    client.actions.execute(
        "kv-store",
        "put",
        workspace_id=workspace_id,
        integration_alias="tenant_kv",
        input={"key": "plan", "value": "pro"},
    )
    other = client.actions.execute(
        "kv-store",
        "get",
        workspace_id=workspace_id,
        integration_alias="other_tenant_kv",
        input={"key": "plan"},
    )
    assert other["output"]["value"] is None

    # Current end user (the default): pass end_user_id
    client.workspaces.add_integration(workspace_id, integration_name="kv-store", alias="user_kv")
    client.actions.execute(
        "kv-store",
        "put",
        workspace_id=workspace_id,
        integration_alias="user_kv",
        end_user_id="user_12345",
        input={"key": "theme", "value": "dark"},
    )
    theirs = client.actions.execute(
        "kv-store",
        "get",
        workspace_id=workspace_id,
        integration_alias="user_kv",
        end_user_id="user_67890",
        input={"key": "theme"},
    )
    assert theirs["output"]["value"] is None


def test_async_client_runs_the_same_examples(live: LiveServer) -> None:
    workspace_id = new_workspace(live, "spec-async")

    async def main() -> None:
        from cubby_client import AsyncCubby as AsyncWeavzClient

        async with AsyncWeavzClient(api_key=live.key, base_url=live.base_url) as client:
            await client.workspaces.add_integration(
                workspace_id,
                integration_name="kv-store",
                alias="state",
                settings={"persistence": {"scope": "workspace"}},
            )
            await client.actions.execute(
                "kv-store",
                "put",
                workspace_id=workspace_id,
                integration_alias="state",
                input={"key": "last_sync_timestamp", "value": "2025-01-15T10:00:00Z"},
            )
            results = await asyncio.gather(
                *(
                    client.actions.execute(
                        "kv-store",
                        "add_to_list",
                        workspace_id=workspace_id,
                        input={"key": "processed_orders", "value": f"order_{i}"},
                    )
                    for i in range(20)
                )
            )
            assert sorted(r["output"]["length"] for r in results) == list(range(1, 21))

    asyncio.run(main())


# -- every scenario over a socket --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_all_scenarios_over_a_socket(mode: str, tmp_path: Path) -> None:
    with live_server(tmp_path) as server:

        def make(key: str) -> AnyClient:
            cls = Cubby if mode == "sync" else AsyncCubby
            return cls(api_key=key, base_url=server.base_url, max_retries=0)

        # a fresh client per asyncio.run: an AsyncClient's pool belongs to one event loop
        for name in SCENARIOS:
            run_scenario(name, make(server.key), make)
        for scenario in LAYER_SCENARIOS.values():
            asyncio.run(scenario(make(server.key)))

        with Cubby(api_key=server.key, base_url=server.base_url) as sync_client:
            ws = sync_client.workspaces.create(name="Dl", slug="dl")["workspace"]["id"]
            sync_client.workspaces.add_integration(ws, integration_name="storage", alias="files")
            files = sync_client.storage(ws, end_user_id="u1")
            files.write("x.bin", b"\x01\x02\x03", content_type="application/octet-stream")
            url = files.download_url("x.bin", expires_in=60)
        resp = httpx.get(url)  # a plain GET, no API key
        assert resp.status_code == 200 and resp.content == b"\x01\x02\x03"
