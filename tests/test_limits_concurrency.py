"""Quotas under concurrency (issue 25, acceptance 1), on real `cubby serve` processes: SQLite
with two workers, and PostgreSQL with two servers on one database and one files folder.

32 clients write 4 KiB files and 4 KiB keys into one workspace with maxBytes = 1 MiB and
maxKeys = 100, far more than fits. Every write must answer 200 or 403 QUOTA_EXCEEDED; at the
end usage is at or below each limit, exactly the writes answered 200 are there (with their
content), the refused ones left nothing, and the counters equal a recount of the data (the
listed sizes, and `cubby usage --recount`, which must change nothing)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import backends
from tests.backends import postgres_url
from tests.helpers import Api, LiveServer, cubby_cli, live_server

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
SIZE = 4096
CLIENTS = 32
ROUNDS = 8  # per client: 8 files and 8 keys, 2 MiB in all
SHARED = {"persistence": {"scope": "workspace"}}


def _list(api: Api, ws: str, integration: str, action: str, field: str) -> dict[str, int]:
    found: dict[str, int] = {}
    cursor = None
    while True:
        body: dict[str, Any] = {"limit": 1000}
        if cursor:
            body["cursor"] = cursor
        out = api.output(integration, action, ws, body)
        for entry in out[field]:
            found[entry["key" if field == "keys" else "path"]] = int(entry["size"])
        cursor = out.get("nextCursor")
        if not cursor:
            return found


def _client(base: str, key: str) -> Iterator[Api]:
    with httpx.Client(base_url=base, timeout=60) as http:
        yield Api(http, key)


def _run(servers: list[LiveServer], ws: str) -> tuple[set[str], set[str]]:
    """Every client writes its files and keys; returns (files answered 200, keys answered 200)."""

    def client(n: int) -> tuple[list[str], list[str], list[int]]:
        server = servers[n % len(servers)]
        files, keys, other = [], [], []
        for api in _client(server.base_url, server.key):
            for i in range(ROUNDS):
                path, key = f"c{n}/f{i}", f"c{n}-k{i}"
                content = f"{path}:".ljust(SIZE, "x")
                resp = api.execute("storage", "write_file", ws, {"path": path, "content": content})
                if resp.status_code == 200:
                    files.append(path)
                elif resp.status_code != 403 or resp.json()["code"] != "QUOTA_EXCEEDED":
                    other.append(resp.status_code)
                value = f"{key}:".ljust(SIZE - 2, "v")  # JSON text: SIZE bytes
                resp = api.execute("kv-store", "put", ws, {"key": key, "value": value})
                if resp.status_code == 200:
                    keys.append(key)
                elif resp.status_code != 403 or resp.json()["code"] != "QUOTA_EXCEEDED":
                    other.append(resp.status_code)
        return files, keys, other

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    assert [code for _, _, other in results for code in other] == []
    return {p for f, _, _ in results for p in f}, {key for _, ks, _ in results for key in ks}


def _check(servers: list[LiveServer], ws: str, ok_files: set[str], ok_keys: set[str]) -> None:
    first = servers[0]
    for api in _client(first.base_url, first.key):
        usage = api.ok("GET", f"/api/v1/workspaces/{ws}/usage")["usage"]
        assert usage["bytes"] <= MIB and usage["keys"] <= 100, usage
        # the limits were reached: the test wrote twice what fits
        assert usage["bytes"] > MIB - 2 * SIZE or usage["keys"] == 100, usage
        files = _list(api, ws, "storage", "list_files", "files")
        keys = _list(api, ws, "kv-store", "list_keys", "keys")
        assert set(files) == ok_files  # every 200 is there, no refused write left anything
        assert set(keys) == ok_keys
        for path in sorted(ok_files)[:: max(1, len(ok_files) // 10)]:
            got = api.output("storage", "read_file", ws, {"path": path})["content"]
            assert got == f"{path}:".ljust(SIZE, "x")
        for key in sorted(ok_keys)[:: max(1, len(ok_keys) // 10)]:
            got = api.output("kv-store", "get", ws, {"key": key})["value"]
            assert got == f"{key}:".ljust(SIZE - 2, "v")
        recount = {
            "bytes": sum(files.values()) + sum(keys.values()),
            "files": len(files),
            "keys": len(keys),
        }
        assert {k: usage[k] for k in recount} == recount
        done = cubby_cli("usage", "--recount", env=first.env)
        assert done.returncode == 0, done.stderr
        again = api.ok("GET", f"/api/v1/workspaces/{ws}/usage")["usage"]
        assert again == usage


def _prepare(server: LiveServer) -> str:
    for api in _client(server.base_url, server.key):
        ws = api.create_workspace(f"quota-{secrets.token_hex(3)}")
        api.add_integration(ws, "kv-store", "kv", SHARED)
        api.add_integration(ws, "storage", "files", SHARED)
        api.ok("PUT", f"/api/v1/workspaces/{ws}/limits", {"maxBytes": MIB, "maxKeys": 100})
        return ws
    raise AssertionError("unreachable")


def test_sqlite_two_workers(tmp_path: Path) -> None:
    with live_server(tmp_path, workers=2) as server:
        ws = _prepare(server)
        ok_files, ok_keys = _run([server], ws)
        _check([server], ws, ok_files, ok_keys)


def test_postgres_two_servers(tmp_path: Path) -> None:
    with backends.test_scope():
        env = {
            "CUBBY_DATABASE_URL": postgres_url(),
            "CUBBY_FILES_URL": (tmp_path / "shared-files").as_uri(),
            "CUBBY_SECRET_KEY": secrets.token_hex(32),
        }
        dir_a, dir_b = tmp_path / "a", tmp_path / "b"
        dir_a.mkdir()
        dir_b.mkdir()
        with live_server(dir_a, env=env) as a, live_server(dir_b, env=env) as b:
            ws = _prepare(a)
            ok_files, ok_keys = _run([a, b], ws)
            _check([a, b], ws, ok_files, ok_keys)
