"""Where the SQLite writer thread's time goes in a loaded ``cubby serve``: running the jobs'
statements, or the COMMIT (the fsync), each in wall-clock time and in the thread's own CPU time.

    .venv/bin/python bench/writer_split.py [--workload put|add_to_list|write_file] [--duration 5]

Why: the writer runs a batch's statements, then one COMMIT. The statements touch pages already
in memory, so their wall time beyond their CPU time is time the thread spent waiting to take
the GIL back from the event loop after each statement (sqlite3 lets go of it around every step).
This shows whether a durable write is bound by the disk (the COMMIT) or by that hand-over.

How: the server is the real ``cubby serve`` (1 worker), started with a ``sitecustomize`` module
on its PYTHONPATH that wraps ``SqliteDatabase._run_locked`` and gives every SQLite connection
an ``execute`` that notes when the COMMIT starts; the writer adds its sums to a file at most
every 0.2 s, read before and after the wrk run. The wrapper adds one Python call per statement
to what it measures (a trace callback would format every bound 4 KiB body into its SQL).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import Cubby, cubby_server
from loadgen import wrk

FIELDS = ("batches", "jobs", "statements_wall", "statements_cpu", "commit_wall", "commit_cpu")

HOOK = '''
"""Installed by bench/writer_split.py: times the SQLite writer's statements and COMMIT."""
import json, os, sqlite3, threading, time
from cubby.backends.sqlite import db

_OUT = os.environ["CUBBY_BENCH_WRITER_STATS"]
_sums = dict.fromkeys({fields!r}, 0.0)
_last = [0.0]
_run_locked = db.SqliteDatabase._run_locked
_sqlite_connect = sqlite3.connect
_mark = threading.local()  # the writer thread's COMMIT start (read_snapshot commits too)


class _MarksCommit(sqlite3.Connection):
    def execute(self, sql, *args):
        if sql == "COMMIT":
            _mark.wall, _mark.cpu = time.perf_counter(), time.thread_time()
        return super().execute(sql, *args)


def _connect(*args, **kwargs):
    kwargs.setdefault("factory", _MarksCommit)
    return _sqlite_connect(*args, **kwargs)


sqlite3.connect = _connect


def _timed(self, conn, batch):
    _mark.wall = _mark.cpu = None
    wall, cpu = time.perf_counter(), time.thread_time()
    _run_locked(self, conn, batch)
    end_wall, end_cpu = time.perf_counter(), time.thread_time()
    commit_wall = end_wall if _mark.wall is None else _mark.wall
    commit_cpu = end_cpu if _mark.cpu is None else _mark.cpu
    _sums["batches"] += 1
    _sums["jobs"] += len(batch)
    _sums["statements_wall"] += commit_wall - wall
    _sums["statements_cpu"] += commit_cpu - cpu
    _sums["commit_wall"] += end_wall - commit_wall
    _sums["commit_cpu"] += end_cpu - commit_cpu
    if end_wall - _last[0] > 0.2:
        _last[0] = end_wall
        with open(_OUT + ".tmp", "w") as f:
            json.dump(_sums, f)
        os.replace(_OUT + ".tmp", _OUT)


db.SqliteDatabase._run_locked = _timed
'''


def read_sums(path: Path) -> dict[str, float]:
    if not path.exists():
        return dict.fromkeys(FIELDS, 0.0)
    return {k: float(v) for k, v in json.loads(path.read_text()).items()}


def settled_sums(cubby: Cubby, ws: str, stats: Path) -> dict[str, float]:
    """The writer's sums including its latest batches: the hook writes them at the end of a
    batch at most every 0.2 s, so wait that long, then make one more batch (a small put)."""
    time.sleep(0.3)
    w.prepare_kv(cubby, ws)
    return read_sums(stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="put", choices=["put", "add_to_list", "write_file"])
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cubby-writer-split-") as tmp:
        hook_dir = Path(tmp)
        (hook_dir / "sitecustomize.py").write_text(textwrap.dedent(HOOK.format(fields=FIELDS)))
        stats = hook_dir / "stats.json"
        env = {**w.SERVER_ENV, "PYTHONPATH": str(hook_dir),
               "CUBBY_BENCH_WRITER_STATS": str(stats)}
        with cubby_server(1, env=env) as cubby:
            ws, req = w.ready(cubby, args.workload)
            wrk("warm-up", cubby.base_url, req.path, req.method, req.body, req.headers, 2,
                spread=req.spread)
            before = settled_sums(cubby, ws, stats)
            result = wrk(args.workload, cubby.base_url, req.path, req.method, req.body,
                         req.headers, args.duration, spread=req.spread)
            after = settled_sums(cubby, ws, stats)
    d = {k: after[k] - before[k] for k in FIELDS}
    jobs, batches = max(d["jobs"], 1.0), max(d["batches"], 1.0)
    print(f"{args.workload}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"{d['jobs']:,.0f} jobs in {d['batches']:,.0f} batches ({jobs / batches:.1f} per batch)")
    print(f"  statements: {1e6 * d['statements_wall'] / jobs:6.0f} us wall per job, "
          f"{1e6 * d['statements_cpu'] / jobs:4.0f} us CPU "
          f"({100 * (1 - d['statements_cpu'] / max(d['statements_wall'], 1e-9)):.0f}% waiting)")
    print(f"  COMMIT:     {1e3 * d['commit_wall'] / batches:6.2f} ms wall per batch, "
          f"{1e3 * d['commit_cpu'] / batches:.2f} ms CPU")
    cycle = d["statements_wall"] + d["commit_wall"]
    print(f"  of the writer's busy time: statements {100 * d['statements_wall'] / cycle:.0f}%, "
          f"COMMIT {100 * d['commit_wall'] / cycle:.0f}%")


if __name__ == "__main__":
    main()
