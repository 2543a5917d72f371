"""Isolation matrix: a file written in one cell is invisible from every other cell, through
read_file, list_files, delete_file and download URLs. Cells vary workspace, scope and owner."""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import msgspec
import pytest

from tests.helpers import Api, Cell, isolation_cells

pytestmark = pytest.mark.conformance

PATH = "shared/name.txt"
BIG = "x" * 70_000  # above the inline limit: the body lives in the blob store


def content(cell: Cell, big: bool = False) -> str:
    return f"owned by {cell.name}" + (BIG if big else "")


@pytest.fixture
def cells(api: Api) -> list[Cell]:
    return isolation_cells(api, "storage")


def write_all(api: Api, cells: list[Cell], big: bool = False) -> None:
    for cell in cells:
        api.output(
            "storage",
            "write_file",
            cell.ws,
            {"path": PATH, "content": content(cell, big)},
            **cell.extra(),
        )


@pytest.mark.parametrize("big", [False, True], ids=["inline", "blob"])
def test_read_sees_only_own_cell(api: Api, cells: list[Cell], big: bool) -> None:
    write_all(api, cells, big)
    for cell in cells:
        got = api.output("storage", "read_file", cell.ws, {"path": PATH}, **cell.extra())
        assert got["content"] == content(cell, big), cell


def test_missing_in_other_cells(api: Api, cells: list[Cell]) -> None:
    owner = cells[0]
    api.output(
        "storage",
        "write_file",
        owner.ws,
        {"path": "only-here.txt", "content": "x"},
        **owner.extra(),
    )
    for cell in cells[1:]:
        resp = api.execute(
            "storage", "read_file", cell.ws, {"path": "only-here.txt"}, **cell.extra()
        )
        assert resp.status_code == 400, cell
        assert resp.json()["details"]["reason"] == "FILE_NOT_FOUND"
        resp = api.execute(
            "storage", "get_download_url", cell.ws, {"path": "only-here.txt"}, **cell.extra()
        )
        assert resp.json()["details"]["reason"] == "FILE_NOT_FOUND"


def test_list_sees_only_own_cell(api: Api, cells: list[Cell]) -> None:
    for cell in cells:
        for i in range(2):
            api.output(
                "storage",
                "write_file",
                cell.ws,
                {"path": f"{cell.name.replace('/', '_')}-{i}.txt", "content": "x"},
                **cell.extra(),
            )
    for cell in cells:
        listed = api.output("storage", "list_files", cell.ws, {}, **cell.extra())
        mine = [f"{cell.name.replace('/', '_')}-{i}.txt" for i in range(2)]
        assert [f["path"] for f in listed["files"]] == mine, cell
        assert listed["nextCursor"] is None


def test_delete_touches_only_own_cell(api: Api, cells: list[Cell]) -> None:
    write_all(api, cells, big=True)
    for i, cell in enumerate(cells):
        out = api.output("storage", "delete_file", cell.ws, {"path": PATH}, **cell.extra())
        assert out == {"path": PATH, "deleted": True}
        again = api.output("storage", "delete_file", cell.ws, {"path": PATH}, **cell.extra())
        assert again == {"path": PATH, "deleted": False}
        for other in cells[i + 1 :]:
            got = api.output("storage", "read_file", other.ws, {"path": PATH}, **other.extra())
            assert got["content"] == content(other, True), (cell, other)


def download_path(url: str) -> str:
    return urlsplit(url).path


def test_download_url_serves_only_its_cell(api: Api, cells: list[Cell]) -> None:
    write_all(api, cells, big=True)
    urls = {
        cell: api.output("storage", "get_download_url", cell.ws, {"path": PATH}, **cell.extra())[
            "url"
        ]
        for cell in cells
    }
    for cell, url in urls.items():
        resp = api.client.get(download_path(url))  # no API key
        assert resp.status_code == 200, cell
        assert resp.text == content(cell, True), cell
    # Once the file is gone from its cell, its URL serves nothing, although every other cell
    # still holds a file at the same path.
    victim = cells[3]
    api.output("storage", "delete_file", victim.ws, {"path": PATH}, **victim.extra())
    resp = api.client.get(download_path(urls[victim]))
    assert resp.status_code == 404
    assert resp.json()["code"] == "NOT_FOUND"
    for cell, url in urls.items():
        if cell != victim:
            assert api.client.get(download_path(url)).text == content(cell, True)


def test_download_url_cannot_be_moved_to_another_cell(api: Api, cells: list[Cell]) -> None:
    """Rewriting the namespace inside a URL's payload (without the secret) is refused."""
    write_all(api, cells)
    source, target = cells[0], cells[1]
    url = api.output("storage", "get_download_url", source.ws, {"path": PATH}, **source.extra())[
        "url"
    ]
    payload, signature = download_path(url).rsplit("/", 1)[1].split(".")
    fields = msgspec.json.decode(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert fields[1] == source.ws and fields[3] == PATH
    fields[2] = "u:" + str(target.end_user)
    forged = base64.urlsafe_b64encode(msgspec.json.encode(fields)).rstrip(b"=").decode()
    resp = api.client.get(f"/downloads/{forged}.{signature}")
    assert resp.status_code == 403
    assert resp.json()["code"] == "FORBIDDEN"
    assert content(target) not in resp.text


def test_equal_settings_share_data(api: Api, cells: list[Cell]) -> None:
    """Two aliases with the same persistence settings are the same cell (API.md)."""
    ws = cells[0].ws
    api.add_integration(ws, "storage", "shared-too", {"persistence": {"scope": "workspace"}})
    api.output(
        "storage", "write_file", ws, {"path": "p.txt", "content": "same"}, integrationAlias="shared"
    )
    got = api.output("storage", "read_file", ws, {"path": "p.txt"}, integrationAlias="shared-too")
    assert got["content"] == "same"


def test_kv_and_storage_never_share(api: Api, cells: list[Cell]) -> None:
    ws = cells[0].ws
    api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
    api.output("kv-store", "put", ws, {"key": PATH, "value": "kv"}, integrationAlias="state")
    resp = api.execute("storage", "read_file", ws, {"path": PATH}, integrationAlias="shared")
    assert resp.json()["details"]["reason"] == "FILE_NOT_FOUND"


def test_deleting_a_workspace_removes_its_files_only(api: Api, cells: list[Cell]) -> None:
    write_all(api, cells, big=True)
    a_ws = cells[0].ws
    api.ok("DELETE", f"/api/v1/workspaces/{a_ws}")
    for cell in cells:
        if cell.ws != a_ws:
            got = api.output("storage", "read_file", cell.ws, {"path": PATH}, **cell.extra())
            assert got["content"] == content(cell, True)
