"""Two `cubby serve` processes on one PostgreSQL database and one S3 bucket (moto), as two
replicas behind a load balancer would be: what one writes the other reads at once, concurrent
list appends spread over both lose nothing, and a key revoked on one is refused by the other
within CUBBY_KEY_CACHE_SECONDS (and always within 5 s). Replica B runs two worker processes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests import backends
from tests.backends import S3_ENV, postgres_url, s3_url
from tests.helpers import Api, LiveServer, live_server

pytestmark = pytest.mark.slow

SHARED = {"persistence": {"scope": "workspace"}}
INLINE_MAX = 64 * 1024


@dataclass
class Pair:
    a: LiveServer
    b: LiveServer
    http: httpx.Client
    ws: str

    def api(self, server: LiveServer, key: str | None = None) -> Api:
        return Api(_Based(self.http, server.base_url), key or server.key)


class _Based:
    """An httpx.Client bound to one server's base URL (what Api expects of a client)."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http, self.base = http, base

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, self.base + path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path if path.startswith("http") else self.base + path, **kw)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with backends.test_scope():
        env = {
            "CUBBY_DATABASE_URL": postgres_url(),
            "CUBBY_FILES_URL": s3_url(),
            "CUBBY_SECRET_KEY": secrets.token_hex(32),
            "CUBBY_KEY_CACHE_SECONDS": "2",
            "CUBBY_KV_MAX_LIST_ITEMS": "10000",  # 32 x 50 appends go to one list
            **S3_ENV,
        }
        dir_a, dir_b = tmp_path_factory.mktemp("replica-a"), tmp_path_factory.mktemp("replica-b")
        with (
            live_server(dir_a, env=env) as a,
            live_server(dir_b, workers=2, env=env) as b,  # per-worker pools and key caches
            httpx.Client(timeout=30) as http,
        ):
            ws = Api(_Based(http, a.base_url), a.key).create_workspace("scale-out")
            pair = Pair(a, b, http, ws)
            pair.api(a).add_integration(ws, "kv-store", "state", SHARED)
            pair.api(a).add_integration(ws, "storage", "files", SHARED)
            yield pair


def test_kv_written_on_one_is_read_on_the_other(pair: Pair) -> None:
    a, b = pair.api(pair.a), pair.api(pair.b)
    a.output("kv-store", "put", pair.ws, {"key": "cfg", "value": {"v": 1}})
    assert b.output("kv-store", "get", pair.ws, {"key": "cfg"})["value"] == {"v": 1}
    b.output("kv-store", "put", pair.ws, {"key": "cfg", "value": [1]})
    assert a.output("kv-store", "add_to_list", pair.ws, {"key": "cfg", "value": 2})["length"] == 2
    assert b.output("kv-store", "get", pair.ws, {"key": "cfg"})["value"] == [1, 2]
    assert a.output("kv-store", "delete", pair.ws, {"key": "cfg"})["deleted"] is True
    assert b.output("kv-store", "get", pair.ws, {"key": "cfg"})["value"] is None


@pytest.mark.parametrize("size", [10, INLINE_MAX + 1], ids=["inline", "in-bucket"])
def test_files_written_on_one_are_read_on_the_other(pair: Pair, size: int) -> None:
    a, b = pair.api(pair.a), pair.api(pair.b)
    path = f"shared/{size}.txt"
    body = ("0123456789abcdef" * (size // 16 + 1))[:size]
    written = a.output("storage", "write_file", pair.ws, {"path": path, "content": body})
    got = b.output("storage", "read_file", pair.ws, {"path": path})
    assert (got["content"], got["etag"]) == (body, written["etag"])
    listed = b.output("storage", "list_files", pair.ws, {"prefix": "shared/"})["files"]
    assert path in [f["path"] for f in listed]

    # A download URL signed by one replica is served by any replica (same CUBBY_SECRET_KEY),
    # streaming the body through cubby from the bucket.
    url = a.output("storage", "get_download_url", pair.ws, {"path": path})["url"]
    for server in (pair.a, pair.b):
        resp = pair.http.get(server.base_url + url.split(pair.a.base_url, 1)[1])
        assert resp.status_code == 200, resp.text
        assert resp.text == body

    replaced = body[::-1]
    b.output("storage", "write_file", pair.ws, {"path": path, "content": replaced})
    assert a.output("storage", "read_file", pair.ws, {"path": path})["content"] == replaced
    assert a.output("storage", "delete_file", pair.ws, {"path": path})["deleted"] is True
    missing = b.execute("storage", "read_file", pair.ws, {"path": path})
    assert missing.json()["details"]["reason"] == "FILE_NOT_FOUND"


def test_32_clients_x_50_appends_over_both_servers(pair: Pair) -> None:
    clients, per_client = 32, 50
    servers = (pair.a, pair.b)

    def client(c: int) -> list[int]:
        lengths = []
        with httpx.Client(timeout=60) as http:
            for i in range(per_client):
                server = servers[(c + i) % 2]
                resp = http.post(
                    server.base_url + "/api/v1/actions/execute",
                    headers={"Authorization": f"Bearer {server.key}"},
                    json={
                        "integrationName": "kv-store",
                        "actionName": "add_to_list",
                        "workspaceId": pair.ws,
                        "input": {"key": "events", "value": {"c": c, "i": i}},
                    },
                )
                assert resp.status_code == 200, resp.text
                lengths.append(resp.json()["output"]["length"])
        return lengths

    with ThreadPoolExecutor(clients) as pool:
        lengths = [n for result in pool.map(client, range(clients)) for n in result]
    total = clients * per_client
    assert sorted(lengths) == list(range(1, total + 1))  # every append saw its own length
    items = pair.api(pair.b).output("kv-store", "get", pair.ws, {"key": "events"})["value"]
    assert len(items) == total == 1600
    for c in range(clients):  # each client's appends kept their order
        assert [x["i"] for x in items if x["c"] == c] == list(range(per_client))


def test_key_revoked_on_one_is_refused_by_the_other_within_5s(pair: Pair) -> None:
    admin_a = pair.api(pair.a)
    created = admin_a.ok("POST", "/api/v1/api-keys", {"name": "short-lived"}, status=201)
    key, key_id = created["plainKey"], created["apiKey"]["id"]
    on_b = pair.api(pair.b, key)
    on_b.ok("GET", "/api/v1/workspaces")  # B now has the key in its cache

    admin_a.ok("DELETE", f"/api/v1/api-keys/{key_id}")
    revoked_at = time.monotonic()
    assert pair.api(pair.a, key).request("GET", "/api/v1/workspaces").status_code == 401
    # B runs two workers, each with its own cache: wait until B refuses the key on 20
    # requests in a row (both workers), and require the last acceptance to be within 5 s.
    last_accepted, refused_in_a_row = 0.0, 0
    while refused_in_a_row < 20:
        status = on_b.request("GET", "/api/v1/workspaces").status_code
        elapsed = time.monotonic() - revoked_at
        assert status in (200, 401), status
        if status == 200:
            last_accepted, refused_in_a_row = elapsed, 0
        else:
            refused_in_a_row += 1
        assert elapsed < 10, "the other replica still accepts a revoked key"
        time.sleep(0.02)
    assert last_accepted < 5, f"the other replica accepted a revoked key {last_accepted:.1f} s on"
