"""The whole benchmark (issue 6): cubby's workloads against their baselines, back to back.

    bench/run [--duration 5] [--workers 1,2] [--only kv,files,download,postgres,s3,mixed,...]

For each worker count: start cubby, the Python ceiling, webdis (on a private redis, durable and
not) and nginx (WebDAV); then run each baseline immediately before the cubby workload it is
compared with. Then the scale-out path (PostgreSQL with 1 and 2 processes, S3 through moto,
scaleout.py), the mixed load (mixed.py) and the scaling checks on freshly seeded data dirs.
Prints the tables; a full run also rewrites the results section of bench/README.md. Exits
non-zero when any load run had a failed request or a server could not start; with ``--strict``
also when a target is missed.
"""

from __future__ import annotations

import argparse
import math
import shlex
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import Cubby, LoadResult, cubby_server, ensure_tool, machine_description
from loadgen import wrk
from mixed import mixed_pass
from peers import Nginx, ceiling_server, nginx_dav, redis_server, webdis_server
from report import Gain, Mixed, Pair, Scaling, results_section, write_raw, write_readme
from scaleout import postgres_pass, s3_pass
from seed import seed

from backends import DEFAULT_POSTGRES

GROUPS = ("kv", "files", "download", "postgres", "s3", "mixed", "kv-scaling", "files-scaling")
STORAGE_GROUPS = {"files", "download", "files-scaling"}
RAW_DIR = Path(__file__).resolve().parent / "results" / "raw"
SCALING_ROUNDS = 2
ROUNDS = 2  # alternations of baseline and cubby per comparison


