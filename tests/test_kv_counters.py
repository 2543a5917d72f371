"""Counters under concurrency, against real servers on each metadata database: `increment`
from 32 clients x 50 calls over 2 worker processes (plus a second server process on
PostgreSQL) ends at exactly 1,600; 16 clients doing read-modify-write with `ifVersion` retry
loops, 200 updates in all, end at exactly 200 (no lost update, no double apply)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from cubby.cli.support import ensure_data_dir
from cubby.settings import Settings
from tests.backends import server_env
from tests.helpers import Api, LiveServer, live_server

# counters live in the metadata database: the +s3 runs would repeat the +file ones
pytestmark = [pytest.mark.conformance, pytest.mark.metadata_only, pytest.mark.slow]

SHARED = {"persistence": {"scope": "workspace"}}
CLIENTS, PER_CLIENT = 32, 50
CAS_CLIENTS, CAS_UPDATES = 16, 200


@pytest.fixture
def servers(backend: str, settings: Settings) -> Iterator[tuple[list[LiveServer], str]]:
    """A server with 2 worker processes; on PostgreSQL a second server process as well."""
    env = server_env(settings)
    env.pop("CUBBY_DATA_DIR")  # each server its own (live_server sets it)
    dirs = [settings.data_dir.parent / name for name in ("a", "b")]
    for folder in dirs:
        ensure_data_dir(folder, adopt=True)  # on PostgreSQL nothing else makes it one
    with ExitStack() as stack:
        running = [stack.enter_context(live_server(dirs[0], workers=2, env=env))]
        if backend.startswith("postgres"):
            running.append(stack.enter_context(live_server(dirs[1], env=env)))
        with httpx.Client(base_url=running[0].base_url, timeout=30) as http:
            api = Api(http, running[0].key)
            ws = api.create_workspace("counters")
            api.add_integration(ws, "kv-store", "state", SHARED)
        yield running, ws


def client_of(servers: list[LiveServer], n: int) -> tuple[httpx.Client, Api]:
    server = servers[n % len(servers)]
    http = httpx.Client(base_url=server.base_url, timeout=60)
    return http, Api(http, servers[0].key)


def test_counters_under_concurrency(
    servers: tuple[list[LiveServer], str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Both scenarios on one set of servers (starting servers is the slow part)."""
    with capsys.disabled():
        increments_from_32_clients_end_at_1600(*servers)
        compare_and_set_loops_from_16_clients_end_at_200(*servers)


def increments_from_32_clients_end_at_1600(running: list[LiveServer], ws: str) -> None:
    values: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        http, api = client_of(running, n)
        with http:
            for _ in range(PER_CLIENT):
                out = api.output("kv-store", "increment", ws, {"key": "hits"})
                with lock:
                    values.append(out["value"])

    with ThreadPoolExecutor(CLIENTS) as pool:
        for f in [pool.submit(client, n) for n in range(CLIENTS)]:
            f.result()
    with httpx.Client(base_url=running[-1].base_url) as http:
        final = Api(http, running[0].key).output("kv-store", "get", ws, {"key": "hits"})
    print(
        f"\n[kv counters] {CLIENTS} clients x {PER_CLIENT} increments over "
        f"{len(running)} server(s): final {final['value']}, version {final['version']}"
    )
    assert final["value"] == CLIENTS * PER_CLIENT
    assert final["version"] == CLIENTS * PER_CLIENT
    # Each call saw its own result: every value from 1 to 1,600 exactly once.
    assert sorted(values) == list(range(1, CLIENTS * PER_CLIENT + 1))


def compare_and_set_loops_from_16_clients_end_at_200(running: list[LiveServer], ws: str) -> None:
    remaining = [CAS_UPDATES]
    lock = threading.Lock()
    conflicts = [0]

    def claim() -> bool:
        with lock:
            if remaining[0] == 0:
                return False
            remaining[0] -= 1
            return True

    def client(n: int) -> None:
        http, api = client_of(running, n)
        with http:
            while claim():
                while True:  # read, modify, write only if nobody wrote in between
                    got = api.output("kv-store", "get", ws, {"key": "counter"})
                    current: Any = got["value"] or 0
                    resp = api.execute(
                        "kv-store",
                        "put",
                        ws,
                        {"key": "counter", "value": current + 1, "ifVersion": got["version"]},
                    )
                    if resp.status_code == 200:
                        break
                    body = resp.json()
                    assert resp.status_code == 400, resp.text
                    assert body["details"]["reason"] == "CONFLICT", resp.text
                    assert body["details"]["currentVersion"] >= got["version"]
                    with lock:
                        conflicts[0] += 1

    with ThreadPoolExecutor(CAS_CLIENTS) as pool:
        for f in [pool.submit(client, n) for n in range(CAS_CLIENTS)]:
            f.result()
    with httpx.Client(base_url=running[-1].base_url) as http:
        final = Api(http, running[0].key).output("kv-store", "get", ws, {"key": "counter"})
    print(
        f"[kv compare-and-set] {CAS_CLIENTS} clients, {CAS_UPDATES} updates over "
        f"{len(running)} server(s): final {final['value']}, {conflicts[0]} conflicts "
        "retried"
    )
    assert final["value"] == CAS_UPDATES
    assert final["version"] == CAS_UPDATES
