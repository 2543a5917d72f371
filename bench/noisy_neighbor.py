"""One tenant's small writes while another sends the largest requests the limits allow (issue
16, item 9 and issue 28, item 10; goal: the small put's p99 under 100 ms), on one server, in
one run.

    .venv/bin/python bench/noisy_neighbor.py [--duration 10] [--noisy 4] [--file-writers 1]
    CUBBY_DATABASE_URL=postgresql://... .venv/bin/python bench/noisy_neighbor.py

Tenant A (its own workspace) puts a 5-byte value in a loop, one request at a time, first alone
(``quiet``), then while tenant B runs ``--noisy`` clients that each loop: put a list of
CUBBY_KV_MAX_LIST_ITEMS items making up about CUBBY_KV_MAX_VALUE_BYTES, then get it back, and
``--file-writers`` clients that each loop writing a ``--file-mib`` MiB file (base64 through
``write_file``, as the SDKs send it) (``noisy``). Both phases run back to back on the same
server, so they see the same machine. The backend is SQLite + a local folder unless
CUBBY_DATABASE_URL names a PostgreSQL database.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import Cubby, cubby_server, machine_description

from cubby.settings import Settings

GOAL_P99_MS = 100.0
PATH = "/api/v1/actions/execute"


def body(ws: str, action: str, input: dict[str, Any], integration: str = "kv-store",
         alias: str = "kv") -> bytes:
    return json.dumps({"integrationName": integration, "actionName": action, "workspaceId": ws,
                       "integrationAlias": alias, "input": input}).encode()


def largest_list(settings: Settings) -> list[str]:
    """As many items as allowed, each as long as fits the value limit (distinct strings)."""
    count = settings.kv_max_list_items
    width = max(1, (settings.kv_max_value_bytes - 2) // count - 3)  # quotes and comma
    return [f"{i:0{width}d}"[-width:] for i in range(count)]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def small_puts(cubby: Cubby, ws: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    headers = {**cubby.auth_headers, "Content-Type": "application/json"}
    with httpx.Client(base_url=cubby.base_url, timeout=120) as client:
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            payload = body(ws, "put", {"key": f"small-{i % 100}", "value": "hello"})
            started = time.perf_counter()
            resp = client.post(PATH, content=payload, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if resp.status_code != 200:
                raise SystemExit(f"small put failed: {resp.status_code} {resp.text[:300]}")
            i += 1
    return latencies


def noisy_client(base_url: str, key: str, ws: str, n: int, items: list[str],
                 stop: Any, count: Any) -> None:
    """Tenant B's client, in a process of its own (its JSON work must not slow the timing of
    tenant A's requests in this process)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    put = body(ws, "put", {"key": f"big-{n}", "value": items})
    get = body(ws, "get", {"key": f"big-{n}"})
    with httpx.Client(base_url=base_url, timeout=300) as client:
        while not stop.is_set():
            for payload in (put, get):
                resp = client.post(PATH, content=payload, headers=headers)
                if resp.status_code != 200:
                    raise SystemExit(f"noisy request failed: {resp.status_code} {resp.text[:300]}")
                with count.get_lock():
                    count.value += 1


def file_writer(base_url: str, key: str, ws: str, n: int, mib: int, stop: Any,
                count: Any) -> None:
    """Tenant B's file writer: a ``mib`` MiB file, overwritten in a loop (own process)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    content = base64.b64encode(os.urandom(mib * 1024 * 1024)).decode()
    write = body(ws, "write_file", {"path": f"big-{n}.bin", "content": content,
                                    "contentEncoding": "base64"}, "storage", "files")
    with httpx.Client(base_url=base_url, timeout=300) as client:
        while not stop.is_set():
            resp = client.post(PATH, content=write, headers=headers)
            if resp.status_code != 200:
                raise SystemExit(f"file write failed: {resp.status_code} {resp.text[:300]}")
            with count.get_lock():
                count.value += 1


def summary(name: str, latencies: list[float]) -> dict[str, float]:
    row = {"requests": len(latencies), "p50": statistics.median(latencies),
           "p99": percentile(latencies, 0.99), "max": max(latencies)}
    print(f"| {name} | {row['requests']} | {row['p50']:.1f} | {row['p99']:.1f} | "
          f"{row['max']:.1f} |", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase")
    parser.add_argument("--noisy", type=int, default=4,
                        help="tenant B's clients putting and getting the largest lists")
    parser.add_argument("--file-writers", type=int, default=1,
                        help="tenant B's clients writing --file-mib MiB files")
    parser.add_argument("--file-mib", type=int, default=20, help="size of tenant B's files")
    args = parser.parse_args()
    settings = Settings.from_env()
    items = largest_list(settings)
    size = len(json.dumps(items, separators=(",", ":")))
    backend = ("PostgreSQL" if os.environ.get("CUBBY_DATABASE_URL", "").startswith("postgres")
               else "SQLite")
    print(f"# small put next to {args.noisy} clients putting+getting {len(items):,}-item lists "
          f"({size:,} bytes) and {args.file_writers} writing {args.file_mib} MiB files, "
          f"{backend}, 1 worker, request log on, on {machine_description()}")
    with cubby_server(1) as cubby:
        victim = cubby.call("POST", "/api/v1/workspaces", {"name": "A", "slug": "a"})
        noisy = cubby.call("POST", "/api/v1/workspaces", {"name": "B", "slug": "b"})
        a, b = victim["workspace"]["id"], noisy["workspace"]["id"]
        for ws in (a, b):
            cubby.call("POST", f"/api/v1/workspaces/{ws}/integrations",
                       {"integrationName": "kv-store", "alias": "kv",
                        "settings": {"persistence": {"scope": "workspace"}}})
        cubby.call("POST", f"/api/v1/workspaces/{b}/integrations",
                   {"integrationName": "storage", "alias": "files",
                    "settings": {"persistence": {"scope": "workspace"}}})
        small_puts(cubby, a, 1)  # warm-up
        print("| phase | small puts | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        quiet = summary("quiet", small_puts(cubby, a, args.duration))
        ctx = multiprocessing.get_context("fork")
        stop = ctx.Event()
        count = ctx.Value("i", 0)
        files = ctx.Value("i", 0)
        procs = [ctx.Process(target=noisy_client, daemon=True,
                             args=(cubby.base_url, cubby.key, b, n, items, stop, count))
                 for n in range(args.noisy)]
        procs += [ctx.Process(target=file_writer, daemon=True,
                              args=(cubby.base_url, cubby.key, b, n, args.file_mib, stop, files))
                  for n in range(args.file_writers)]
        for proc in procs:
            proc.start()
        time.sleep(1)  # the noisy clients are in full swing
        try:
            loud = summary("noisy", small_puts(cubby, a, args.duration))
        finally:
            stop.set()
            for proc in procs:
                proc.join(timeout=300)
                if proc.is_alive():
                    proc.terminate()
    total = count.value
    rate = total / (args.duration + 1)
    verdict = "meets" if loud["p99"] < GOAL_P99_MS else "misses"
    print(f"\ntenant B: {total} big list requests ({rate:.1f}/s), {files.value} {args.file_mib} "
          f"MiB files written ({files.value / (args.duration + 1):.1f}/s). small put p99 "
          f"{quiet['p99']:.1f} ms quiet vs {loud['p99']:.1f} ms noisy: {verdict} the goal of "
          f"< {GOAL_P99_MS:.0f} ms")


if __name__ == "__main__":
    main()
