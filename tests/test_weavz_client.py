"""The real Weavz Python client (``weavz-io-sdk`` 0.1.2, installed by name as a dev dependency)
against cubby: its typed layer, its pydantic models and its agent-tool adapters, which is where
issue 13 found the walls. Only the base URL and the API key change.

The client builds its own ``httpx.Client``; here it is swapped for Starlette's TestClient (an
``httpx.Client`` too) so the calls run in process, through the client's own request code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from weavz_sdk import (
    WeavzClient,
    WeavzError,
    WorkspaceIntegration,
    create_action_tool,
    props_to_json_schema,
)

from cubby.app import create_app
from cubby.services import Services
from cubby.settings import Settings

BASE = "http://testserver"


@pytest.fixture
def weavz(settings: Settings, services: Services, org_key: str) -> Iterator[WeavzClient]:
    client = WeavzClient(api_key=org_key, base_url=BASE, max_retries=0)
    client._http.close()
    with TestClient(
        create_app(settings, services),
        base_url=BASE,
        headers={"Authorization": f"Bearer {org_key}"},
    ) as http:
        client._http = http
        yield client


def _workspace(client: WeavzClient, slug: str) -> str:
    return str(client.workspaces.create(name=slug.title(), slug=slug)["workspace"]["id"])


def test_typed_execute_sends_integers_as_floats_and_works(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "typed")
    weavz.actions.execute_typed(
        "storage", "write_file", workspace_id=ws, end_user_id="u",
        input={"path": "a.txt", "content": "hello", "contentEncoding": "utf-8"},
    )  # fmt: skip
    model = weavz.actions.input_model("storage", "get_download_url")
    assert model is not None
    sent = weavz.actions.validate_input(
        "storage", "get_download_url", {"path": "a.txt", "expiresInSeconds": 120}
    ).model_dump(by_alias=True, exclude_none=True)
    assert sent["expiresInSeconds"] == 120.0 and isinstance(sent["expiresInSeconds"], float)
    out = weavz.actions.execute_typed(
        "storage", "get_download_url", workspace_id=ws, end_user_id="u",
        input={"path": "a.txt", "expiresInSeconds": 120},
    )  # fmt: skip
    assert out["success"] is True and set(out["output"]) >= {"url", "expiresAt"}
    read = weavz.actions.execute_typed(
        "storage", "read_file", workspace_id=ws, end_user_id="u",
        input={"path": "a.txt", "outputEncoding": "UTF-8"},
    )  # fmt: skip
    assert read["output"]["content"] == "hello" and read["output"]["encoding"] == "utf8"
    with pytest.raises(WeavzError) as info:
        weavz.actions.execute(
            "storage", "get_download_url", workspace_id=ws, end_user_id="u",
            input={"path": "a.txt", "expiresInSeconds": 120.5},
        )  # fmt: skip
    assert info.value.status == 400 and info.value.details["field"] == "input.expiresInSeconds"


def test_workspace_integration_model_accepts_every_answer(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "models")
    answers: list[dict[str, Any]] = [
        weavz.workspaces.add_integration(ws, integration_name="storage")["integration"],
        weavz.workspaces.add_integration(
            ws, integration_name="kv-store", integration_alias="state",
            settings={"persistence": {"scope": "workspace"}}, enabled_actions=["get", "put"],
            connection_strategy="fixed", auth_method_key="none",
        )["integration"],
    ]  # fmt: skip
    updated = weavz.workspaces.update_integration(ws, answers[1]["id"], display_name="State")
    answers.append(updated["integration"])
    answers += weavz.workspaces.list_integrations(ws)["integrations"]
    for answer in answers:
        model = WorkspaceIntegration.model_validate(answer)
        assert model.connection_strategy == "fixed"
        assert model.display_name and model.enabled_actions
    plain = WorkspaceIntegration.model_validate(answers[0])
    assert plain.display_name == "Filesystem" and "write_file" in (plain.enabled_actions or [])
    assert WorkspaceIntegration.model_validate(answers[2]).enabled_actions == ["get", "put"]
    assert weavz.workspaces.remove_integration(ws, answers[0]["id"])["deleted"] is True


def test_agent_tool_adapters_see_the_dropdowns(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "tools")
    tool = create_action_tool(
        weavz, integration_name="storage", action_name="write_file", workspace_id=ws,
        end_user_id="agent-1",
    )  # fmt: skip
    props = tool.input_schema["properties"]
    assert props["contentEncoding"]["enum"] == ["utf8", "base64"]
    assert set(tool.input_schema["required"]) == {"path", "content"}
    tool.execute({"path": "notes/x.txt", "content": "aGk=", "contentEncoding": "base64"})
    reader = create_action_tool(
        weavz, integration_name="storage", action_name="read_file", workspace_id=ws,
        end_user_id="agent-1",
    )  # fmt: skip
    assert reader.input_schema["properties"]["outputEncoding"]["enum"] == ["utf8", "base64"]
    assert reader.execute({"path": "notes/x.txt"})["output"]["content"] == "hi"
    catalog = weavz.integrations.get("kv-store")["integration"]
    for action in catalog["actions"].values():
        schema = props_to_json_schema(action["props"])
        assert schema["type"] == "object" and set(schema["required"]) <= set(action["props"])


def test_execute_with_connection_fields_and_catalog_summary(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "conn")
    put = weavz.actions.execute(
        "kv-store", "put", workspace_id=ws, end_user_id="u", auth_method_key="api_key",
        input={"key": "k", "value": {"a": 1}},
    )  # fmt: skip
    assert put["output"]["key"] == "k"
    got = weavz.actions.execute("kv-store", "get", workspace_id=ws, end_user_id="u",
                                auth_method_key="api_key", input={"key": "k"})  # fmt: skip
    assert got["output"]["value"] == {"a": 1}
    for summary in (weavz.integrations.list(summary=True), weavz.integrations.list_summary()):
        assert set(summary) == {"integrations", "total"}
        names = {i["name"]: i for i in summary["integrations"]}
        assert names["storage"]["categories"] == ["CONTENT_AND_FILES"]
        assert names["kv-store"]["actionCount"] >= 5 and "actions" not in names["kv-store"]
    full = weavz.integrations.list()
    assert all("actions" in i and i["logoUrl"] for i in full["integrations"])


def test_org_scoped_keys_and_clamped_lists(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "keys")
    org = weavz.api_keys.create(name="org", scope="org")
    assert org["apiKey"]["permissions"] == {"scope": "org"}
    scoped = weavz.api_keys.create(name="ws", scope="workspace", workspace_ids=[ws])
    assert scoped["apiKey"]["permissions"]["workspaceIds"] == [ws]
    with_approvals = weavz.api_keys.create(
        name="a", permissions={"scope": "org", "approvals": {"decide": True}}
    )
    assert with_approvals["apiKey"]["permissions"]["approvals"] == {"decide": True}
    listed = weavz.workspaces.list(limit=500, include_suspended=True)
    assert [w["id"] for w in listed["workspaces"]] == [ws]
    assert weavz.api_keys.delete(org["apiKey"]["id"])["deleted"] is True


def test_end_users_resource(weavz: WeavzClient) -> None:
    ws = _workspace(weavz, "end-users")
    made = weavz.end_users.create(
        workspace_id=ws, external_id="user_123", display_name="Ada", email="ada@example.com",
        metadata={"plan": "pro"},
    )["endUser"]  # fmt: skip
    assert made["externalId"] == "user_123" and made["type"] == "external"
    with pytest.raises(WeavzError) as info:
        weavz.end_users.create(workspace_id=ws, external_id="user_123")
    assert info.value.status == 409 and info.value.code == "DUPLICATE"
    listed = weavz.end_users.list(ws, limit=10, offset=0)
    assert listed["total"] == 1 and listed["endUsers"] == [made]
    assert weavz.end_users.get(made["id"])["endUser"] == made
    updated = weavz.end_users.update(made["id"], display_name="Ada L.")["endUser"]
    assert updated["displayName"] == "Ada L." and updated["email"] == "ada@example.com"
    # the endUserId of execution is the externalId
    weavz.actions.execute("kv-store", "put", workspace_id=ws, end_user_id="user_123",
                          input={"key": "k", "value": 1})  # fmt: skip
    assert weavz.end_users.delete(made["id"]) == {"deleted": True, "id": made["id"]}
    with pytest.raises(WeavzError) as info:
        weavz.end_users.get(made["id"])
    assert info.value.status == 404
    # connect portals (the other two methods) need connections, which built-ins do not have
    with pytest.raises(WeavzError) as info:
        weavz.end_users.create_connect_token(made["id"], integration_name="storage")
    assert info.value.status in (404, 405)
