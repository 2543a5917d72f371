"""One workload against two (or more) source trees of cubby, side by side, in interleaved rounds.

    git worktree add /tmp/cubby-base HEAD~1
    .venv/bin/python bench/compare_trees.py --workload put \\
        --tree base=/tmp/cubby-base/src --tree new=src [--rounds 5] [--duration 3] [--postgres]

Why: on this shared 2-core machine the same code's req/s moves by 10-20% from one minute to the
next, so a change worth less than that is invisible in two separate ``bench/run`` runs. Here every
tree's server runs at once (``cubby serve``, 1 worker, with that tree first on PYTHONPATH), and
each round loads them one after the other, so both see the same machine; compare the medians
and the round-by-round pairs, not single numbers. ``--postgres``: each server on its own schema
of a fresh database on the local PostgreSQL (``--postgres-url``), instead of SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import Cubby, cubby_server
from loadgen import CONNECTIONS, wrk

from backends import DEFAULT_POSTGRES, postgres_database, schemas


def parse_tree(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not Path(path, "cubby").is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r}: give NAME=PATH, PATH being a source folder that holds cubby/ (a "
            "checkout's src)")
    return name, Path(path).resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="put", choices=list(w.ONE_WORKLOAD))
    parser.add_argument("--tree", action="append", type=parse_tree, required=True,
                        help="NAME=PATH of a source folder (repeat: two or more)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=3, help="seconds per load run")
    parser.add_argument("--postgres", action="store_true", help="run the servers on PostgreSQL")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--connections", type=int, default=CONNECTIONS,
                        help=f"wrk's keep-alive connections (default {CONNECTIONS})")
    args = parser.parse_args()
    if len(args.tree) < 2:
        parser.error("give at least two --tree NAME=PATH")
    with ExitStack() as stack:
        db_urls = schemas(stack.enter_context(postgres_database(args.postgres_url))) \
            if args.postgres else None
        targets: list[tuple[str, Cubby, w.Request]] = []
        for name, src in args.tree:
            env = {**w.SERVER_ENV, "PYTHONPATH": str(src)}
            if db_urls is not None:
                env["CUBBY_DATABASE_URL"] = next(db_urls)
            cubby = stack.enter_context(cubby_server(1, env=env))
            _, req = w.ready(cubby, args.workload)
            wrk(f"warm-up {name}", cubby.base_url, req.path, req.method, req.body,
                req.headers, 1, spread=req.spread)
            targets.append((name, cubby, req))
        rps: dict[str, list[float]] = {name: [] for name, _, _ in targets}
        p50: dict[str, list[float]] = {name: [] for name, _, _ in targets}
        for _ in range(args.rounds):
            for name, cubby, req in targets:
                result = wrk(name, cubby.base_url, req.path, req.method, req.body,
                             req.headers, args.duration, connections=args.connections,
                             spread=req.spread)
                rps[name].append(result.rps)
                p50[name].append(result.p50_ms)
    where = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.workload} on {where}, req/s per round ({args.duration} s each, 1 worker, "
          f"{args.connections} connections):")
    for name, values in rps.items():
        rounds = " ".join(f"{v:8,.0f}" for v in values)
        print(f"  {name:<10} {rounds}   median {statistics.median(values):8,.0f}"
              f"   p50 {statistics.median(p50[name]):.2f} ms")


if __name__ == "__main__":
    main()
