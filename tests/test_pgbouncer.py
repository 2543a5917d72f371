"""PostgreSQL behind PgBouncer in transaction mode (issue 26): cubby's URL with
``prepared_statements=false``. The metadata_only conformance tests run through it too (see
tests/backends.py); these cover what only a pooler can break: start-up and migrations (one
transaction, a transaction-level advisory lock) from several processes at once, exactly-once
executes (a transaction per call), many concurrent requests sharing few server
connections, and the hot statements costing one exchange each."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from cubby.backends.config_error import BackendConfigError
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.postgres.kv import PgKv
from cubby.backends.url import open_meta_store
from cubby.core.scopes import Namespace
from tests.backends import POOLER_COMBO, server_env, settings_for
from tests.helpers import Api, free_port, live_server

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


def test_kv_get_and_put_are_one_exchange_each_through_the_pooler(tmp_path: Path) -> None:
    """Without a statement cache asyncpg describes every statement first (Parse, Describe,
    Flush, then wait): two trips through the pooler. cubby keeps the descriptions per
    connection (backends/postgres/one_trip.py), so once warm each statement is one write of
    Parse + Bind + Execute + Sync. Counted on a relay between cubby and PgBouncer."""
    url = settings_for(POOLER_COMBO, tmp_path).database_url
    open_meta_store(url).close()  # migrated
    target = urlsplit(url)
    writes = 0

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target.port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, count: bool) -> None:
            nonlocal writes
            while data := await src.read(65536):
                writes += count  # the client waits for each answer: a read is one write
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False))

    async def scenario() -> int:
        port = free_port()
        server = await asyncio.start_server(relay, "127.0.0.1", port)
        netloc = f"{target.username}@127.0.0.1:{port}"
        db = PgDatabase(urlunsplit(target._replace(netloc=netloc)))
        await db.start()
        kv = PgKv(db)
        ns = Namespace("ws", "w:")
        try:
            await kv.put(ns, "k", b"1", None)  # warm: each statement described once
            assert await kv.get(ns, "k") is not None
            start = writes
            for i in range(5):
                await kv.put(ns, "k", str(i).encode(), None)
                got = await kv.get(ns, "k")
                assert got is not None and got.value == str(i).encode()
            return writes - start
        finally:
            await db.stop()
            server.close()

    assert asyncio.run(scenario()) == 10


def test_kept_statements_answer_like_asyncpgs_own(tmp_path: Path) -> None:
    """The kept-description path gives what asyncpg's own methods give: row counts from
    ``execute``, ``fetchval``'s column, and a failed statement runs again afterwards."""
    url = settings_for(POOLER_COMBO, tmp_path).database_url
    open_meta_store(url).close()

    async def scenario() -> None:
        db = PgDatabase(url)
        await db.start()
        try:
            await PgKv(db).put(Namespace("ws", "w:"), "k", b"1", None)
            for _ in range(2):  # described, then kept
                assert (
                    await db.execute("UPDATE kv_entries SET size = size WHERE ns = $1", "w:") == 1
                )
                assert await db.execute("UPDATE kv_entries SET size = size WHERE ns = $1", "x") == 0
                async with db.connection() as conn:
                    assert await conn.fetchval("SELECT $1::int, $2::int", 1, 2, column=1) == 2
                with pytest.raises(asyncpg.DivisionByZeroError):
                    await db.fetchval("SELECT 1 / $1::int", 0)
                assert await db.fetchval("SELECT 1 / $1::int", 1) == 1
                assert [r[0] for r in await db.fetch("SELECT generate_series(1, $1)", 3)] == [
                    1,
                    2,
                    3,
                ]
        finally:
            await db.stop()

    asyncio.run(scenario())
