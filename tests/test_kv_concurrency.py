"""Concurrent appends and removes against a real server (2 worker processes, real sockets)
never lose or duplicate an item."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import Api, LiveServer, live_server

pytestmark = pytest.mark.slow

CLIENTS = 32
PER_CLIENT = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("kv-concurrency")
    # Up to 2,400 items in one list, past the default CUBBY_KV_MAX_LIST_ITEMS.
    with live_server(data_dir, workers=2, env={"CUBBY_KV_MAX_LIST_ITEMS": "10000"}) as server:
        yield server


@pytest.fixture(scope="module")
def ws(server: LiveServer) -> str:
    with httpx.Client(base_url=server.base_url) as client:
        api = server.api(client)
        ws = api.create_workspace("concurrency")
        api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
        return ws


def run_client(server: LiveServer, ws: str, action: str, key: str, values: list[str]) -> None:
    # One keep-alive connection per client, like a real service talking to cubby.
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        api = server.api(client)
        for value in values:
            resp = api.execute("kv-store", action, ws, {"key": key, "value": value})
            assert resp.status_code == 200, resp.text


def read_list(server: LiveServer, ws: str, key: str) -> list[str]:
    with httpx.Client(base_url=server.base_url) as client:
        return list(server.api(client).output("kv-store", "get", ws, {"key": key})["value"])


def values_of(prefix: str, client: int) -> list[str]:
    return [f"{prefix}-{client:02d}-{i:03d}" for i in range(PER_CLIENT)]


def test_concurrent_appends_lose_nothing(
    server: LiveServer, ws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [
            pool.submit(run_client, server, ws, "add_to_list", "appends", values_of("v", c))
            for c in range(CLIENTS)
        ]
        for f in futures:
            f.result()
    items = read_list(server, ws, "appends")
    with capsys.disabled():
        print(
            f"\n[kv concurrency] {CLIENTS} clients x {PER_CLIENT} add_to_list over 2 workers: "
            f"{len(items)} items, {len(set(items))} distinct"
        )
    assert len(items) == CLIENTS * PER_CLIENT
    assert len(set(items)) == CLIENTS * PER_CLIENT
    # Each client's own appends keep their relative order.
    for c in range(CLIENTS):
        mine = [v for v in items if v.startswith(f"v-{c:02d}-")]
        assert mine == values_of("v", c)


def test_concurrent_appends_and_removes(
    server: LiveServer, ws: str, capsys: pytest.CaptureFixture[str]
) -> None:
    removers = 16
    doomed = [v for c in range(removers) for v in values_of("r", c)]
    api_client = httpx.Client(base_url=server.base_url, timeout=60)
    api = Api(api_client, server.key)
    api.output("kv-store", "put", ws, {"key": "mixed", "value": doomed})
    api_client.close()

    with ThreadPoolExecutor(CLIENTS + removers) as pool:
        futures = [
            pool.submit(run_client, server, ws, "add_to_list", "mixed", values_of("a", c))
            for c in range(CLIENTS)
        ]
        futures += [
            pool.submit(run_client, server, ws, "remove_from_list", "mixed", values_of("r", c))
            for c in range(removers)
        ]
        for f in futures:
            f.result()
    items = read_list(server, ws, "mixed")
    expected = {v for c in range(CLIENTS) for v in values_of("a", c)}
    with capsys.disabled():
        print(
            f"[kv concurrency] {CLIENTS} appenders x {PER_CLIENT} + {removers} removers x "
            f"{PER_CLIENT}: {len(items)} items (expected {len(expected)}), "
            f"{len(set(items) - expected)} unexpected, {len(expected - set(items))} missing"
        )
    assert len(items) == len(expected)
    assert set(items) == expected
