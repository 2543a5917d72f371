"""The requests each workload sends, to cubby and to its baselines, and cubby's set-up for them.

Every cubby request is ``POST /api/v1/actions/execute`` with a real API key against a real
workspace integration (alias ``state`` for kv-store, ``files`` for storage, both with the
shared ``workspace`` persistence scope).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from lib import Cubby
from seed import FILES_ALIAS, KV_ALIAS

EXECUTE = "/api/v1/actions/execute"
KIB4 = 4096
BIG_BYTES = 100 * 1024 * 1024
BIG_PATH = "big.bin"
HOT_FILE = "hot.txt"
HOT_VALUE = {"cursor": "abc", "n": 42}
# 4 KiB of plain text: the same bytes go to cubby (as a JSON string) and to nginx (raw).
BODY_4K = ("cubby bench 4 KiB body; " * 200)[:KIB4]
# Settings the bench server runs with: limits raised so the 100 MiB file fits in one write.
SERVER_ENV = {
    "CUBBY_STORAGE_MAX_FILE_BYTES": str(128 * 1024 * 1024),
    "CUBBY_MAX_BODY_BYTES": str(192 * 1024 * 1024),
}


class StorageMissing(SystemExit):
    """The server has no ``storage`` integration, so the storage workloads cannot run."""


@dataclass(frozen=True)
class Request:
    """One wrk request shape; see ``loadgen`` for the ``__N__`` and ``__R__`` placeholders."""

    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    spread: int = 1000
    timeout_s: int = 10


def execute(cubby: Cubby, ws: str, integration: str, action: str, input_json: str) -> Request:
    alias = KV_ALIAS if integration == "kv-store" else FILES_ALIAS
    body = json.dumps({"integrationName": integration, "actionName": action,
                       "workspaceId": ws, "integrationAlias": alias, "input": "__INPUT__"})
    return Request(EXECUTE, "POST", body.replace('"__INPUT__"', input_json),
                   dict(cubby.auth_headers))


# -- cubby set-up -------------------------------------------------------------------------

def registered(cubby: Cubby) -> list[str]:
    return list(cubby.call("GET", "/api/v1/integrations")["registered"])


def require_storage(cubby: Cubby) -> None:
    names = registered(cubby)
    if "storage" not in names:
        raise StorageMissing(
            "bench: the 'storage' integration is not registered in this cubby build "
            f"(registered: {', '.join(names)}); the storage workloads cannot run. "
            "Run `bench/run --only kv,kv-scaling` to measure only the KV Store."
        )


def create_workspace(cubby: Cubby, with_storage: bool) -> str:
    ws = str(cubby.call("POST", "/api/v1/workspaces", {"name": "Bench", "slug": "bench"})[
        "workspace"]["id"])
    shared = {"persistence": {"scope": "workspace"}}
    cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations",
               {"integrationName": "kv-store", "alias": KV_ALIAS, "settings": shared})
    if with_storage:
        cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations",
                   {"integrationName": "storage", "alias": FILES_ALIAS, "settings": shared})
    return ws


def _run(cubby: Cubby, ws: str, integration: str, action: str, data: dict[str, object]
         ) -> dict[str, Any]:
    alias = KV_ALIAS if integration == "kv-store" else FILES_ALIAS
    return dict(cubby.execute({"integrationName": integration, "actionName": action,
                               "workspaceId": ws, "integrationAlias": alias, "input": data}))


def prepare_kv(cubby: Cubby, ws: str) -> None:
    out = _run(cubby, ws, "kv-store", "put", {"key": "hot", "value": HOT_VALUE})
    assert out["value"] == HOT_VALUE, out


def prepare_files(cubby: Cubby, ws: str) -> None:
    out = _run(cubby, ws, "storage", "write_file", {"path": HOT_FILE, "content": BODY_4K})
    assert out["size"] == KIB4, out
    read = _run(cubby, ws, "storage", "read_file", {"path": HOT_FILE})
    assert read["content"] == BODY_4K and read["size"] == KIB4, read["size"]


def prepare_download(cubby: Cubby, ws: str, body: bytes) -> str:
    """Store the 100 MiB file through write_file (base64); return its download URL's path."""
    _run(cubby, ws, "storage", "write_file", {
        "path": BIG_PATH, "content": base64.b64encode(body).decode(),
        "contentEncoding": "base64", "contentType": "application/octet-stream"})
    grant = _run(cubby, ws, "storage", "get_download_url",
                 {"path": BIG_PATH, "expiresInSeconds": 3600})
    url = urlsplit(str(grant["url"]))
    path = url.path + (f"?{url.query}" if url.query else "")
    with httpx.Client(base_url=cubby.base_url, timeout=120) as client:  # no API key
        size = 0
        with client.stream("GET", path) as resp:
            for chunk in resp.iter_bytes():
                if size == 0 and not body.startswith(chunk[:64]):
                    raise RuntimeError("the download URL serves other bytes")
                size += len(chunk)
        if resp.status_code != 200 or size != len(body):
            raise RuntimeError(f"download URL: {resp.status_code}, {size} bytes")
    return path


