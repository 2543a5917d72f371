"""Mixed load in ``bench/run`` (group ``mixed``): 80% reads, 20% writes over 1,000 namespaces.

One cubby (1 worker, the embedded default) with ``state`` (kv-store) and ``files`` (storage)
integrations in ``end_user`` scope; every request names a random end user of 1,000
(``endUserId: u-<0..999>``), so each touches one of 1,000 namespaces. Before the run each end
user gets a key ``hot`` and a 4 KiB file ``hot.txt``.

The four request kinds run at once, each on its own keep-alive connections (one wrk process
each, one thread), so each gets its own latency distribution. wrk cannot fix a request rate,
so the 80/20 split is set by connection counts: a short calibration run measures each kind's
requests per connection under the mix, and the 32 connections are then dealt out so that the
reads get 80% of the requests and the writes 20% (each kind half of its side). The share each
kind actually got is reported next to its p50/p99.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import workloads as w
from lib import CONNECTIONS, Cubby, cubby_server
from loadgen import Spec, wrk_together
from report import Mixed

if TYPE_CHECKING:
    from suite import Bench

END_USERS = 1_000
MIX = (  # (action, integration, input, share of all requests)
    ("get", "kv-store", '{"key": "hot"}', 0.4),
    ("read_file", "storage", json.dumps({"path": w.HOT_FILE}), 0.4),
    ("put", "kv-store", '{"key": "k-__N__", "value": {"n": "__N__"}}', 0.1),
    ("write_file", "storage", json.dumps({"path": "w/__N__.txt", "content": w.BODY_4K}), 0.1),
)
P99_LIMIT = 4.0
CALIBRATION_CONNECTIONS = (12, 12, 4, 4)


def _body(ws: str, integration: str, action: str, input_json: str) -> str:
    alias = "state" if integration == "kv-store" else "files"
    body = json.dumps({"integrationName": integration, "actionName": action, "workspaceId": ws,
                       "integrationAlias": alias, "endUserId": "u-__R__", "input": "__IN__"})
    return body.replace('"__IN__"', input_json)


def _prepare(cubby: Cubby) -> str:
    ws = str(cubby.call("POST", "/api/v1/workspaces", {"name": "Mixed", "slug": "mixed"})[
        "workspace"]["id"])
    per_user = {"persistence": {"scope": "end_user"}}
    for name, alias in (("kv-store", "state"), ("storage", "files")):
        cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations",
                   {"integrationName": name, "alias": alias, "settings": per_user})

    def seed(user: int) -> None:
        with cubby.client() as client:
            for integration, alias, action, data in (
                ("kv-store", "state", "put", {"key": "hot", "value": w.HOT_VALUE}),
                ("storage", "files", "write_file", {"path": w.HOT_FILE, "content": w.BODY_4K}),
            ):
                client.post(w.EXECUTE, json={
                    "integrationName": integration, "actionName": action, "workspaceId": ws,
                    "integrationAlias": alias, "endUserId": f"u-{user}", "input": data,
                }).raise_for_status()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(seed, range(END_USERS)))
    return ws


def split_connections(rps_per_connection: list[float], shares: list[float],
                      total: int) -> list[int]:
    """Connections per kind so that each kind's share of requests is about ``shares``: a
    kind needs connections in proportion to share / (its requests per connection)."""
    weights = [share / max(rate, 1e-9) for share, rate in zip(shares, rps_per_connection,
                                                             strict=True)]
    scale = total / sum(weights)
    counts = [max(1, round(weight * scale)) for weight in weights]
    while sum(counts) > total:
        counts[counts.index(max(counts))] -= 1
    return counts


def mixed_pass(bench: Bench) -> None:
    print(f"# mixed load: 80/20 reads/writes over {END_USERS:,} namespaces, 1 worker",
          flush=True)
    with cubby_server(1, env=w.SERVER_ENV) as cubby:
        ws = _prepare(cubby)

        def specs(connections: list[int], duration: int) -> list[Spec]:
            return [
                Spec(f"mixed {action}", cubby.base_url, w.EXECUTE, "POST",
                     _body(ws, integration, action, input_json), dict(cubby.auth_headers),
                     duration=duration, connections=conns, spread=END_USERS, threads=1)
                for (action, integration, input_json, _), conns in zip(MIX, connections,
                                                                       strict=True)
            ]

        calibration = wrk_together(specs(list(CALIBRATION_CONNECTIONS), 2))
        connections = split_connections(
            [r.rps / c for r, c in zip(calibration, CALIBRATION_CONNECTIONS, strict=True)],
            [share for *_, share in MIX], CONNECTIONS)
        print(f"  connections per kind after calibration: {connections}", flush=True)
        results = wrk_together(specs(connections, 2 * bench.duration))
        total = sum(r.requests for r in results)
        for result in results:
            bench.results.append(result)
            bench.mixed.append(Mixed(result.name.removeprefix("mixed "), result,
                                     result.requests / total if total else 0.0, P99_LIMIT))
            print(f"  {result.name:<44} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:7.2f} ms"
                  f"  p99 {result.p99_ms:7.2f} ms", flush=True)
