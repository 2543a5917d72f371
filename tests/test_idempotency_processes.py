"""Exactly-once across processes on one SQLite file: two metadata stores (two writer threads and
file locks, as two ``cubby serve`` processes have) run the same idempotencyKey at once. The
loser's claim finds the winner's committed record: its write answers IdempotencyTaken at once
(backends/sqlite/idempotency.py) and run_once replays the winner's answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cubby.backends.url import open_meta_store
from cubby.core import idempotency
from tests.backends import item, new_namespace, settings_for


class _NoneInFlight(dict[Any, Any]):
    """Each process has its own in-flight map: here, one that never sees the other's call."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __delitem__(self, key: Any) -> None:
        pass


def test_one_key_from_two_stores_runs_once_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "_inflight", _NoneInFlight())
    url = settings_for("sqlite+file", tmp_path).resolved_database_url
    stores = [open_meta_store(url), open_meta_store(url)]

    async def scenario() -> list[Any]:
        for store in stores:
            await store.start()
        try:
            ns = await new_namespace(stores[0])
            outcomes = []
            calls = [0]
            for round_ in range(5):
                key = f"same-{round_}"

                async def call(n: int, key: str = key) -> Any:
                    store = stores[n]

                    async def action() -> Any:
                        calls[0] += 1
                        length, _ = await store.kv.append(ns, key, item(n), max_items=10)
                        return {"length": length, "by": n}

                    return await idempotency.run_once(store, ns.workspace_id, key, "fp", action)

                results = await asyncio.gather(call(0), call(1))
                stored = await stores[0].kv.get(ns, key)
                assert stored is not None
                outcomes.append((results, msgspec.json.decode(stored.value)))
            assert calls == [10]  # both actions ran each round; the loser's write was refused
            return outcomes
        finally:
            for store in stores:
                await store.stop()

    try:
        outcomes = asyncio.run(scenario())
    finally:
        for store in stores:
            store.close()
    for (first, second), stored in outcomes:
        assert first[0] == second[0]  # the same answer to both calls
        assert sorted([first[1], second[1]]) == [False, True]  # one ran, one replayed
        winner = msgspec.json.decode(first[0])["by"]
        assert stored == [winner]  # its write alone is in the list