def big_body() -> bytes:
    return os.urandom(BIG_BYTES)


# -- the workloads --------------------------------------------------------------------------

def kv_get(cubby: Cubby, ws: str) -> Request:
    return execute(cubby, ws, "kv-store", "get", '{"key": "hot"}')


def kv_get_random(cubby: Cubby, ws: str, keys: int) -> Request:
    req = execute(cubby, ws, "kv-store", "get", '{"key": "k-__R__"}')
    return Request(req.path, req.method, req.body, req.headers, spread=keys)


def kv_put(cubby: Cubby, ws: str) -> Request:
    return execute(cubby, ws, "kv-store", "put", '{"key": "k-__N__", "value": {"n": "__N__"}}')


# Appends go to one of LISTS lists (``__R__``), the same for cubby and webdis: a run appends
# ~100,000 items, far over one list's CUBBY_KV_MAX_LIST_ITEMS (1000), ~10 per list this way.
LISTS = 10_000


def kv_add_to_list(cubby: Cubby, ws: str) -> Request:
    req = execute(cubby, ws, "kv-store", "add_to_list",
                  '{"key": "events-__R__", "value": "e-__N__"}')
    return Request(req.path, req.method, req.body, req.headers, spread=LISTS)


# New files go into one flat folder (FLAT) or spread over 1,000 folders (FOLDERS, ``__R__``
# picks one): the layout matters to a filesystem-backed server (write_floor.py), not to cubby.
FLAT = "w/__N__.txt"
FOLDERS = "w/__R__/__N__.txt"


def write_file(cubby: Cubby, ws: str, path: str = FLAT) -> Request:
    return execute(cubby, ws, "storage", "write_file",
                   json.dumps({"path": path, "content": BODY_4K}))


def read_file(cubby: Cubby, ws: str) -> Request:
    return execute(cubby, ws, "storage", "read_file", json.dumps({"path": HOT_FILE}))


def list_files(cubby: Cubby, ws: str, limit: int) -> Request:
    return execute(cubby, ws, "storage", "list_files", json.dumps({"limit": limit}))


def download(path: str) -> Request:
    return Request(path, timeout_s=120)


def ceiling(body: str) -> Request:
    return Request(EXECUTE, "POST", body)


def webdis_get() -> Request:
    return Request("/GET/hot")


def webdis_set() -> Request:
    value = "%7B%22n%22%3A%22__N__%22%7D"  # {"n":"<token>"}, URL-encoded
    return Request(f"/SET/k-__N__/{value}")


def webdis_rpush() -> Request:
    return Request("/RPUSH/events-__R__/e-__N__", spread=LISTS)


def prepare_webdis(url: str) -> None:
    value = json.dumps(HOT_VALUE, separators=(",", ":"))
    httpx.put(f"{url}/SET/hot", content=value, timeout=10).raise_for_status()
    got = httpx.get(f"{url}/GET/hot", timeout=10).json()
    assert got == {"GET": value}, got


def nginx_put(path: str = FLAT) -> Request:
    return Request("/" + path, "PUT", BODY_4K)


def nginx_get() -> Request:
    return Request("/" + HOT_FILE)


def nginx_download() -> Request:
    return Request("/" + BIG_PATH, timeout_s=120)


def prepare_nginx(root: Path, big: bytes) -> None:
    (root / HOT_FILE).write_text(BODY_4K)
    (root / BIG_PATH).write_bytes(big)


# -- one workload on its own (profile.py, writer_split.py, compare_trees.py) -----------------

ONE_WORKLOAD = {"get": kv_get, "put": kv_put, "add_to_list": kv_add_to_list,
                "write_file": write_file, "read_file": read_file}
KV_WORKLOADS = ("get", "put", "add_to_list")


def ready(cubby: Cubby, name: str) -> tuple[str, Request]:
    """A workspace set up for workload ``name`` (one of ONE_WORKLOAD, ``list_files`` or
    ``download``) and that workload's request."""
    storage = name not in KV_WORKLOADS
    if storage:
        require_storage(cubby)
    ws = create_workspace(cubby, with_storage=storage)
    prepare_kv(cubby, ws)
    if storage:
        prepare_files(cubby, ws)
    if name == "download":
        return ws, download(prepare_download(cubby, ws, big_body()))
    if name == "list_files":
        return ws, list_files(cubby, ws, 100)
    return ws, ONE_WORKLOAD[name](cubby, ws)
