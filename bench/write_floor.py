"""Where the 4 KiB write target sits: the same write body against several servers, one process
each, over several interleaved rounds.

    .venv/bin/python bench/write_floor.py [--duration 4] [--rounds 4]

Issue 6 asks for cubby's 4 KiB ``write_file`` (1 worker) to reach nginx's WebDAV PUT. This puts
that target next to what one Python process on cubby's HTTP stack can answer at all, and shows
how nginx's rate depends on the folder layout and on how long the writes go on:

- the raw ASGI floor: uvicorn (cubby's settings) and an ASGI callable that reads the body and
  answers a constant (``ceiling_app.create_floor_app``): no framework, no decoding, no storage;
- the issue's ceiling: bare Starlette + msgspec decoding the very same execute body;
- nginx WebDAV PUT of the same 4,096 bytes (temp file + rename, no fsync), 1 worker, and cubby
  ``write_file`` (durable), each writing new files into one flat folder (``w/<n>.txt``, the
  layout of ``bench/run``) and, on separate server instances, spread over 1,000 folders
  (``w/<0-999>/<n>.txt``).

Rounds are interleaved (every server once per round) so a load swing on the shared machine hits
all alike. The per-round numbers matter: a server's rate may change as its files pile up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import cubby_server, machine_description
from loadgen import LoadResult, wrk
from peers import ceiling_server, nginx_dav


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=4, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=4, help="runs per server, interleaved")
    args = parser.parse_args()
    with ExitStack() as stack:
        flat = stack.enter_context(cubby_server(1, env=w.SERVER_ENV))
        foldered = stack.enter_context(cubby_server(1, env=w.SERVER_ENV))
        ceiling_url = stack.enter_context(ceiling_server(1))
        floor_url = stack.enter_context(ceiling_server(1, "create_floor_app"))
        nginx_flat = stack.enter_context(nginx_dav(1))
        nginx_foldered = stack.enter_context(nginx_dav(1))
        w.require_storage(flat)
        write = w.write_file(flat, w.create_workspace(flat, with_storage=True))
        same_body = w.ceiling(str(write.body))
        servers = [
            ("raw ASGI floor (uvicorn, constant answer)", floor_url, same_body),
            ("ceiling (Starlette + msgspec decode)", ceiling_url, same_body),
            ("nginx WebDAV PUT, one folder", nginx_flat.url, w.nginx_put()),
            ("cubby write_file, one folder", flat.base_url, write),
            ("nginx WebDAV PUT, 1,000 folders", nginx_foldered.url, w.nginx_put(w.FOLDERS)),
            ("cubby write_file, 1,000 folders", foldered.base_url,
             w.write_file(foldered, w.create_workspace(foldered, with_storage=True),
                          w.FOLDERS)),
        ]
        runs: dict[str, list[LoadResult]] = {name: [] for name, _, _ in servers}
        for _ in range(args.rounds):
            for name, url, req in servers:
                # wrk raises when any request fails: every number here is zero-failure
                runs[name].append(wrk(name, url, req.path, req.method, req.body, req.headers,
                                      args.duration, spread=req.spread))
    print(f"# 4 KiB write body, 32 connections, {args.rounds} interleaved rounds of "
          f"{args.duration} s; {machine_description()}")
    print("| server | req/s per round | median req/s | median p50 ms |")
    print("|---|---|--:|--:|")
    for name, _, _ in servers:
        rounds = ", ".join(f"{r.rps:,.0f}" for r in runs[name])
        rps = statistics.median(r.rps for r in runs[name])
        p50 = statistics.median(r.p50_ms for r in runs[name])
        print(f"| {name} | {rounds} | {rps:,.0f} | {p50:.2f} |")


if __name__ == "__main__":
    main()