class Bench:
    """Runs and records every load run; prints each as it finishes."""

    def __init__(self, duration: int) -> None:
        self.duration = duration
        self.results: list[LoadResult] = []
        self.pairs: list[Pair] = []
        self.checks: list[Scaling] = []
        self.gains: list[Gain] = []
        self.mixed: list[Mixed] = []

    def measure(self, name: str, url: str, req: w.Request, duration: int | None = None,
                record: bool = True) -> LoadResult:
        result = wrk(name, url, req.path, req.method, req.body, req.headers,
                     duration or self.duration, spread=req.spread, timeout_s=req.timeout_s)
        if record:
            self.results.append(result)
            print(f"  {name:<44} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                  f"p99 {result.p99_ms:7.2f} ms  {result.mib_per_s:8,.1f} MiB/s", flush=True)
        return result

    def warm(self, url: str, req: w.Request) -> None:
        self.measure("warm-up", url, req, duration=1, record=False)


@dataclass
class Pass:
    """One worker count: cubby and every baseline server, started side by side."""

    bench: Bench
    workers: int
    cubby: Cubby
    ws: str
    ceiling_url: str

    @property
    def tag(self) -> str:
        return f"{self.workers}w"

    def target(self, ratio: float) -> float | None:
        return ratio if self.workers == 1 else None  # the targets are for 1 worker

    def paired(self, workload: str, req: w.Request, baseline_name: str, baseline_url: str,
               baseline_req: w.Request, target: float | None = None, throughput: bool = False,
               duration: int | None = None) -> LoadResult:
        """Baseline and cubby alternately, ROUNDS times each, each run a share of the
        duration; each side's runs are merged, so a load swing on the shared machine hits
        both sides alike."""
        share = max(1, math.ceil((duration or self.bench.duration) / ROUNDS))
        base_runs: list[LoadResult] = []
        cubby_runs: list[LoadResult] = []
        for i in range(1, ROUNDS + 1):
            base_runs.append(self.bench.measure(
                f"{baseline_name} ({workload}), {self.tag} #{i}", baseline_url, baseline_req,
                share))
            cubby_runs.append(self.bench.measure(
                f"cubby {workload}, {self.tag} #{i}", self.cubby.base_url, req, share))
        result, base = LoadResult.merge(cubby_runs), LoadResult.merge(base_runs)
        self.bench.pairs.append(Pair(f"{workload}, {self.tag}", result, baseline_name, base,
                                     throughput, self.target(target) if target else None))
        return result

    def vs_ceiling(self, workload: str, req: w.Request, target: float | None = None
                   ) -> LoadResult:
        """cubby against the ceiling app answering the very same body."""
        return self.paired(workload, req, f"ceiling {self.tag}", self.ceiling_url,
                           w.ceiling(str(req.body)), target)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("s" if n != 1 else "")


def kv_pass(p: Pass, stack: ExitStack) -> None:
    webdis_url = stack.enter_context(webdis_server(stack.enter_context(redis_server()),
                                                   p.workers))
    durable_url = stack.enter_context(webdis_server(
        stack.enter_context(redis_server(durable=True)), p.workers))
    w.prepare_webdis(webdis_url)
    c, ws, thr = p.cubby, p.ws, plural(p.workers, "thread")
    p.vs_ceiling("kv get (hit)", w.kv_get(c, ws), 0.5)
    p.paired("kv get (hit)", w.kv_get(c, ws), f"webdis GET ({thr})", webdis_url,
             w.webdis_get())
    p.vs_ceiling("kv put (durable)", w.kv_put(c, ws), 0.3)
    p.paired("kv put (durable)", w.kv_put(c, ws), f"webdis SET ({thr}, appendfsync always)",
             durable_url, w.webdis_set(), target=0.8)
    p.paired("kv put (durable)", w.kv_put(c, ws), f"webdis SET ({thr}, not durable)",
             webdis_url, w.webdis_set())
    p.vs_ceiling("kv add_to_list (durable)", w.kv_add_to_list(c, ws))
    p.paired("kv add_to_list (durable)", w.kv_add_to_list(c, ws),
             f"webdis RPUSH ({thr}, appendfsync always)", durable_url, w.webdis_rpush())


def files_pass(p: Pass, nginx: Nginx) -> None:
    c, ws, procs = p.cubby, p.ws, plural(p.workers, "worker")
    # nginx PUT never fsyncs: context, no target. The durable comparison for this write is
    # PostgreSQL's own INSERT of the same row (scaleout.py) and the ceiling on the same body.
    p.paired("storage write_file 4 KiB", w.write_file(c, ws),
             f"nginx WebDAV PUT ({procs}, no fsync)", nginx.url, w.nginx_put())
    p.vs_ceiling("storage write_file 4 KiB", w.write_file(c, ws), 0.5)
    p.vs_ceiling("storage read_file 4 KiB", w.read_file(c, ws), 0.4)
    p.paired("storage read_file 4 KiB", w.read_file(c, ws), f"nginx GET ({procs})",
             nginx.url, w.nginx_get())


def download_pass(p: Pass, nginx: Nginx, big: bytes) -> None:
    path = w.prepare_download(p.cubby, p.ws, big)
    # 32 parallel 100 MiB bodies take seconds each: these runs get twice the duration
    p.paired("download 100 MiB", w.download(path), f"nginx GET ({plural(p.workers, 'worker')})",
             nginx.url, w.nginx_download(), target=0.6, throughput=True,
             duration=4 * p.bench.duration)


def run_pass(bench: Bench, workers: int, groups: set[str], big: bytes | None) -> None:
    """Every workload for one worker count, each baseline run right next to its cubby run."""
    print(f"# cubby with {workers} worker(s)", flush=True)
    storage = bool(groups & STORAGE_GROUPS)
    with ExitStack() as stack:
        cubby: Cubby = stack.enter_context(cubby_server(workers, env=w.SERVER_ENV))
        if storage:
            w.require_storage(cubby)
        ws = w.create_workspace(cubby, with_storage=storage)
        p = Pass(bench, workers, cubby, ws, stack.enter_context(ceiling_server(workers)))
        w.prepare_kv(cubby, ws)
        bench.warm(cubby.base_url, w.kv_get(cubby, ws))
        bench.warm(p.ceiling_url, w.ceiling(str(w.kv_get(cubby, ws).body)))
        if "kv" in groups:
            kv_pass(p, stack)
        if "files" in groups or "download" in groups:
            nginx = stack.enter_context(nginx_dav(workers))
            w.prepare_files(cubby, ws)
            w.prepare_nginx(nginx.root, big or b"")
            if "files" in groups:
                files_pass(p, nginx)
            if "download" in groups:
                assert big is not None
                download_pass(p, nginx, big)


def run_scaling(bench: Bench, groups: set[str]) -> None:
    """kv get with 1,000,000 vs 1,000 keys; list_files first page with 100,000 vs 100 files."""
    kv, files = "kv-scaling" in groups, "files-scaling" in groups
    print("# scaling (1 worker, seeded data dirs)", flush=True)
    with tempfile.TemporaryDirectory(prefix="cubby-small-") as small_dir, \
            tempfile.TemporaryDirectory(prefix="cubby-large-") as large_dir:
        started = time.monotonic()
        small = seed(Path(small_dir), 1_000 if kv else 0, 100 if files else 0)
        large = seed(Path(large_dir), 1_000_000 if kv else 0, 100_000 if files else 0)
        print(f"  seeded in {time.monotonic() - started:.1f} s", flush=True)
        with cubby_server(1, data_dir=Path(small_dir)) as cs, \
                cubby_server(1, data_dir=Path(large_dir)) as cl:
            if files:
                w.require_storage(cs)
            runs: dict[str, list[LoadResult]] = {}

            def keep(name: str, result: LoadResult) -> None:
                runs.setdefault(name, []).append(result)

            bench.warm(cs.base_url, w.kv_get(cs, small.workspace_id))
            bench.warm(cl.base_url, w.kv_get(cl, large.workspace_id))
            for i in range(1, SCALING_ROUNDS + 1):
                for c, s, size in ((cs, small, "small"), (cl, large, "large")):
                    if kv:
                        keep(f"kv-{size}", bench.measure(
                            f"kv get, {s.kv_keys:,} keys (round {i})", c.base_url,
                            w.kv_get_random(c, s.workspace_id, s.kv_keys)))
                    if files:
                        keep(f"files-{size}", bench.measure(
                            f"list_files 100, {s.files:,} files (round {i})", c.base_url,
                            w.list_files(c, s.workspace_id, 100)))

    def best(name: str) -> LoadResult:
        return min(runs[name], key=lambda r: r.p50_ms)

    if kv:
        bench.checks.append(Scaling("kv get (random hit) p50", "1,000 keys", best("kv-small"),
                                    "1,000,000 keys", best("kv-large"), 1.5))
    if files:
        bench.checks.append(Scaling("list_files first page (limit 100) p50", "100 files",
                                    best("files-small"), "100,000 files", best("files-large"),
                                    2.0))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--workers", default="1,2", help="cubby worker counts, e.g. 1,2")
    parser.add_argument("--only", default=",".join(GROUPS),
                        help=f"comma-separated subset of: {', '.join(GROUPS)}")
    parser.add_argument("--readme", action=argparse.BooleanOptionalAction, default=None,
                        help="rewrite bench/README.md's results (default: on full runs only)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES,
                        help="PostgreSQL server for the postgres group (a database is created "
                             "for the run and dropped)")
    args = parser.parse_args(argv)
    args.groups = {g.strip() for g in args.only.split(",") if g.strip()}
    unknown = args.groups - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {', '.join(sorted(unknown))}; pick from {GROUPS}")
    args.worker_counts = [int(x) for x in args.workers.split(",") if x.strip()]
    return args


def _stop_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(f"bench: stopped by signal {signum}; stopping the servers it started")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # TERM/HUP unwind like Ctrl-C does, so every `with` block stops its server.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGHUP, _stop_on_signal)
    started = time.monotonic()
    machine = machine_description()
    print(f"# cubby bench on {machine}", flush=True)
    ensure_tool("wrk", "wrk")
    if "kv" in args.groups:
        ensure_tool("redis-server", "redis-server")
        ensure_tool("webdis", "webdis")
    if args.groups & {"files", "download"}:
        ensure_tool("nginx", "nginx")
    bench = Bench(args.duration)
    big = w.big_body() if "download" in args.groups else None
    for workers in args.worker_counts:
        if args.groups & {"kv", "files", "download"}:
            run_pass(bench, workers, args.groups, big)
    if "postgres" in args.groups:
        postgres_pass(bench, args.postgres_url, args.worker_counts)
    if "s3" in args.groups:
        s3_pass(bench)
    if "mixed" in args.groups:
        mixed_pass(bench)
    if args.groups & {"kv-scaling", "files-scaling"}:
        run_scaling(bench, args.groups)
    elapsed = time.monotonic() - started
    command = "bench/run" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])
                             if (argv if argv is not None else sys.argv[1:]) else "")
    section = results_section(bench.pairs, bench.checks, bench.results, machine, command,
                              elapsed, bench.gains, bench.mixed)
    print("\n" + section)
    raw = write_raw(RAW_DIR, bench.pairs, bench.checks, bench.results, machine, bench.gains,
                    bench.mixed)
    print(f"raw numbers: {raw}")
    full = args.groups == set(GROUPS) and args.worker_counts == [1, 2]
    if args.readme or (args.readme is None and full):
        write_readme(section)
        print("bench/README.md updated")
    missed = [p.workload for p in bench.pairs if p.met is False]
    missed += [c.check for c in bench.checks if not c.met]
    missed += [f"{g.workload} 1->2 gain" for g in bench.gains if g.met is False]
    missed += [f"mixed {m.action} p99/p50" for m in bench.mixed if not m.met]
    if missed:
        print(f"targets missed: {'; '.join(missed)}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
