"""Where the CPU goes on the scale-out path: cubby on PostgreSQL with 1 and 2 processes, and for
each wrk run the CPU microseconds per request spent by cubby's processes, by PostgreSQL's, and by
everything else (wrk, the kernel's network work outside them), plus how busy the machine was.

    .venv/bin/python bench/cpu_split.py [--duration 5] [--workers 1,2]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Why: ``bench/run``'s "1 -> 2 processes" target compares cubby's gain with the ceiling app's,
which talks to no database. When the 1-process run already keeps the machine busy (cubby, the
PostgreSQL backends and wrk on the same cores), a second cubby process can only take CPU from
the other two; this script shows whether that is the case. Reads /proc (Linux only).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import cubby_server, machine_description
from loadgen import wrk

from backends import DEFAULT_POSTGRES, postgres_database, schemas

TICK = os.sysconf("SC_CLK_TCK")


def _proc_ticks(pid: int) -> int:
    """utime + stime of one process (its threads included), in clock ticks; 0 once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])


def _pids() -> Iterable[tuple[int, str, int]]:
    """(pid, command name, parent pid) of every process."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            yield int(entry.name), name, int(stat.rsplit(")", 1)[1].split()[1])


def _tree(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, _, parent in _pids():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Split:
    workload: str
    processes: int
    rps: float
    cubby_us: float
    postgres_us: float
    other_us: float
    busy: float  # share of all cores busy during the run

    def row(self) -> str:
        return (f"| {self.workload} | {self.processes} | {self.rps:,.0f} | {self.cubby_us:.0f} | "
                f"{self.postgres_us:.0f} | {self.other_us:.0f} | {self.busy:.0%} |")


def measure(workload: str, processes: int, url: str, cubby_root: int, run: w.Request,
            duration: int) -> Split:
    cubby = _tree(cubby_root)
    postgres = {pid for pid, name, _ in _pids() if name.startswith("postgres")}
    before_c = sum(_proc_ticks(p) for p in cubby)
    before_p = sum(_proc_ticks(p) for p in postgres)
    busy0, total0 = _machine_ticks()
    result = wrk(workload, url, run.path, run.method, run.body, run.headers, duration,
                 spread=run.spread)
    busy1, total1 = _machine_ticks()
    postgres |= {pid for pid, name, _ in _pids() if name.startswith("postgres")}
    used_c = sum(_proc_ticks(p) for p in cubby) - before_c
    used_p = sum(_proc_ticks(p) for p in postgres) - before_p
    per = 1e6 / TICK / max(result.requests, 1)
    busy = busy1 - busy0
    return Split(workload, processes, result.rps, used_c * per, used_p * per,
                 max(busy - used_c - used_p, 0) * per, busy / max(total1 - total0, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    splits: list[Split] = []
    with postgres_database(args.postgres_url) as db_url:
        urls = schemas(db_url)
        for processes in [int(n) for n in args.workers.split(",")]:
            env = {**w.SERVER_ENV, "CUBBY_DATABASE_URL": next(urls)}
            with cubby_server(processes, env=env) as cubby:
                ws = w.create_workspace(cubby, with_storage=False)
                w.prepare_kv(cubby, ws)
                # cubby.pid is `cubby serve`: the worker itself, or the workers' supervisor
                for name, make in (("kv get (hit)", w.kv_get), ("kv put (durable)", w.kv_put)):
                    split = measure(name, processes, cubby.base_url, cubby.pid, make(cubby, ws),
                                    args.duration)
                    print(split.row(), flush=True)
                    splits.append(split)
    print(f"\n# {machine_description()}")
    print("| workload | cubby processes | req/s | cubby us/req | PostgreSQL us/req "
          "| other us/req | machine busy |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for split in splits:
        print(split.row())
    return 0


if __name__ == "__main__":
    sys.exit(main())
