"""PostgreSQL through PgBouncer in transaction mode against a direct connection (issue 26).

    .venv/bin/python bench/pgbouncer.py [--duration 5] [--rounds 2]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Two ``cubby serve`` (1 worker, default request log, ``pool_size`` 10) on the same PostgreSQL, in
fresh schemas of one database made for the run: one connects directly, one through Debian's
``pgbouncer`` (``pool_mode = transaction``, started as user postgres exactly as the tests start
it: tests/backends.py) with ``?prepared_statements=false``. KV ``get`` of one hot key and KV
``put`` of fresh keys, wrk with 32 keep-alive connections, a discarded 2 s warm-up, then
``--rounds`` interleaved rounds so both see the same machine load; which side goes first
alternates from round to round (direct, pooled, pooled, direct, ...), because the run right
after a put run shares the machine with what that run left PostgreSQL to do. The row gives each
side's mean, the ratio of the means and each round's pair. The direct server keeps its
statement cache (asyncpg's default), as a deployment without a pooler would.

The second table is where the CPU went: microseconds of CPU per request of each side's
``cubby serve``, of every ``pgbouncer`` process, of every PostgreSQL process (backends and
background work) and of wrk, from /proc over each measured run (Linux; means over the rounds).
On a host where all of them share the cores, the ratio of the throughputs follows the inverse
ratio of the totals.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))  # tests.backends: the same pgbouncer the tests run

import workloads  # noqa: E402
from lib import cpu_seconds, cubby_server, machine_description, wrk  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
KINDS = ("cubby", "pgbouncer", "postgres", "wrk")


def cpu_by_kind(cubby_pid: int) -> dict[str, float]:
    """CPU seconds used so far by ``cubby_pid``, all pgbouncer and all postgres processes, and
    this process's finished children (wrk). Processes that ended in between are not counted."""
    used = dict.fromkeys(KINDS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            seconds = cpu_seconds(int(entry.name))
        except OSError:
            continue
        if int(entry.name) == cubby_pid:
            used["cubby"] += seconds
        elif comm in ("pgbouncer", "postgres"):
            used[comm] += seconds
    children = os.times()
    used["wrk"] = children.children_user + children.children_system
    return used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per side")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()

    # imported by name: tests/ is not part of the typed tree mypy checks with bench/
    backends = importlib.import_module("tests.backends")

    try:
        run = backends.PostgresRun(args.postgres_url)
        bouncer = backends.PgBouncer(run)
        direct_url = run.new_schema(fresh=True)
        pooled_url = bouncer.url_for(run.new_schema(fresh=True))
        env = {**workloads.SERVER_ENV}
        with (
            cubby_server(env={**env, "CUBBY_DATABASE_URL": direct_url}) as direct,
            cubby_server(env={**env, "CUBBY_DATABASE_URL": pooled_url}) as pooled,
        ):
            sides = {"direct": direct, "pgbouncer": pooled}
            spaces = {}
            for name, cubby in sides.items():
                spaces[name] = workloads.create_workspace(cubby, with_storage=False)
                workloads.prepare_kv(cubby, spaces[name])
            print(
                f"# PostgreSQL direct vs through PgBouncer (transaction mode) on "
                f"{machine_description()}"
            )
            print(
                "| workload | direct req/s | pgbouncer req/s | ratio | p99 ms direct / "
                "pgbouncer | errors | rounds (direct / pgbouncer) |"
            )
            print("|---|---|---|---|---|---|---|")
            failed = 0
            cpu_rows = []
            for label, make in (("kv get", workloads.kv_get), ("kv put", workloads.kv_put)):
                results: dict[str, list[float]] = {name: [] for name in sides}
                p99: dict[str, list[float]] = {name: [] for name in sides}
                cpu: dict[str, dict[str, list[float]]] = {
                    name: {kind: [] for kind in KINDS} for name in sides
                }
                for name, cubby in sides.items():
                    req = make(cubby, spaces[name])
                    wrk(
                        f"warm-up {label} [{name}]",
                        cubby.base_url,
                        req.path,
                        req.method,
                        req.body,
                        req.headers,
                        duration=2,
                        spread=req.spread,
                    )
                for round_no in range(args.rounds):
                    order = list(sides) if round_no % 2 == 0 else list(reversed(sides))
                    for name in order:
                        cubby = sides[name]
                        req = make(cubby, spaces[name])
                        before = cpu_by_kind(cubby.pid)
                        result = wrk(
                            f"{label} [{name}]",
                            cubby.base_url,
                            req.path,
                            req.method,
                            req.body,
                            req.headers,
                            duration=args.duration,
                            spread=req.spread,
                        )
                        after = cpu_by_kind(cubby.pid)
                        for kind in KINDS:
                            spent = after[kind] - before[kind]
                            cpu[name][kind].append(spent / max(result.requests, 1) * 1e6)
                        results[name].append(result.rps)
                        p99[name].append(result.p99_ms)
                        failed += result.errors
                d, p = (statistics.mean(results[n]) for n in sides)
                pairs = zip(results["direct"], results["pgbouncer"], strict=True)
                each = ", ".join(f"{a:,.0f} / {b:,.0f}" for a, b in pairs)
                print(
                    f"| {label} | {d:,.0f} | {p:,.0f} | {p / d:.2f} | "
                    f"{max(p99['direct']):.1f} / {max(p99['pgbouncer']):.1f} | "
                    f"{failed} | {each} |",
                    flush=True,
                )
                for name in sides:
                    means = [statistics.mean(cpu[name][kind]) for kind in KINDS]
                    cells = " | ".join(f"{m:,.0f}" for m in means)
                    cpu_rows.append(f"| {label} | {name} | {cells} | {sum(means):,.0f} |")
            print()
            print("| workload | side | " + " | ".join(KINDS) + " | total (CPU us per request) |")
            print("|---|---|" + "---|" * len(KINDS) + "---|")
            print("\n".join(cpu_rows), flush=True)
        return 1 if failed else 0
    finally:
        backends.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
