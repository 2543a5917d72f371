"""Isolation matrix: a KV value written in one cell is invisible from every other cell, through
get, add_to_list and remove_from_list. Cells vary workspace, scope and owner."""

from __future__ import annotations

import pytest

from cubby.core.scopes import Namespace
from tests.helpers import Api, Cell, isolation_cells

pytestmark = pytest.mark.conformance


@pytest.fixture
def cells(api: Api) -> list[Cell]:
    return isolation_cells(api, "kv-store")


def test_get_sees_only_own_cell(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        api.output("kv-store", "put", cell.ws, {"key": "k", "value": cell.name}, **cell.extra())
    for cell in cells:
        got = api.output("kv-store", "get", cell.ws, {"key": "k"}, **cell.extra())
        assert got["value"] == cell.name, cell


def test_lists_never_mix(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        for i in range(2):
            out = api.output(
                "kv-store",
                "add_to_list",
                cell.ws,
                {"key": "list", "value": f"{cell.name}#{i}"},
                **cell.extra(),
            )
            assert out["length"] == i + 1, cell
    for cell in cells:
        # Removing another cell's item from here removes nothing, there or here.
        for other in cells:
            if other != cell:
                out = api.output(
                    "kv-store",
                    "remove_from_list",
                    cell.ws,
                    {"key": "list", "value": f"{other.name}#0"},
                    **cell.extra(),
                )
                assert out == {"key": "list", "removed": 0, "length": 2}, (cell, other)
    for cell in cells:
        got = api.output("kv-store", "get", cell.ws, {"key": "list"}, **cell.extra())
        assert got["value"] == [f"{cell.name}#0", f"{cell.name}#1"]


def test_delete_touches_only_own_cell(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        api.output("kv-store", "put", cell.ws, {"key": "k", "value": cell.name}, **cell.extra())
    victim = cells[0]
    assert (
        api.output("kv-store", "delete", victim.ws, {"key": "k"}, **victim.extra())["deleted"]
        is True
    )
    for cell in cells[1:]:
        assert (
            api.output("kv-store", "get", cell.ws, {"key": "k"}, **cell.extra())["value"]
            == cell.name
        )


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
    assert api.output("kv-store", "get", ws, {"key": "l"}, integrationAlias="one")["value"] == ["x"]
    api.output("kv-store", "put", ws, {"key": "w", "value": "shared"}, integrationAlias="ws-one")
    assert (
        api.output("kv-store", "get", ws, {"key": "w"}, integrationAlias="ws-two")["value"]
        == "shared"
    )
    assert api.output("kv-store", "get", ws, {"key": "w"}, integrationAlias="one")["value"] is None


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
