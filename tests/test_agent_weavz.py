"""Acceptance 1 of issue 23: the Weavz Python client's typed layer (``weavz-io-sdk``, its
generated input models) runs every action of the three agent tools against cubby, with only
the base URL and the key changed. ``thoughtId`` goes out as a float (the models type it so)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from weavz_sdk import WeavzClient, WeavzError

from cubby.app import create_app
from cubby.services import Services
from cubby.settings import Settings

# the agent tools keep everything in the metadata database: the +s3 runs would add nothing
pytestmark = [pytest.mark.conformance, pytest.mark.metadata_only]

BASE = "http://testserver"
ACTIONS = {
    "agent-memory": {
        "create_entities", "add_observations", "create_relations", "search", "read_graph",
        "get_entity", "delete_entities", "delete_observations", "delete_relations",
    },
    "agent-scratchpad": {
        "read_page", "write_page", "append_page", "list_pages", "search_pages", "delete_page",
        "clear_all",
    },
    "sequential-thinking": {
        "add_thought", "branch_thought", "revise_thought", "get_chain", "summarize_chain",
    },
}  # fmt: skip


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


def test_every_action_through_the_typed_layer(weavz: WeavzClient) -> None:
    ws = str(weavz.workspaces.create(name="Agents", slug="agents")["workspace"]["id"])
    ran: dict[str, set[str]] = {name: set() for name in ACTIONS}

    def typed(integration: str, action: str, input: dict[str, Any]) -> Any:
        assert weavz.actions.input_model(integration, action) is not None, (integration, action)
        out = weavz.actions.execute_typed(
            integration, action, workspace_id=ws, end_user_id="agent-user", input=input
        )
        assert out["success"] is True, out
        ran[integration].add(action)
        return out["output"]

    m = "agent-memory"
    created = typed(m, "create_entities", {"entities": [
        {"name": "Alice", "type": "person", "observations": ["Alice's team ships"]},
        {"name": "Acme", "type": "company"},
    ]})  # fmt: skip
    assert [e["name"] for e in created["entities"]] == ["Alice", "Acme"]
    added = typed(
        m,
        "add_observations",
        {"observations": [{"entityName": "Acme", "contents": ["makes anvils"]}]},
    )
    assert added["results"] == [{"entityName": "Acme", "added": ["makes anvils"]}]
    typed(m, "create_relations", {"relations": [{"from": "Alice", "to": "Acme",
                                                 "type": "works_at"}]})  # fmt: skip
    found = typed(m, "search", {"query": "alice"})
    assert [e["name"] for e in found["entities"]] == ["Alice"]
    graph = typed(m, "read_graph", {})
    assert [e["name"] for e in graph["entities"]] == ["Acme", "Alice"]
    assert len(graph["relations"]) == 1
    assert typed(m, "get_entity", {"name": "Acme"})["relations"][0]["from"] == "Alice"
    assert (
        typed(m, "delete_observations", {"entityName": "Acme", "observations": ["makes anvils"]})[
            "deleted"
        ]
        == 1
    )
    assert typed(
        m, "delete_relations", {"relations": [{"from": "Alice", "to": "Acme", "type": "works_at"}]}
    ) == {"deleted": 1}
    assert typed(m, "delete_entities", {"names": ["Alice", "Acme"]}) == {"deleted": 2}

    s = "agent-scratchpad"
    assert typed(s, "write_page", {"pageName": "plan", "content": "step one"})["size"] == 8
    assert typed(s, "append_page", {"pageName": "plan", "content": "; step two"})["size"] == 18
    assert typed(s, "read_page", {"pageName": "plan"})["content"] == "step one; step two"
    assert [p["pageName"] for p in typed(s, "list_pages", {})["pages"]] == ["plan"]
    hits = typed(s, "search_pages", {"query": "two"})["results"]
    assert hits[0]["pageName"] == "plan" and "two" in hits[0]["snippet"]
    assert typed(s, "delete_page", {"pageName": "plan"}) == {"pageName": "plan", "deleted": True}
    typed(s, "write_page", {"pageName": "x", "content": "y"})
    assert typed(s, "clear_all", {}) == {"deleted": 1}

    t = "sequential-thinking"
    assert typed(t, "add_thought", {"chainId": "c1", "content": "first"})["length"] == 1
    typed(t, "add_thought", {"chainId": "c1", "content": "second"})
    sent = weavz.actions.validate_input(
        t, "branch_thought", {"chainId": "c1", "thoughtId": 1, "branchName": "b", "content": "x"}
    ).model_dump(by_alias=True, exclude_none=True)
    assert isinstance(sent["thoughtId"], float)  # what the typed layer puts on the wire
    branched = typed(t, "branch_thought", {"chainId": "c1", "thoughtId": 1, "branchName": "b",
                                           "content": "what if"})  # fmt: skip
    assert branched["thought"]["thoughtId"] == 3 and branched["thought"]["branchFrom"] == 1
    revised = typed(t, "revise_thought", {"chainId": "c1", "thoughtId": 2, "content": "2nd"})
    assert revised["thought"]["previous"] == ["second"]
    chain = typed(t, "get_chain", {"chainId": "c1", "includeBranches": True})
    assert [x["thoughtId"] for x in chain["thoughts"]] == [1, 2, 3]
    assert typed(t, "summarize_chain", {"chainId": "c1"})["revisionCount"] == 1

    assert ran == ACTIONS
    # a half thought id is refused, naming the field; an unknown one is THOUGHT_NOT_FOUND
    with pytest.raises(WeavzError) as info:
        weavz.actions.execute(
            t, "revise_thought", workspace_id=ws, end_user_id="agent-user",
            input={"chainId": "c1", "thoughtId": 1.5, "content": "x"},
        )  # fmt: skip
    assert info.value.status == 400 and info.value.details["field"] == "input.thoughtId"
    with pytest.raises(WeavzError) as info:
        weavz.actions.execute_typed(
            t, "revise_thought", workspace_id=ws, end_user_id="agent-user",
            input={"chainId": "c1", "thoughtId": 99, "content": "x"},
        )  # fmt: skip
    assert info.value.status == 400 and info.value.details["reason"] == "THOUGHT_NOT_FOUND"


def test_catalog_describes_the_three(weavz: WeavzClient) -> None:
    names = [
        ("agent-memory", "Agent Memory"),
        ("agent-scratchpad", "Agent Scratchpad"),
        ("sequential-thinking", "Sequential Thinking"),
    ]
    for name, display in names:
        info = weavz.integrations.get(name)["integration"]
        assert info["displayName"] == display and info["categories"] == ["AI"]
        assert set(info["actions"]) == ACTIONS[name]
