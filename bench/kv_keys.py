"""kv-store ``list_keys`` first page (default limit 100) with 100 keys vs 1,000,000 keys in the
namespace: the p50 ratio shows whether a page costs the same however many keys there are
(issue 14, point 7; goal <= 2x), plus a page from the middle of the large namespace (a prefix
and a cursor deep inside it).

    .venv/bin/python bench/kv_keys.py [--duration 5] [--keys 1000000] [--rounds 2]

Method: both data dirs are seeded with direct SQL (bench/seed.py: the rows go into kv_entries
in one transaction before the server starts), two 1-worker servers run side by side, and the
runs alternate small/large for ``--rounds`` rounds; the best p50 of each is compared, so both
see the same machine load.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, machine_description
from loadgen import LoadResult, wrk
from seed import KV_ALIAS, kv_key, seed

GOAL = 2.0


def list_keys_body(ws: str, input: dict[str, object]) -> str:
    return json.dumps({"integrationName": "kv-store", "actionName": "list_keys",
                       "workspaceId": ws, "integrationAlias": KV_ALIAS, "input": input})


def check_page(cubby: Cubby, body: str, expected: int) -> None:
    """One request first, so a wrong answer stops the run instead of being timed."""
    out = cubby.execute(json.loads(body))
    if len(out["keys"]) != expected:
        raise SystemExit(f"list_keys answered {len(out['keys'])} keys, expected {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--keys", type=int, default=1_000_000, help="keys in the large namespace")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per size")
    args = parser.parse_args()
    print(f"# kv list_keys first page, 100 vs {args.keys:,} keys, on {machine_description()}")
    with tempfile.TemporaryDirectory(prefix="cubby-keys-small-") as small_dir, \
            tempfile.TemporaryDirectory(prefix="cubby-keys-large-") as large_dir:
        started = time.monotonic()
        small = seed(Path(small_dir), 100, 0)
        large = seed(Path(large_dir), args.keys, 0)
        print(f"seeded in {time.monotonic() - started:.1f} s")
        runs: dict[str, list[LoadResult]] = {}
        with cubby_server(1, data_dir=Path(small_dir)) as cs, \
                cubby_server(1, data_dir=Path(large_dir)) as cl:
            headers = {s.base_url: {"Authorization": f"Bearer {s.key}"} for s in (cs, cl)}
            first_small = list_keys_body(small.workspace_id, {})
            first_large = list_keys_body(large.workspace_id, {})
            middle = kv_key(args.keys // 2)
            cursor = base64.urlsafe_b64encode(middle.encode()).decode().rstrip("=")
            deep = list_keys_body(large.workspace_id, {"prefix": middle[:4], "cursor": cursor})
            check_page(cs, first_small, 100)
            check_page(cl, first_large, 100)
            cl.execute(json.loads(deep))
            cases = [("small", cs, first_small, "first page, 100 keys"),
                     ("large", cl, first_large, f"first page, {args.keys:,} keys"),
                     ("deep", cl, deep, f"prefix + cursor mid-way, {args.keys:,} keys")]
            print("| workload | req/s | p50 ms | p99 ms | errors |")
            print("|---|---|---|---|---|")
            for i in range(1, args.rounds + 1):
                for name, server, body, label in cases:
                    result = wrk(f"kv list_keys {label} (round {i})", server.base_url,
                                 "/api/v1/actions/execute", "POST", body,
                                 headers[server.base_url], args.duration)
                    print(result.row(), flush=True)
                    runs.setdefault(name, []).append(result)
    best = {name: min(results, key=lambda r: r.p50_ms) for name, results in runs.items()}
    failed = sum(r.errors for results in runs.values() for r in results)
    ratio = best["large"].p50_ms / best["small"].p50_ms
    deep_ratio = best["deep"].p50_ms / best["small"].p50_ms
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"\nlist_keys first page p50: {best['small'].p50_ms:.2f} ms (100 keys) vs "
          f"{best['large'].p50_ms:.2f} ms ({args.keys:,} keys): {ratio:.2f}x, {verdict} the "
          f"goal of <= {GOAL:.0f}x; mid-way page {best['deep'].p50_ms:.2f} ms ({deep_ratio:.2f}x)")
    if failed:
        raise SystemExit(f"{failed} requests failed")


if __name__ == "__main__":
    main()
