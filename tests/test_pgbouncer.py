"""PostgreSQL behind PgBouncer in transaction mode (issue 26): cubby's URL with
``prepared_statements=false``. The metadata_only conformance tests run through it too (see
tests/backends.py); these cover what only a pooler can break: start-up and migrations (one
transaction, a transaction-level advisory lock) from several processes at once, exactly-once
executes (a transaction per call), and many concurrent requests sharing few server
connections."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import httpx
import pytest

from cubby.backends.config_error import BackendConfigError
from cubby.backends.url import open_meta_store
from tests.backends import POOLER_COMBO, server_env, settings_for
from tests.helpers import Api, live_server

SCOPE = {"persistence": {"scope": "workspace"}}


def test_migrations_through_the_pooler_from_several_processes_at_once(tmp_path: Path) -> None:
    url = settings_for(POOLER_COMBO, tmp_path).database_url
    assert "prepared_statements=false" in url

    def start() -> str:
        meta = open_meta_store(url)  # connects, migrates under the advisory lock, reads org
        try:
            return meta.org_id
        finally:
            meta.close()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        orgs = list(pool.map(lambda _: start(), range(4)))
    assert len(set(orgs)) == 1  # one organisation, migrations applied once


def test_a_bad_prepared_statements_value_is_a_config_error(tmp_path: Path) -> None:
    url = settings_for(POOLER_COMBO, tmp_path).database_url
    with pytest.raises(BackendConfigError, match="prepared_statements must be true or false"):
        open_meta_store(url.replace("prepared_statements=false", "prepared_statements=maybe"))


@pytest.mark.parametrize("backend", [POOLER_COMBO], indirect=True)
def test_keyed_executes_and_reads_through_the_pooler(api: Api, backend: str) -> None:
    ws = api.create_workspace("pooled")
    api.add_integration(ws, "kv-store", "kv", SCOPE)
    for _ in range(2):  # the second answer is the replay of the first
        resp = api.execute(
            "kv-store",
            "increment",
            ws,
            {"key": "n", "by": 1},
            integrationAlias="kv",
            idempotencyKey="once",
        )
        assert resp.status_code == 200, resp.text
    got = api.output("kv-store", "get", ws, {"key": "n"}, integrationAlias="kv")
    assert got["value"] == 1


def test_a_server_through_the_pooler_under_concurrent_load(tmp_path: Path) -> None:
    settings = settings_for(POOLER_COMBO, tmp_path)
    settings.data_dir.mkdir(mode=0o700, parents=True)
    env = server_env(settings)
    with live_server(settings.data_dir, env=env) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            api = server.api(client)
            ws = api.create_workspace("load")
            api.add_integration(ws, "kv-store", "kv", SCOPE)

        def worker(n: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                api = server.api(client)
                for i in range(40):
                    action, params = ("put", {"key": f"k{n}", "value": i}) if i % 2 else (
                        "get", {"key": f"k{n}"})  # fmt: skip
                    resp = api.execute("kv-store", action, ws, params, integrationAlias="kv")
                    statuses.append(resp.status_code)
            return statuses

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = [s for batch in pool.map(worker, range(16)) for s in batch]
    assert set(results) == {200}, sorted(set(results))
    assert len(results) == 16 * 40
