"""Issue 26's targets in one run, as interleaved rounds, so a shared host's load moves every
ratio's two sides alike:

- MCP ``tools/call`` of ``state__get`` (2025 stateless form and 2026-07-28 per-request form)
  against execute ``get`` of the same key: >= 0.6x;
- kv ``put`` with a fresh ``idempotencyKey`` against a plain ``put``, at 2 and 32 connections:
  >= 0.85x;
- execute ``get`` against the bare ceiling app (same body), request log on: >= 0.5;
- the request log's own cost: execute ``get`` on a server with the log on (``cubby serve``'s
  default, ``--log-level info``) against one at ``--log-level warning``: <= 10%.

Both cubby servers run at once with 1 worker on their own data dirs (SQLite + local folder)
and get the same writes. Each round runs every workload once, every other round in reverse
order, with a pause of SETTLE_SECONDS before each run (a run right after another measured up
to 10% lower in bench/pgbouncer.py: the previous run's leftover work, e.g. the kernel writing
out the WAL, lands in it), so both sides of a ratio take each place equally often; the ratio
of a round compares runs seconds apart, and the table gives every round's ratio and their
median.

``--in-process`` measures instead the CPU time (process time: what other jobs on the host
cannot inflate) per warm request of the reads, driving the ASGI app directly as
``asgi_profile.py`` does, with the request log configured as ``cubby serve`` configures it
(``log_config``, plain format, to a file) at ``info`` and at ``warning``, in interleaved rounds.

    .venv/bin/python bench/speed_targets.py [--duration 3] [--rounds 3] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as w
from lib import Cubby, cubby_server, machine_description
from loadgen import CONNECTIONS, THREADS, LoadResult, wrk
from peers import ceiling_server
from seed import KV_ALIAS

MODERN = "2026-07-28"
SETTLE_SECONDS = 1.0
KEY = {"key": "hot"}


def setup(cubby: Cubby) -> tuple[str, str, str]:
    """A workspace with ``state`` (workspace scope) holding ``hot``, and an MCP server on it:
    (workspace id, MCP endpoint path, server token)."""
    ws = w.create_workspace(cubby, with_storage=False)
    w.prepare_kv(cubby, ws)
    made = cubby.call("POST", "/api/v1/mcp/servers", {"name": "bench", "workspaceId": ws})
    return ws, "/mcp/" + made["mcpEndpoint"].rsplit("/mcp/", 1)[1], str(made["bearerToken"])


def mcp_requests(path: str, token: str) -> dict[str, w.Request]:
    tool = f"{KV_ALIAS}__get"
    params = {"name": tool, "arguments": KEY}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    modern = {**call, "params": {**params, "_meta": meta}}
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    modern_headers = {
        **headers,
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
    }
    return {
        "2025": w.Request(path, "POST", json.dumps(call), headers),
        MODERN: w.Request(path, "POST", json.dumps(modern), modern_headers),
    }


def keyed(req: w.Request) -> w.Request:
    body = json.loads(str(req.body))
    body["idempotencyKey"] = "put-__N__"
    return w.Request(req.path, req.method, json.dumps(body), req.headers)


def run(duration: int, rounds: int) -> None:
    with ExitStack() as stack:
        cubby = stack.enter_context(cubby_server(1))
        quiet = stack.enter_context(cubby_server(1, log_level="warning"))
        ceiling = stack.enter_context(ceiling_server(1))
        ws, mcp_path, token = setup(cubby)
        quiet_ws, _, _ = setup(quiet)
        get, put = w.kv_get(cubby, ws), w.kv_put(cubby, ws)
        quiet_put = w.kv_put(quiet, quiet_ws)
        runs: dict[str, tuple[str, w.Request, int]] = {
            "ceiling get": (ceiling, w.ceiling(str(get.body)), CONNECTIONS),
            "execute get": (cubby.base_url, get, CONNECTIONS),
            "execute get, --log-level warning": (
                quiet.base_url,
                w.kv_get(quiet, quiet_ws),
                CONNECTIONS,
            ),
            **{
                f"MCP tools/call state__get ({form})": (cubby.base_url, req, CONNECTIONS)
                for form, req in mcp_requests(mcp_path, token).items()
            },
            **{f"kv put, {n} conn": (cubby.base_url, put, n) for n in (THREADS, CONNECTIONS)},
            **{
                f"kv put + idempotencyKey, {n} conn": (cubby.base_url, keyed(put), n)
                for n in (THREADS, CONNECTIONS)
            },
            # The same writes on the quiet server, so both servers' databases grow alike and
            # the log's cost is not confounded with a bigger table and WAL (bench/README.md)
            **{
                f"kv put{kind}, {n} conn, --log-level warning": (quiet.base_url, req, n)
                for kind, req in (("", quiet_put), (" + idempotencyKey", keyed(quiet_put)))
                for n in (THREADS, CONNECTIONS)
            },
        }
        for url, req, _ in runs.values():  # warm: caches, connections, the JIT-less paths
            wrk("warm", url, req.path, req.method, req.body, req.headers, 1)
        results: dict[str, list[LoadResult]] = {name: [] for name in runs}
        for number in range(1, rounds + 1):
            order = list(runs.items())
            if number % 2 == 0:
                order.reverse()
            for name, (url, req, connections) in order:
                time.sleep(SETTLE_SECONDS)
                result = wrk(
                    f"{name} (round {number})",
                    url,
                    req.path,
                    req.method,
                    req.body,
                    req.headers,
                    duration,
                    connections=connections,
                )
                results[name].append(result)
                print(result.row(), flush=True)
    report(results, rounds, duration)


RATIOS = [  # (what, numerator, denominator, target, "at least" or "at most")
    (
        "MCP tools/call (2025) / execute get",
        "MCP tools/call state__get (2025)",
        "execute get",
        0.6,
        ">=",
    ),
    (
        f"MCP tools/call ({MODERN}) / execute get",
        f"MCP tools/call state__get ({MODERN})",
        "execute get",
        0.6,
        ">=",
    ),
    (
        "keyed put / plain put, 2 conn",
        f"kv put + idempotencyKey, {THREADS} conn",
        f"kv put, {THREADS} conn",
        0.85,
        ">=",
    ),
    (
        "keyed put / plain put, 32 conn",
        f"kv put + idempotencyKey, {CONNECTIONS} conn",
        f"kv put, {CONNECTIONS} conn",
        0.85,
        ">=",
    ),
    ("execute get (log on) / ceiling get", "execute get", "ceiling get", 0.5, ">="),
    (
        "log cost: 1 - (log on / log at warning)",
        "execute get",
        "execute get, --log-level warning",
        0.10,
        "cost<=",
    ),
]


def report(results: dict[str, list[LoadResult]], rounds: int, duration: int) -> None:
    print(
        f"\n{machine_description()}; {rounds} interleaved rounds of {duration} s per run, "
        "1 worker, request log on unless the row says otherwise\n"
    )
    print(
        "| ratio | "
        + " | ".join(f"round {i}" for i in range(1, rounds + 1))
        + " | median | target | met |"
    )
    print("|---|" + "---|" * (rounds + 3))
    for what, top, bottom, target, kind in RATIOS:
        values = [
            a.rps / b.rps if b.rps else float("nan")
            for a, b in zip(results[top], results[bottom], strict=True)
        ]
        if kind == "cost<=":
            values = [1 - v for v in values]
        median = statistics.median(values)
        met = median <= target if kind == "cost<=" else median >= target
        shown = f"<= {target:.0%}" if kind == "cost<=" else f">= {target}x"
        cells = " | ".join(f"{v:.2f}" for v in values)
        print(f"| {what} | {cells} | **{median:.2f}** | {shown} | {'yes' if met else 'NO'} |")
    print("\n| workload | " + " | ".join(f"round {i} req/s" for i in range(1, rounds + 1)) + " |")
    print("|---|" + "---|" * rounds)
    for name, parts in results.items():
        print(f"| {name} | " + " | ".join(f"{r.rps:,.0f}" for r in parts) + " |")


def in_process(rounds: int, requests: int) -> None:
    """CPU microseconds per warm request on the event loop's thread, per workload."""
    import asyncio
    import logging.config
    import tempfile

    from asgi_profile import Target, call

    from cubby.logs import log_config

    async def measure(target: Target) -> None:
        app = target.app
        async with app.router.lifespan_context(app):
            await target.setup()
            made = await target.json("POST", "/api/v1/mcp/servers",
                                     {"name": "b", "workspaceId": target.ws})  # fmt: skip
            path = "/mcp/" + made["mcpEndpoint"].rsplit("/mcp/", 1)[1]
            mcp = mcp_requests(path, str(made["bearerToken"]))
            cases = {"execute get": ("/api/v1/actions/execute",
                                     json.dumps(target.body("get", KEY)).encode(),
                                     target.headers)}  # fmt: skip
            for form, req in mcp.items():
                headers = [(k.lower().encode(), v.encode()) for k, v in req.headers.items()]
                cases[f"MCP tools/call state__get ({form})"] = (path, str(req.body).encode(),
                                                                headers)  # fmt: skip
            cpu: dict[str, list[float]] = {}
            for _ in range(rounds):
                for level in ("info", "warning"):
                    logging.getLogger("cubby").setLevel(level.upper())
                    for name, (route, body, headers) in cases.items():
                        label = name if level == "info" else f"{name}, --log-level warning"
                        for _ in range(200):
                            status, out = await call(app, "POST", route, body, headers)
                        assert status == 200, out
                        started = time.process_time()
                        for _ in range(requests):
                            await call(app, "POST", route, body, headers)
                        spent = (time.process_time() - started) / requests * 1e6
                        cpu.setdefault(label, []).append(spent)
        print(
            f"\n{machine_description()}; CPU us per warm request (process time), "
            f"{rounds} interleaved rounds of {requests} requests\n"
        )
        print(
            "| workload | " + " | ".join(f"round {i}" for i in range(1, rounds + 1)) + " | median |"
        )
        print("|---|" + "---|" * (rounds + 1))
        for label, values in cpu.items():
            cells = " | ".join(f"{v:.0f}" for v in values)
            print(f"| {label} | {cells} | **{statistics.median(values):.0f}** |")
        base = statistics.median(cpu["execute get"])
        for label, values in cpu.items():
            if label != "execute get" and "warning" not in label:
                print(
                    f"{label} / execute get (requests per CPU second): "
                    f"{base / statistics.median(values):.2f}x"
                )
        quiet = statistics.median(cpu["execute get, --log-level warning"])
        print(f"request log's own cost on execute get: {1 - quiet / base:.1%} of its CPU")

    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        stream, sys.stderr = sys.stderr, open(Path(tmp) / "server.log", "w")  # noqa: SIM115
        try:
            logging.config.dictConfig(log_config("plain", "info"))  # as `cubby serve` does
        finally:
            sys.stderr = stream
        target = Target(Path(tmp) / "data")
        asyncio.run(measure(target))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=3, help="seconds per load run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="CPU time per request in-process instead of wrk runs",
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="requests per workload and round (--in-process)"
    )
    args = parser.parse_args()
    if args.in_process:
        in_process(args.rounds, args.requests)
    else:
        run(args.duration, args.rounds)


if __name__ == "__main__":
    main()
