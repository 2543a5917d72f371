"""The cost of limits (issue 25, acceptance 5): kv ``put`` and a 4 KiB ``write_file`` into a
workspace with every limit set (quotas far above what the run writes, and a rate limit far above
what it sends, so nothing is refused but every check runs: the quota triggers compare with a
limit, the rate limiter leases tokens) against a workspace with none, on the same server in the
same run, rounds interleaved (A B, then B A) because the host is shared.

    .venv/bin/python bench/limits.py [--duration 5] [--workers 1] [--rounds 3]

Both workspaces pay the usage counters (every write moves them, limit or not); what this
measures is what setting limits adds on top. The counters' own cost is in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, machine_description
from loadgen import CONNECTIONS, LoadResult, wrk
from workloads import BODY_4K

LIMITS = {
    "maxBytes": 1 << 50, "maxFiles": 1 << 40, "maxKeys": 1 << 40, "maxItems": 1 << 40,
    "perEndUser": {"maxBytes": 1 << 50, "maxFiles": 1 << 40, "maxKeys": 1 << 40},
    "requestsPerSecond": 1_000_000, "burst": 1_000_000,
}  # fmt: skip


def workspace(cubby: Cubby, slug: str, limited: bool) -> str:
    ws = str(
        cubby.call("POST", "/api/v1/workspaces", {"name": slug, "slug": slug})["workspace"]["id"]
    )
    shared = {"persistence": {"scope": "workspace"}}
    for name, alias in (("kv-store", "state"), ("storage", "files")):
        cubby.call(
            "POST",
            f"/api/v1/workspaces/{ws}/integrations",
            {"integrationName": name, "alias": alias, "settings": shared},
        )
    if limited:
        cubby.call("PUT", f"/api/v1/workspaces/{ws}/limits", LIMITS)
    return ws


def body(ws: str, workload: str, tag: str) -> str:
    if workload == "kv put":
        action, alias = "put", "state"
        data: dict[str, object] = {"key": f"{tag}-__N__", "value": {"n": 1}}
    else:
        action, alias = "write_file", "files"
        data = {"path": f"{tag}/__N__.txt", "content": BODY_4K}
    return json.dumps(
        {
            "integrationName": "kv-store" if alias == "state" else "storage",
            "actionName": action,
            "workspaceId": ws,
            "integrationAlias": alias,
            "input": data,
        }
    )


def run(duration: int, workers: int, rounds: int) -> list[LoadResult]:
    results: list[LoadResult] = []
    with cubby_server(workers=workers) as cubby:
        spaces = {
            "none": workspace(cubby, "bench-nolimits", False),
            "limits": workspace(cubby, "bench-limits", True),
        }
        headers = {"Authorization": f"Bearer {cubby.key}"}
        ratios: dict[str, list[float]] = {"kv put": [], "write_file 4 KiB": []}
        for n in range(rounds):
            for workload in ratios:
                order = ("none", "limits") if n % 2 == 0 else ("limits", "none")
                got: dict[str, LoadResult] = {}
                for which in order:
                    result = wrk(
                        f"{workload}, {which}, round {n + 1}",
                        cubby.base_url,
                        "/api/v1/actions/execute",
                        "POST",
                        body(spaces[which], workload, f"r{n}"),
                        headers,
                        duration,
                        connections=CONNECTIONS,
                    )
                    print(result.row(), flush=True)
                    results.append(result)
                    got[which] = result
                ratios[workload].append(got["limits"].rps / got["none"].rps)
        for workload, values in ratios.items():
            print(
                f"{workload}: limits / none req/s per round "
                f"{', '.join(f'{v:.2f}x' for v in values)}; median "
                f"{statistics.median(values):.2f}x"
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--workers", type=int, default=1, help="cubby worker processes")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    args = parser.parse_args()
    print(f"# Limits cost on {machine_description()}")
    print("| workload | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    failed = sum(r.errors for r in run(args.duration, args.workers, args.rounds))
    if failed:
        raise SystemExit(f"{failed} requests failed")


if __name__ == "__main__":
    main()
