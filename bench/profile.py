"""Profile a loaded cubby: py-spy samples the serving process while wrk drives one workload.

    .venv/bin/pip install py-spy        # a profiling tool, not a project dependency
    .venv/bin/python bench/profile.py --workload get [--duration 10] [--top 30]

Prints, per thread, the functions holding the most samples: ``incl`` counts samples with the
function anywhere on the stack, ``self`` those with it on top. The collapsed stacks are kept in
bench/results/raw/ (feed them to any flame-graph tool).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import cubby_server
from loadgen import wrk

RAW_DIR = Path(__file__).resolve().parent / "results" / "raw"


def summarize(raw: Path, top: int) -> str:
    """Inclusive and self sample counts per function, per thread, from py-spy's raw output."""
    incl: dict[str, Counter[str]] = {}
    self_: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[1] if frames[0].startswith("process") and len(frames) > 1 else frames[0]
        thread = thread.split(" ")[0] + " " + thread.split('"')[1] if '"' in thread else thread
        calls = [f.split(" (")[0] + " " + f.split("/")[-1].rstrip(")") for f in frames[2:]]
        totals[thread] += count
        for fn in set(calls):
            incl.setdefault(thread, Counter())[fn] += count
        if calls:
            self_.setdefault(thread, Counter())[calls[-1]] += count
    out: list[str] = []
    for thread, total in totals.most_common():
        out.append(f"\n== {thread}: {total} samples")
        out.append(f"{'incl%':>6} {'self%':>6}  function")
        for fn, n in incl.get(thread, Counter()).most_common(top):
            own = self_.get(thread, Counter())[fn]
            out.append(f"{100 * n / total:6.1f} {100 * own / total:6.1f}  {fn}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", default="get",
                        choices=["get", "put", "add_to_list", "write_file", "read_file",
                                 "list_files", "download"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    RAW_DIR.mkdir(parents=True, exist_ok=True)
    raw = RAW_DIR / f"pyspy-{args.workload}-{time.strftime('%Y%m%dT%H%M%S')}.txt"
    with cubby_server(1, env=w.SERVER_ENV) as cubby:
        _, req = w.ready(cubby, args.workload)
        wrk("warm-up", cubby.base_url, req.path, req.method, req.body, req.headers, 2,
            spread=req.spread, timeout_s=req.timeout_s)
        result: list[object] = []
        load = threading.Thread(target=lambda: result.append(wrk(
            args.workload, cubby.base_url, req.path, req.method, req.body, req.headers,
            args.duration + 2, spread=req.spread, timeout_s=req.timeout_s)))
        load.start()
        time.sleep(1)
        argv = [spy, "record", "--pid", str(cubby.pid), "--format", "raw", "--threads",
                "--nonblocking", "--function", "-r", str(args.rate), "-d", str(args.duration),
                "-o", str(raw)]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load.join()
    print(result[0] if result else "load run failed")
    print(summarize(raw, args.top))
    print(f"\ncollapsed stacks: {raw}")


if __name__ == "__main__":
    main()
