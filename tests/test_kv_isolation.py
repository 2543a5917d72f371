"""Isolation matrix: a KV value written in one cell is invisible from every other cell, through
get, add_to_list and remove_from_list. Cells vary workspace, scope and owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from cubby.core.scopes import Namespace
from tests.helpers import Api

pytestmark = pytest.mark.conformance


@dataclass(frozen=True)
class Cell:
    name: str
    ws: str
    alias: str
    end_user: str | None = None

    def extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"integrationAlias": self.alias}
        if self.end_user is not None:
            extra["endUserId"] = self.end_user
        return extra


@pytest.fixture
def cells(api: Api) -> list[Cell]:
    a = api.create_workspace("iso-a")
    b = api.create_workspace("iso-b")
    out: list[Cell] = []
    for ws, tag in ((a, "A"), (b, "B")):
        api.add_integration(ws, "kv-store", "users")  # default scope: end_user
        api.add_integration(ws, "kv-store", "shared", {"persistence": {"scope": "workspace"}})
        for tenant in ("tenant_123", "tenant_456"):
            api.add_integration(ws, "kv-store", tenant.replace("_", "-"),
                                {"persistence": {"scope": "external", "externalId": tenant}})
        out += [
            Cell(f"{tag}/user_12345", ws, "users", "user_12345"),
            Cell(f"{tag}/user_67890", ws, "users", "user_67890"),
            # An end user whose id equals a namespace key must still be a different cell.
            Cell(f"{tag}/user=tenant_123", ws, "users", "tenant_123"),
            Cell(f"{tag}/workspace", ws, "shared"),
            Cell(f"{tag}/tenant_123", ws, "tenant-123"),
            Cell(f"{tag}/tenant_456", ws, "tenant-456"),
        ]
    return out


def test_get_sees_only_own_cell(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        api.output("kv-store", "put", cell.ws, {"key": "k", "value": cell.name}, **cell.extra())
    for cell in cells:
        got = api.output("kv-store", "get", cell.ws, {"key": "k"}, **cell.extra())
        assert got["value"] == cell.name, cell


def test_lists_never_mix(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        for i in range(2):
            out = api.output("kv-store", "add_to_list", cell.ws,
                             {"key": "list", "value": f"{cell.name}#{i}"}, **cell.extra())
            assert out["length"] == i + 1, cell
    for cell in cells:
        # Removing another cell's item from here removes nothing, there or here.
        for other in cells:
            if other != cell:
                out = api.output("kv-store", "remove_from_list", cell.ws,
                                 {"key": "list", "value": f"{other.name}#0"}, **cell.extra())
                assert out == {"key": "list", "removed": 0, "length": 2}, (cell, other)
    for cell in cells:
        got = api.output("kv-store", "get", cell.ws, {"key": "list"}, **cell.extra())
        assert got["value"] == [f"{cell.name}#0", f"{cell.name}#1"]


def test_delete_touches_only_own_cell(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        api.output("kv-store", "put", cell.ws, {"key": "k", "value": cell.name}, **cell.extra())
    victim = cells[0]
    assert api.output("kv-store", "delete", victim.ws, {"key": "k"}, **victim.extra())[
        "deleted"] is True
    for cell in cells[1:]:
        assert api.output("kv-store", "get", cell.ws, {"key": "k"}, **cell.extra())[
            "value"] == cell.name


def test_equal_persistence_settings_share_data(api: Api) -> None:
    ws = api.create_workspace("twins")
    settings = {"persistence": {"scope": "external", "externalId": "tenant_123"}}
    api.add_integration(ws, "kv-store", "one", settings)
    api.add_integration(ws, "kv-store", "two", settings)
    api.add_integration(ws, "kv-store", "ws-one", {"persistence": {"scope": "workspace"}})
    api.add_integration(ws, "kv-store", "ws-two", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": "k", "value": 1}, integrationAlias="one")
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": "x"}, integrationAlias="two")
    assert api.output("kv-store", "get", ws, {"key": "k"}, integrationAlias="two")["value"] == 1
    assert api.output("kv-store", "get", ws, {"key": "l"}, integrationAlias="one")[
        "value"] == ["x"]
    api.output("kv-store", "put", ws, {"key": "w", "value": "shared"}, integrationAlias="ws-one")
    assert api.output("kv-store", "get", ws, {"key": "w"}, integrationAlias="ws-two")[
        "value"] == "shared"
    assert api.output("kv-store", "get", ws, {"key": "w"}, integrationAlias="one")[
        "value"] is None


def test_data_outlives_alias_removal(api: Api) -> None:
    """Data belongs to the scope, not to the alias (API.md, DELETE integration)."""
    ws = api.create_workspace("outlive")
    settings = {"persistence": {"scope": "workspace"}}
    first = api.add_integration(ws, "kv-store", "state", settings)
    api.output("kv-store", "put", ws, {"key": "k", "value": "kept"}, integrationAlias="state")
    api.ok("DELETE", f"/api/v1/workspaces/{ws}/integrations/{first['id']}")
    api.add_integration(ws, "kv-store", "state2", settings)
    assert api.output("kv-store", "get", ws, {"key": "k"})["value"] == "kept"


def test_deleting_a_workspace_removes_its_kv_data(api: Api) -> None:
    ws = api.create_workspace("doomed")
    other = api.create_workspace("survivor")
    for target in (ws, other):
        api.add_integration(target, "kv-store", "state", {"persistence": {"scope": "workspace"}})
        api.output("kv-store", "put", target, {"key": "k", "value": "v"})
        api.output("kv-store", "add_to_list", target, {"key": "l", "value": "v"})
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    assert api.output("kv-store", "get", other, {"key": "l"})["value"] == ["v"]
    kv = api.client.app.state.services.meta.kv
    # Ask the store directly, on the app's own event loop (the workspace is gone from the API).
    assert api.client.portal.call(kv.get, Namespace(ws, "w"), "k") is None
    assert api.client.portal.call(kv.get, Namespace(ws, "w"), "l") is None
