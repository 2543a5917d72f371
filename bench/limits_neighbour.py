"""A rate-limited flood next to a neighbour (issue 25, acceptance 3): one `cubby serve` with two
worker processes; workspace A has `requestsPerSecond` 50 and `burst` 10, and 64 connections
send it kv gets as fast as they are answered for 10 seconds (wrk, no back-off: every 429 is
resent at once); workspace B (no limit) does kv gets on one connection, first alone, then during
the flood. Reports what the flood got admitted (the bucket's exact answer is 10 + 50 x 10 =
510), that every refusal was a 429 with Retry-After, and B's p99 alone and during the flood
(goal: within 2x).

    .venv/bin/python bench/limits_neighbour.py [--duration 10] [--rounds 3]
    CUBBY_DATABASE_URL=postgresql://... .venv/bin/python bench/limits_neighbour.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, machine_description
from loadgen import Spec, wrk_together

FLOOD_CONNECTIONS = 64
LIMITS = {"requestsPerSecond": 50, "burst": 10}
GOAL = 2.0


def workspace(cubby: Cubby, slug: str) -> str:
    ws = str(
        cubby.call("POST", "/api/v1/workspaces", {"name": slug, "slug": slug})["workspace"]["id"]
    )
    cubby.call(
        "POST",
        f"/api/v1/workspaces/{ws}/integrations",
        {"integrationName": "kv-store", "alias": "kv",
         "settings": {"persistence": {"scope": "workspace"}}},
    )  # fmt: skip
    cubby.execute({"integrationName": "kv-store", "actionName": "put", "workspaceId": ws,
                   "input": {"key": "k", "value": 1}})  # fmt: skip
    return ws


def get_spec(cubby: Cubby, name: str, ws: str, duration: int, connections: int,
             count: bool) -> Spec:  # fmt: skip
    body = json.dumps({"integrationName": "kv-store", "actionName": "get", "workspaceId": ws,
                       "input": {"key": "k"}})  # fmt: skip
    return Spec(name, cubby.base_url, "/api/v1/actions/execute", "POST", body, cubby.auth_headers,
                duration, connections, threads=2 if connections > 1 else 1,
                count_statuses=count)  # fmt: skip


def one_round(cubby: Cubby, flooded: str, neighbour: str, duration: int) -> dict[str, float]:
    # the bucket refills meanwhile: each flood starts from a full burst
    (alone,) = wrk_together([get_spec(cubby, "neighbour alone", neighbour, duration, 1, False)])
    flood, during = wrk_together([
        get_spec(cubby, "flood", flooded, duration, FLOOD_CONNECTIONS, True),
        get_spec(cubby, "neighbour during the flood", neighbour, duration, 1, False),
    ])  # fmt: skip
    statuses = flood.statuses or {}
    admitted, refused = statuses.get(200, 0), statuses.get(429, 0)
    other = sum(n for status, n in statuses.items() if status not in (200, 429))
    for result in (alone, during):
        print(result.row(), flush=True)
    print(f"| flood: {admitted} admitted, {refused} refused (429), {other} other, "
          f"{flood.without_retry_after} 429s without Retry-After | {flood.rps:,.0f} | "
          f"{flood.p50_ms:.2f} | {flood.p99_ms:.2f} | {other} |", flush=True)  # fmt: skip
    return {
        "admitted": admitted, "refused": refused, "other": other,
        "no_retry_after": flood.without_retry_after, "alone_p99": alone.p99_ms,
        "during_p99": during.p99_ms, "ratio": during.p99_ms / alone.p99_ms,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds of flood per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    backend = "PostgreSQL" if os.environ.get("CUBBY_DATABASE_URL") else "SQLite"
    print(f"# Rate-limited flood next to a neighbour ({backend}, 2 workers) on "
          f"{machine_description()}")  # fmt: skip
    print("| run | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    rounds: list[dict[str, float]] = []
    with cubby_server(workers=2) as cubby:
        flooded, neighbour = workspace(cubby, "flooded"), workspace(cubby, "neighbour")
        cubby.call("PUT", f"/api/v1/workspaces/{flooded}/limits", LIMITS)
        for _ in range(args.rounds):
            rounds.append(one_round(cubby, flooded, neighbour, args.duration))
    ratio = statistics.median(r["ratio"] for r in rounds)
    ratios = ", ".join(f"{r['ratio']:.2f}x" for r in rounds)
    admitted = ", ".join(str(int(r["admitted"])) for r in rounds)
    print(f"neighbour p99 during / alone per round: {ratios}; median {ratio:.2f}x "
          f"(goal <= {GOAL:g}x: {'met' if ratio <= GOAL else 'MISSED'})")  # fmt: skip
    print(f"admitted per round: {admitted} "
          f"(510 exact for {args.duration} s; acceptance 500-650 for 10 s)")  # fmt: skip
    broken = sum(r["other"] + r["no_retry_after"] for r in rounds)
    if broken:
        raise SystemExit(f"{broken} flood answers were neither 200 nor a 429 with Retry-After")


if __name__ == "__main__":
    main()
