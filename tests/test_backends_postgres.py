"""PostgreSQL backend specifics: migrations under concurrency, list atomicity across
connections (several pools stand in for several processes), append cost on a long list, round
trips per request, and which event loop owns which connection. Each test gets a fresh schema
(tests/backends.py); without CUBBY_TEST_POSTGRES_URL they skip (fail in CI)."""

from __future__ import annotations

import asyncio
import random
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.backends.base import MetaStore
from cubby.backends.postgres.migrate import apply_migrations, migration_files
from cubby.backends.postgres.store import parse_url, redact
from cubby.backends.url import open_meta_store
from cubby.core import keys
from cubby.core.scopes import Namespace
from cubby.errors import ActionFailed
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import item, new_namespace, postgres_url
from tests.helpers import Api

T = TypeVar("T")
NO_CAP = 10**9  # max_items for appends these tests do not mean to cap


def run(fn: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await fn()

    return asyncio.run(main())


def test_url_parsing_keeps_server_settings_and_hides_the_password() -> None:
    dsn, size = parse_url(
        "postgres://u:pw@db:5433/cubby?search_path=c1&pool_size=7&sslmode=disable"
    )
    assert size == 7
    assert dsn == "postgresql://u:pw@db:5433/cubby?search_path=c1&sslmode=disable"
    assert redact("postgresql://u:pw@db:5433/cubby?password=x") == "postgresql://u@db:5433/cubby"


def test_migrations_run_once_when_processes_start_together() -> None:
    url = postgres_url(fresh=True)
    stores: list[MetaStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stores.append(open_meta_store(url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({store.org_id for store in stores}) == 1  # one organisation row

    async def check() -> tuple[list[int], list[int]]:
        async with stores[0].closer.connection() as conn:  # type: ignore[attr-defined]
            versions = [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")]
            return sorted(versions), await apply_migrations(conn)

    versions, again = run(check)
    assert versions == [version for version, _, _ in migration_files()]
    assert again == []  # nothing left to apply
    for store in stores:
        store.close()


def test_appends_from_many_connections_are_atomic_and_ordered() -> None:
    """Four stores (four pools, as four processes would have) append concurrently to one key:
    every append gets a distinct length, and the item at that position is its own."""
    url = postgres_url()
    stores = [open_meta_store(url) for _ in range(4)]
    per_task, tasks_per_store = 10, 16

    async def scenario() -> tuple[dict[int, str], list[Any], int]:
        for store in stores:
            await store.start()
        ns = await new_namespace(stores[0])
        got: dict[int, str] = {}

        async def worker(store: MetaStore, name: str) -> None:
            for i in range(per_task):
                value = f"{name}-{i}"
                length, _ = await store.kv.append(ns, "log", item(value), max_items=NO_CAP)
                assert length not in got
                got[length] = value

        await asyncio.gather(
            *(
                worker(store, f"s{s}t{t}")
                for s, store in enumerate(stores)
                for t in range(tasks_per_store)
            )
        )
        found = await stores[1].kv.get(ns, "log")
        assert found is not None
        stored_length = await stores[2].closer.fetchval(  # type: ignore[attr-defined]
            "SELECT length FROM kv_entries WHERE workspace_id = $1 AND key = 'log'",
            ns.workspace_id,
        )
        for store in stores:
            await store.stop()
        return got, msgspec.json.decode(found.value), stored_length

    got, items, stored_length = run(scenario)
    total = len(stores) * tasks_per_store * per_task
    assert sorted(got) == list(range(1, total + 1))
    assert len(items) == total == stored_length
    assert all(items[length - 1] == value for length, value in got.items())
    for store in stores:
        store.close()


def test_puts_removes_and_appends_racing_keep_the_list_consistent() -> None:
    """Whatever interleaving happens, the stored length equals the items a read returns, and
    nothing appended after the last put is lost."""
    url = postgres_url()
    stores = [open_meta_store(url) for _ in range(3)]
    rng = random.Random(5)

    async def scenario() -> None:
        for store in stores:
            await store.start()
        ns = await new_namespace(stores[0])

        async def worker(store: MetaStore) -> None:
            for _ in range(40):
                op = rng.random()
                if op < 0.5:
                    await store.kv.append(
                        ns, "mix", item(rng.choice(["a", "b", {"c": 1}])), max_items=NO_CAP
                    )
                elif op < 0.75:
                    await store.kv.remove(ns, "mix", item("a"))
                elif op < 0.9:
                    await store.kv.put(ns, "mix", b'["a","x"]', [item("a"), item("x")])
                else:
                    await store.kv.delete(ns, "mix")

        await asyncio.gather(*(worker(stores[i % 3]) for i in range(12)))
        found = await stores[0].kv.get(ns, "mix")
        rows = await stores[0].closer.fetch(  # type: ignore[attr-defined]
            "SELECT e.length, (SELECT count(*) FROM kv_list_items i WHERE i.workspace_id = "
            "e.workspace_id AND i.ns = e.ns AND i.key = e.key) FROM kv_entries e "
            "WHERE e.workspace_id = $1",
            ns.workspace_id,
        )
        orphans = await stores[0].closer.fetchval(  # type: ignore[attr-defined]
            "SELECT count(*) FROM kv_list_items i WHERE NOT EXISTS (SELECT FROM kv_entries e "
            "WHERE e.workspace_id = i.workspace_id AND e.ns = i.ns AND e.key = i.key)"
        )
        for store in stores:
            await store.stop()
        assert orphans == 0
        if found is None:
            assert rows == []
        else:
            assert [tuple(r) for r in rows] == [(len(msgspec.json.decode(found.value)),) * 2]

    run(scenario)
    for store in stores:
        store.close()


def test_not_a_list_changes_nothing() -> None:
    meta = open_meta_store(postgres_url())

    async def scenario() -> None:
        ns = await new_namespace(meta)
        await meta.kv.put(ns, "s", b'"text"', None)
        for op in (meta.kv.append(ns, "s", item(1), max_items=1), meta.kv.remove(ns, "s", item(1))):
            with pytest.raises(ActionFailed) as failed:
                await op
            assert failed.value.reason == "NOT_A_LIST"
        found = await meta.kv.get(ns, "s")
        assert found is not None and (found.value, found.version) == (b'"text"', 1)

    run(scenario)
    meta.close()


def test_append_to_a_100k_list_costs_what_an_empty_one_does() -> None:
    meta = open_meta_store(postgres_url())
    big = [item(i) for i in range(100_000)]

    async def timed(ns: Namespace, key: str, i: int) -> float:
        started = time.perf_counter()
        await meta.kv.append(ns, key, item(f"x{i}"), max_items=NO_CAP)
        return time.perf_counter() - started

    async def scenario() -> tuple[float, float, int]:
        await meta.start()
        ns = await new_namespace(meta)
        await meta.kv.put(ns, "big", b"[" + b",".join(i.text.encode() for i in big) + b"]", big)
        await meta.kv.append(ns, "small", item(0), max_items=NO_CAP)
        small, large = [], []
        for i in range(60):  # interleaved, so a load change on the machine hits both alike
            small.append(await timed(ns, "small", i))
            large.append(await timed(ns, "big", i))
        length, _ = await meta.kv.append(ns, "big", item("last"), max_items=NO_CAP)
        await meta.stop()
        return statistics.median(small[10:]), statistics.median(large[10:]), length

    small_cost, big_cost, length = run(scenario)
    assert length == 100_000 + 60 + 1
    assert big_cost < small_cost * 3 + 0.002, (small_cost, big_cost)
    meta.close()


def test_warm_execute_is_one_statement(tmp_path: Path) -> None:
    """With caches warm (API key and integration lookup), one KV execute = the action's one
    statement; the execute lookup itself is one statement when it is not cached."""
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres_url())
    services = build_services(settings)
    _, plain = run(lambda: keys.create_key(services.meta, "tests", None, None))
    seen: list[str] = []
    with TestClient(create_app(settings, services)) as client:
        api = Api(client, plain)
        ws = api.create_workspace("hot")
        api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
        for action, value in (("put", [1, 2]), ("add_to_list", 3), ("get", None)):
            body = {"key": "k"} if value is None else {"key": "k", "value": value}
            api.output("kv-store", action, ws, body)  # warm this statement's path
            services.meta.closer.set_trace_callback(seen.append)  # type: ignore[attr-defined]
            api.output("kv-store", action, ws, body)
            services.meta.closer.set_trace_callback(None)  # type: ignore[attr-defined]
            assert len(seen) == 1, seen
            assert "kv_" in seen[0]
            seen.clear()
        services.integrations.invalidate(ws)  # a cold lookup: one more statement, no more
        services.meta.closer.set_trace_callback(seen.append)  # type: ignore[attr-defined]
        api.output("kv-store", "get", ws, {"key": "k"})
        services.meta.closer.set_trace_callback(None)  # type: ignore[attr-defined]
        assert len(seen) == 2, seen
        assert "workspace_integrations" in seen[0] and "kv_" in seen[1]
    services.close()


def test_the_pool_lives_on_the_serving_loop_only() -> None:
    """Code on another loop (the CLI's asyncio.run) borrows a connection per call; the pool
    closes with the server's lifespan, leaving no connection behind."""
    url = postgres_url()
    meta = open_meta_store(url)
    schema = url.rsplit("search_path=", 1)[1]
    observer = open_meta_store(url)

    def connections() -> int:
        return int(
            run(
                lambda: observer.closer.fetchval(  # type: ignore[attr-defined]
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query NOT LIKE '%pg_stat_activity%' "
                    "AND backend_type = 'client backend' AND application_name = $1",
                    schema,
                )
            )
        )

    loop = asyncio.new_event_loop()
    try:
        meta_named = open_meta_store(url + f"&application_name={schema}")
        loop.run_until_complete(meta_named.start())
        loop.run_until_complete(meta_named.api_keys.count_all())
        assert connections() == 1  # the pool's one idle connection
        assert run(meta_named.api_keys.count_all) == 0  # another loop: its own connection
        assert connections() == 1  # ... closed again
        loop.run_until_complete(meta_named.stop())
        assert connections() == 0
    finally:
        loop.close()
    meta_named.close()
    meta.close()
    observer.close()


def test_the_gets_of_one_loop_turn_are_one_statement() -> None:
    """Gets issued in one event-loop turn share one statement (backends/postgres/turn_reads.py),
    each answered with its own key's value, missing and expired keys and lists included; a
    get inside an open transaction reads on that transaction, at once."""
    import contextvars

    from cubby.backends.postgres.db import transaction_conn
    from cubby.backends.postgres.turn_reads import GET_MANY, GET_ONE
    from cubby.core import clock

    meta = open_meta_store(postgres_url())
    db = meta.closer  # type: ignore[attr-defined]

    async def scenario() -> None:
        await meta.start()
        ns = await new_namespace(meta)
        other = await new_namespace(meta)
        await meta.kv.put(ns, "a", b'"A"', None)
        await meta.kv.put(other, "a", b'"other A"', None)
        await meta.kv.put(ns, "list", b"[1,2]", [item(1), item(2)])
        await meta.kv.put(ns, "old", b"1", None, expires_at=clock.now() - 1)
        seen: list[str] = []
        db.set_trace_callback(seen.append)
        try:
            found = await asyncio.gather(
                *(meta.kv.get(n, k) for n, k in [(ns, "a"), (other, "a"), (ns, "list"),
                                                   (ns, "old"), (ns, "missing"), (ns, "a")])
            )  # fmt: skip
            assert seen == [GET_MANY]
            seen.clear()
            alone = await meta.kv.get(ns, "a")
            assert seen == [GET_ONE]
        finally:
            db.set_trace_callback(None)
        values = [None if f is None else (f.value, f.version) for f in found]
        assert values == [
            (b'"A"', 1), (b'"other A"', 1), (b"[1,2]", 1), None, None, (b'"A"', 1)
        ]  # fmt: skip
        assert alone is not None and alone.value == b'"A"'
        async with db.connection() as conn:
            transaction = conn.transaction()
            await transaction.start()
            token = transaction_conn.set((db, conn))
            try:
                await meta.kv.put(ns, "uncommitted", b"2", None)
                inside = await meta.kv.get(ns, "uncommitted")
                outside = await asyncio.create_task(
                    meta.kv.get(ns, "uncommitted"), context=contextvars.Context()
                )
            finally:
                transaction_conn.reset(token)
                await transaction.rollback()
        assert inside is not None and inside.value == b"2" and outside is None
        await meta.stop()

    run(scenario)
    meta.close()


def test_a_failed_turn_read_reaches_every_get_and_a_cancelled_one_spares_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meta = open_meta_store(postgres_url())
    db = meta.closer  # type: ignore[attr-defined]

    async def scenario() -> None:
        await meta.start()
        ns = await new_namespace(meta)
        await meta.kv.put(ns, "a", b"1", None)
        gets = [asyncio.ensure_future(meta.kv.get(ns, "a")) for _ in range(3)]
        await asyncio.sleep(0)  # the three are waiting for the turn's statement
        gets[0].cancel()
        done = await asyncio.gather(*gets, return_exceptions=True)
        assert isinstance(done[0], asyncio.CancelledError)
        assert [d.value for d in done[1:]] == [b"1", b"1"]  # type: ignore[union-attr]

        async def broken(*args: Any) -> Any:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(db, "fetch", broken)
        failed = await asyncio.gather(
            *(meta.kv.get(ns, "a") for _ in range(2)), return_exceptions=True
        )
        assert [str(f) for f in failed] == ["the database went away"] * 2
        monkeypatch.undo()
        await meta.stop()

    run(scenario)
    meta.close()
