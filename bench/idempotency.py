"""The cost of exactly-once execute: kv ``put`` with a fresh ``idempotencyKey`` on every call
versus a plain ``put``, in the same run on the same server (issue 14, point 7), and a repeat of
one key (a replay, which reads the record and runs nothing).

    .venv/bin/python bench/idempotency.py [--duration 5] [--workers 1]

With a key, the put's write and the key's record share one transaction (SQLite: one writer
job that stays open from the action's first write to its answer; PostgreSQL: BEGIN, claim,
the action's statement, record, COMMIT on one connection), so the ratio is the price of that.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, standalone_main
from loadgen import CONNECTIONS, THREADS, LoadResult, wrk


def setup(cubby: Cubby) -> str:
    ws = cubby.call("POST", "/api/v1/workspaces", {"name": "Bench", "slug": "bench-idem"})[
        "workspace"]["id"]
    cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations", {
        "integrationName": "kv-store", "alias": "state",
        "settings": {"persistence": {"scope": "workspace"}}})
    return str(ws)


def put_body(ws: str, key: str | None) -> str:
    body = {"integrationName": "kv-store", "actionName": "put", "workspaceId": ws,
            "integrationAlias": "state", "input": {"key": "k-__N__", "value": {"n": 1}}}
    if key is not None:
        body["idempotencyKey"] = key
    return json.dumps(body)


def run(duration: int, workers: int) -> list[LoadResult]:
    results: list[LoadResult] = []
    with cubby_server(workers=workers) as cubby:
        ws = setup(cubby)
        headers = {"Authorization": f"Bearer {cubby.key}"}

        def load(name: str, body: str, connections: int) -> LoadResult:
            result = wrk(name, cubby.base_url, "/api/v1/actions/execute", "POST", body,
                         headers, duration, connections=connections)
            print(result.row(), flush=True)
            results.append(result)
            return result

        replay_body = put_body(ws, "one-key").replace("k-__N__", "k-replayed")
        cubby.execute(json.loads(replay_body))
        # Few connections: the latency a lone client sees. Many: throughput under load.
        for connections in (THREADS, CONNECTIONS):
            tag = f"{workers}w, {connections} conn"
            plain = load(f"kv put, {tag}", put_body(ws, None), connections)
            keyed = load(f"kv put + idempotencyKey, {tag}", put_body(ws, "put-__N__"),
                         connections)
            replay = load(f"kv put replayed (same key), {tag}", replay_body, connections)
            for what, r in (("idempotencyKey", keyed), ("replay", replay)):
                p50 = r.p50_ms / plain.p50_ms if plain.p50_ms else float("nan")
                rps = r.rps / plain.rps if plain.rps else float("nan")
                print(f"{what} / plain put ({connections} conn): p50 {p50:.2f}x, "
                      f"req/s {rps:.2f}x ({r.rps:,.0f} vs {plain.rps:,.0f})")
    return results


def main() -> None:
    standalone_main("Idempotency key cost", __doc__, run)


if __name__ == "__main__":
    main()
