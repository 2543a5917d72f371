"""Every Storage example of the spec, sent verbatim over HTTP (only the workspace id differs: the
spec's 550e8400-... is a placeholder for the caller's own workspace). As in the spec, the
``files`` integration with scope ``workspace`` is set up first."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.helpers import Api

pytestmark = pytest.mark.conformance

SPEC_WORKSPACE = "550e8400-e29b-41d4-a716-446655440000"

FILES_INTEGRATION = r"""{
    "integrationName": "storage",
    "alias": "files",
    "displayName": "Workspace Files",
    "settings": { "persistence": { "scope": "workspace" } }
  }"""

WRITE_A_FILE = r"""{
    "integrationName": "storage",
    "actionName": "write_file",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "integrationAlias": "files",
    "input": {
      "path": "reports/monthly.json",
      "content": "{\"month\": \"January\", \"total\": 1500}"
    }
  }"""

READ_A_FILE = r"""{
    "integrationName": "storage",
    "actionName": "read_file",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "path": "reports/monthly.json"
    }
  }"""

LIST_FILES = r"""{
    "integrationName": "storage",
    "actionName": "list_files",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "prefix": "reports/"
    }
  }"""

EXPORT_CSV = r"""{
    "integrationName": "storage",
    "actionName": "write_file",
    "workspaceId": "550e8400-e29b-41d4-a716-446655440000",
    "input": {
      "path": "exports/cust_123/report-2025-01.csv",
      "content": "name,amount\nAlice,100\nBob,200"
    }
  }"""

MONTHLY = '{"month": "January", "total": 1500}'
CSV = "name,amount\nAlice,100\nBob,200"


def send(api: Api, path: str, body: str, ws: str) -> dict[str, Any]:
    """POST a spec body exactly as curl -d would send it (the text, not re-encoded JSON)."""
    resp = api.client.post(
        path,
        content=body.replace(SPEC_WORKSPACE, ws).encode(),
        headers={**api.headers(), "Content-Type": "application/json"},
    )
    assert resp.status_code in (200, 201), resp.text
    assert resp.headers["content-type"] == "application/json"
    return dict(resp.json())


def execute(api: Api, body: str, ws: str) -> dict[str, Any]:
    result = send(api, "/api/v1/actions/execute", body, ws)
    assert result["success"] is True
    assert isinstance(result["duration"], (int, float))
    return dict(result["output"])


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("spec-storage")
    created = send(
        api, f"/api/v1/workspaces/{workspace}/integrations", FILES_INTEGRATION, workspace
    )["integration"]
    assert created["alias"] == "files"
    assert created["settings"] == {"persistence": {"scope": "workspace"}}
    return workspace


def test_write_then_read_without_alias(api: Api, ws: str) -> None:
    written = execute(api, WRITE_A_FILE, ws)
    assert set(written) == {"path", "size", "contentType", "etag", "updatedAt", "expiresAt"}
    assert written["path"] == "reports/monthly.json"
    assert written["size"] == len(MONTHLY)
    assert written["contentType"] == "application/json"
    # No alias: the workspace's only storage integration ("files") runs, same data.
    read = execute(api, READ_A_FILE, ws)
    assert read == {
        "path": "reports/monthly.json",
        "content": MONTHLY,
        "contentType": "application/json",
        "encoding": "utf8",
        "size": len(MONTHLY),
        "etag": written["etag"],
        "updatedAt": written["updatedAt"],
        "expiresAt": None,
    }


def test_list_with_prefix(api: Api, ws: str) -> None:
    execute(api, WRITE_A_FILE, ws)
    execute(api, EXPORT_CSV, ws)
    listed = execute(api, LIST_FILES, ws)
    assert listed["nextCursor"] is None
    assert [f["path"] for f in listed["files"]] == ["reports/monthly.json"]
    entry = listed["files"][0]
    assert set(entry) == {"path", "size", "contentType", "etag", "updatedAt", "expiresAt"}
    assert entry["size"] == len(MONTHLY)


def test_list_before_any_write_is_empty(api: Api, ws: str) -> None:
    assert execute(api, LIST_FILES, ws) == {"files": [], "nextCursor": None}


def test_export_csv(api: Api, ws: str) -> None:
    written = execute(api, EXPORT_CSV, ws)
    assert written["path"] == "exports/cust_123/report-2025-01.csv"
    assert written["size"] == len(CSV)
    assert written["contentType"] == "text/csv"
    read = api.output(
        "storage",
        "read_file",
        ws,
        {"path": "exports/cust_123/report-2025-01.csv"},
        integrationAlias="files",
    )
    assert read["content"] == CSV
    # The export is reachable as a download, like any stored report.
    url = api.output(
        "storage", "get_download_url", ws, {"path": "exports/cust_123/report-2025-01.csv"}
    )["url"]
    resp = api.client.get(urlsplit(url).path)
    assert resp.status_code == 200
    assert resp.content == CSV.encode()
    assert resp.headers["content-type"] == "text/csv"


def test_write_overwrites(api: Api, ws: str) -> None:
    first = execute(api, WRITE_A_FILE, ws)
    second = execute(api, WRITE_A_FILE.replace("1500", "1700"), ws)
    assert second["etag"] != first["etag"]
    read = execute(api, READ_A_FILE, ws)
    assert read["content"] == MONTHLY.replace("1500", "1700")
    assert [f["path"] for f in execute(api, LIST_FILES, ws)["files"]] == ["reports/monthly.json"]
