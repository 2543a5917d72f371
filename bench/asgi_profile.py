"""Per-request cost of cubby's app, without sockets: drive the ASGI app directly, in-process.

    .venv/bin/python bench/asgi_profile.py [--requests 20000] [--profile get|put|read|...]
        [--count-calls]

Prints CPU microseconds (process time, all threads) per request for each workload's exact
request, next to the bare ceiling app (``ceiling_app.py``), so what the app itself costs is
separated from uvicorn, the sockets and the load generator. ``--profile NAME`` also runs that
workload under pyinstrument and prints the call tree (``pip install pyinstrument`` into .venv
first; it is not a project dependency). Writes go through the real group-commit writer, one
request at a time, so ``put`` here shows the per-commit cost (an fsync each), not the batched
throughput a loaded server reaches. ``--count-calls`` also prints how many Python-level and
C-level function calls one warm request makes on the event loop's thread (``sys.setprofile``;
the SQLite writer thread's calls are not counted): a count, so unlike times it
does not move with the machine's load, which makes it the one number here that shows a small
change on a busy shared host.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ceiling_app
from seed import FILES_ALIAS, KV_ALIAS

from cubby.app import create_app
from cubby.core import keys
from cubby.settings import Settings

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
BODY_4K = ("cubby bench 4 KiB body; " * 200)[:4096]


async def call(app: App, method: str, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
               ) -> tuple[int, bytes]:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1"),
                                     (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class Target:
    """The cubby app on a temp data dir, with a key, a workspace and both integrations."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.app = create_app(Settings(data_dir=data_dir, database_url=database_url or ""))
        services = self.app.state.services
        _, plain = asyncio.run(keys.create_key(services.meta, "bench", None, None))
        self.headers = [(b"authorization", f"Bearer {plain}".encode()),
                        (b"content-type", b"application/json")]
        self.ws = ""

    async def json(self, method: str, path: str, body: Any) -> Any:
        status, out = await call(self.app, method, path, json.dumps(body).encode(), self.headers)
        if status >= 300:
            raise RuntimeError(f"{method} {path}: {status} {out[:300]!r}")
        return json.loads(out)

    async def setup(self) -> None:
        ws = await self.json("POST", "/api/v1/workspaces", {"name": "B", "slug": "b"})
        self.ws = ws["workspace"]["id"]
        shared = {"persistence": {"scope": "workspace"}}
        names = (await self.json("GET", "/api/v1/integrations", None))["registered"]
        for name, alias in (("kv-store", KV_ALIAS), ("storage", FILES_ALIAS)):
            if name in names:
                await self.json("POST", f"/api/v1/workspaces/{self.ws}/integrations",
                                {"integrationName": name, "alias": alias, "settings": shared})
        await self.json("POST", "/api/v1/actions/execute", self.body("put", {
            "key": "hot", "value": {"cursor": "abc", "n": 42}}))
        if "storage" in names:
            await self.json("POST", "/api/v1/actions/execute", self.body("write_file", {
                "path": "hot.txt", "content": BODY_4K}, "storage"))

    def body(self, action: str, data: Any, integration: str = "kv-store") -> dict[str, Any]:
        alias = KV_ALIAS if integration == "kv-store" else FILES_ALIAS
        return {"integrationName": integration, "actionName": action, "workspaceId": self.ws,
                "integrationAlias": alias, "input": data}


WORKLOADS: dict[str, tuple[str, str, Callable[[int], Any]]] = {
    "get": ("kv-store", "get", lambda i: {"key": "hot"}),
    "put": ("kv-store", "put", lambda i: {"key": f"k-{i}", "value": {"n": i}}),
    "add_to_list": ("kv-store", "add_to_list",  # 1000 appends a list: CUBBY_KV_MAX_LIST_ITEMS
                    lambda i: {"key": f"events-{i // 1000}", "value": f"e-{i}"}),
    "write_file": ("storage", "write_file", lambda i: {"path": f"w/{i}.txt", "content": BODY_4K}),
    "read_file": ("storage", "read_file", lambda i: {"path": "hot.txt"}),
}


async def per_request_us(app: App, headers: list[tuple[bytes, bytes]],
                         make: Callable[[int], bytes], n: int) -> float:
    for i in range(min(n // 10, 500)):  # warm caches
        await call(app, "POST", "/api/v1/actions/execute", make(-i - 1), headers)
    bodies = [make(i) for i in range(n)]
    started = time.process_time()  # CPU time: robust against other load on a shared machine
    for body in bodies:
        status, out = await call(app, "POST", "/api/v1/actions/execute", body, headers)
        if status != 200:
            raise RuntimeError(f"{status} {out[:300]!r}")
    return (time.process_time() - started) / n * 1e6


async def calls_per_request(app: App, headers: list[tuple[bytes, bytes]],
                            make: Callable[[int], bytes], n: int = 20) -> tuple[float, float]:
    """(Python calls, C calls) per warm request, counted with ``sys.setprofile``."""
    bodies = [make(10_000_000 + i) for i in range(n)]
    counts = {"call": 0, "c_call": 0}

    def count(frame: Any, event: str, arg: Any) -> None:
        if event in counts:
            counts[event] += 1

    sys.setprofile(count)
    try:
        for body in bodies:
            await call(app, "POST", "/api/v1/actions/execute", body, headers)
    finally:
        sys.setprofile(None)
    return counts["call"] / n, counts["c_call"] / n


async def measure(target: Target, names: list[str], n: int, profile: str | None,
                  count_calls: bool = False) -> None:
    ceiling = ceiling_app.create_app()
    body = json.dumps(target.body("get", {"key": "hot"})).encode()
    us = await per_request_us(ceiling, [], lambda i: body, n)
    print(f"{'ceiling (bare Starlette + msgspec)':<40} {us:8.1f} us/request")
    for name in names:
        integration, action, data = WORKLOADS[name]
        count = n if integration == "kv-store" and name in ("get",) else max(n // 10, 200)
        if name == "read_file":
            count = n

        def make(i: int, action: str = action, data: Any = data,
                 integration: str = integration) -> bytes:
            return json.dumps(target.body(action, data(i), integration)).encode()

        us = await per_request_us(target.app, target.headers, make, count)
        print(f"{'cubby ' + name:<40} {us:8.1f} us/request  ({count} requests)")
        if count_calls:
            py, c = await calls_per_request(target.app, target.headers, make)
            print(f"{'':<40} {py:8.0f} Python calls, {c:.0f} C calls per request")
        if name == profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002, async_mode="disabled")
            profiler.start()
            await per_request_us(target.app, target.headers, make, count)
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--profile", default=None, choices=list(WORKLOADS))
    parser.add_argument("--count-calls", action="store_true",
                        help="also count the function calls of one warm request")
    parser.add_argument("--database-url", default=None,
                        help="a postgresql:// URL of an empty database or schema "
                             "(default: SQLite in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cubby-asgi-") as tmp:
        target = Target(Path(tmp), args.database_url)
        names = [n for n in args.only.split(",") if n]
        if "storage" not in target.app.state.services.registry.names():
            names = [n for n in names if WORKLOADS[n][0] != "storage"]

        async def run() -> None:
            meta = target.app.state.services.meta
            await meta.start()  # PostgreSQL's pool lives on this loop
            try:
                await target.setup()
                await measure(target, names, args.requests, args.profile, args.count_calls)
            finally:
                await meta.stop()

        try:
            asyncio.run(run())
        finally:
            target.app.state.services.close()


if __name__ == "__main__":
    main()
