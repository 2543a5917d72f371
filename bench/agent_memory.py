"""cubby's ``agent-memory`` through MCP side by side with the reference MCP memory server.

Both are driven by the same official ``mcp`` client (``Client``, the initialize handshake):
cubby over Streamable HTTP against a real ``cubby serve`` (an MCP server on a workspace whose
``agent-memory`` integration is the alias ``memory``, workspace scope), the reference
``@modelcontextprotocol/server-memory`` (pinned below, installed with npm into
``bench/reference/``, which git ignores) over stdio with ``MEMORY_FILE_PATH`` in a temp dir.

Workload, the same for both, at each size N (default 1,000 and 10,000 entities):

- create N entities, 10 per ``create_entities`` call, each with 2 observations;
- 200 ``add_observations`` calls (one observation to a random entity each);
- 50 searches of two words such as ``bravo 7``, a substring of observations like "works on
  project bravo 7" and "... bravo 71" (cubby ``search``, its first page of 20; the reference
  ``search_nodes``, whose answer is every match);
- 100 reads of one entity (cubby ``get_entity``, the reference ``open_nodes``);
- 5 ``read_graph`` calls: the reference answers the whole graph; cubby pages (the first page of
  100, and the whole graph by pages of 1,000).

Then lost writes: two writer processes per server, each with its own client, add 200
observations each (one per call) to one shared entity at the same time. The reference runs as
two server processes on one memory file (two agents on one machine, its documented setup);
cubby as one server with two clients. Afterwards the entity is read back and every missing
observation counts as lost.

    .venv/bin/python bench/agent_memory.py                 # 1,000 and 10,000
    .venv/bin/python bench/agent_memory.py --sizes 1000 --writes 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
from lib import Cubby, cubby_server, machine_description
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

REFERENCE_PACKAGE = "@modelcontextprotocol/server-memory"
REFERENCE_VERSION = "2026.8.31"
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
BATCH = 10
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
]
CITIES = ["Paris", "Lagos", "Lima", "Osaka", "Quito", "Oslo", "Accra", "Hanoi", "Porto"]


def reference_entry() -> Path:
    """The reference server's entry point, installed into bench/reference/ when missing."""
    entry = (
        REFERENCE_DIR
        / "node_modules"
        / "@modelcontextprotocol"
        / "server-memory"
        / "dist"
        / "index.js"
    )
    if entry.exists():
        return entry
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to install the reference MCP memory server")
    REFERENCE_DIR.mkdir(exist_ok=True)
    package = REFERENCE_DIR / "package.json"
    if not package.exists():
        package.write_text('{"name": "cubby-bench-reference", "private": true}\n')
    subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(REFERENCE_DIR),
            f"{REFERENCE_PACKAGE}@{REFERENCE_VERSION}",
        ],
        check=True,
    )
    return entry


def _output(result: Any) -> Any:
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise RuntimeError(f"tool error: {text[:300]}")
    if result.structured_content is not None:
        return result.structured_content
    text = "".join(getattr(c, "text", "") for c in result.content)
    return json.loads(text) if text else None


def _size(result: Any) -> int:
    return sum(len(getattr(c, "text", "").encode()) for c in result.content)


@dataclass
class Memory:
    """One memory server behind one client: the workload's calls in either dialect."""

    name: str
    client: Client
    cubby: bool
    last_size: int = 0

    async def call(self, tool: str, args: dict[str, Any]) -> Any:
        result = await self.client.call_tool(("memory__" if self.cubby else "") + tool, args)
        self.last_size = _size(result)
        return _output(result)

    async def create(self, entities: list[tuple[str, str, list[str]]]) -> None:
        key = "type" if self.cubby else "entityType"
        await self.call(
            "create_entities",
            {"entities": [{"name": n, key: t, "observations": obs} for n, t, obs in entities]},
        )

    async def add(self, name: str, content: str) -> None:
        await self.call(
            "add_observations", {"observations": [{"entityName": name, "contents": [content]}]}
        )

    async def search(self, query: str) -> int:
        if self.cubby:
            return len((await self.call("search", {"query": query}))["entities"])
        return len((await self.call("search_nodes", {"query": query}))["entities"])

    async def get(self, name: str) -> list[str]:
        if self.cubby:
            return list((await self.call("get_entity", {"name": name}))["entity"]["observations"])
        found = (await self.call("open_nodes", {"names": [name]}))["entities"]
        return list(found[0]["observations"]) if found else []

    async def graph_first_page(self) -> int:
        if self.cubby:
            return len((await self.call("read_graph", {}))["entities"])
        return len((await self.call("read_graph", {}))["entities"])

    async def graph_all(self) -> tuple[int, int]:
        """(entities, answer bytes) of the whole graph."""
        if not self.cubby:
            out = await self.call("read_graph", {})
            return len(out["entities"]), self.last_size
        count, size, cursor = 0, 0, None
        while True:
            args: dict[str, Any] = {"limit": 1000}
            if cursor:
                args["cursor"] = cursor
            out = await self.call("read_graph", args)
            count += len(out["entities"])
            size += self.last_size
            cursor = out.get("nextCursor")
            if not cursor:
                return count, size


@asynccontextmanager
async def cubby_memory(url: str, token: str) -> AsyncIterator[Memory]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=300) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        yield Memory("cubby", client, True)


@asynccontextmanager
async def reference_memory(memory_file: Path) -> AsyncIterator[Memory]:
    node = shutil.which("node") or "node"
    params = StdioServerParameters(
        command=node,
        args=[str(reference_entry())],
        env={**os.environ, "MEMORY_FILE_PATH": str(memory_file)},
    )
    async with Client(params, mode="legacy") as client:
        yield Memory("reference", client, False)


# -- the workload ---------------------------------------------------------------------------
@dataclass
class Timing:
    calls: list[float] = field(default_factory=list)
    note: str = ""

    def add(self, seconds: float) -> None:
        self.calls.append(seconds)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.calls) * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.calls) * 1000


async def timed(timing: Timing, call: Awaitable[Any]) -> Any:
    start = time.perf_counter()
    out = await call
    timing.add(time.perf_counter() - start)
    return out


def entity(i: int) -> tuple[str, str, list[str]]:
    rnd = random.Random(i)
    word = rnd.choice(WORDS)
    return (
        f"entity-{i:06d}",
        "person" if i % 3 else "project",
        [f"works on project {word} {i % 97}", f"lives in {rnd.choice(CITIES)}"],
    )


async def workload(mem: Memory, n: int) -> dict[str, Timing]:
    rnd = random.Random(n)
    out = {k: Timing() for k in ("create", "add", "search", "get", "graph_page", "graph_all")}
    for start in range(0, n, BATCH):
        batch = [entity(i) for i in range(start, min(n, start + BATCH))]
        await timed(out["create"], mem.create(batch))
    for j in range(200):
        await timed(out["add"], mem.add(f"entity-{rnd.randrange(n):06d}", f"noted {j} at {n}"))
    hits = []
    for _ in range(50):
        query = f"{rnd.choice(WORDS)} {rnd.randrange(97)}"  # a substring of some observations
        hits.append(await timed(out["search"], mem.search(query)))
    out["search"].note = f"{statistics.fmean(hits):.0f} entities/answer"
    for _ in range(100):
        await timed(out["get"], mem.get(f"entity-{rnd.randrange(n):06d}"))
    sizes = []
    for _ in range(5):
        await timed(out["graph_page"], mem.graph_first_page())
        sizes.append(mem.last_size)
        count, size = await timed(out["graph_all"], mem.graph_all())
        if count != n:
            raise RuntimeError(f"{mem.name}: read_graph found {count} entities, not {n}")
    out["graph_page"].note = f"{statistics.fmean(sizes) / 1024:.0f} KiB answer"
    out["graph_all"].note = f"{size / 1024:.0f} KiB in all"
    return out


# -- lost writes: two writer processes --------------------------------------------------------
SHARED = "shared-entity"


async def write_many(mem: Memory, tag: str, count: int, start_at: float) -> dict[str, Any]:
    await asyncio.sleep(max(0.0, start_at - time.time()))
    errors = 0
    began = time.perf_counter()
    for j in range(count):
        try:
            await mem.add(SHARED, f"{tag}-{j}")
        except Exception:  # a failed call is counted, as an agent would see it
            errors += 1
    return {"errors": errors, "seconds": time.perf_counter() - began}


async def writer_main(args: argparse.Namespace) -> None:
    if args.writer == "cubby":
        ctx = cubby_memory(args.url, args.token)
    else:
        ctx = reference_memory(Path(args.file))
    async with ctx as mem:
        result = await write_many(mem, args.tag, args.writes, args.start_at)
    print(json.dumps(result), flush=True)


def run_writers(kind: str, count: int, extra: list[str]) -> list[dict[str, Any]]:
    start_at = time.time() + 4  # both connected and waiting by then
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--writer",
                kind,
                "--tag",
                f"w{i}",
                "--writes",
                str(count),
                "--start-at",
                str(start_at),
                *extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    results = []
    for proc in procs:
        stdout, _ = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{kind} writer exited with {proc.returncode}")
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


async def lost_writes(mem: Memory, kind: str, count: int, extra: list[str]) -> dict[str, Any]:
    await mem.create([(SHARED, "thing", [])])
    writers = await asyncio.to_thread(run_writers, kind, count, extra)
    present = set(await mem.get(SHARED))
    expected = {f"w{i}-{j}" for i in (1, 2) for j in range(count)}
    errors = sum(w["errors"] for w in writers)
    return {
        "expected": len(expected),
        "present": len(expected & present),
        "lost": len(expected - present),
        "errors": errors,
        "seconds": max(w["seconds"] for w in writers),
    }


# -- the run --------------------------------------------------------------------------------
ROWS = [
    ("create", f"create_entities ({BATCH} entities, 2 observations each)"),
    ("add", "add_observations (1 observation)"),
    ("search", "search (cubby: first page of 20) / search_nodes (every match)"),
    ("get", "get_entity / open_nodes (1 entity)"),
    ("graph_page", "read_graph (cubby: first page of 100; reference: whole graph)"),
    ("graph_all", "whole graph (cubby: pages of 1,000; reference: one read_graph)"),
]


def fmt(t: Timing) -> str:
    note = f" ({t.note})" if t.note else ""
    return f"{t.mean_ms:,.1f} / {t.p50_ms:,.1f}{note}"


async def compare(sizes: list[int], writes: int) -> None:
    print(
        f"# agent-memory through MCP vs {REFERENCE_PACKAGE}@{REFERENCE_VERSION}, "
        f"on {machine_description()}"
    )
    reference_entry()
    with cubby_server() as cubby, tempfile.TemporaryDirectory(prefix="refmem-") as tmp:
        results: dict[int, dict[str, dict[str, Timing]]] = {}
        for n in sizes:
            url, token = setup_cubby_for(cubby, n)
            began = time.perf_counter()
            async with cubby_memory(url, token) as mem:
                ours = await workload(mem, n)
            ours_s = time.perf_counter() - began
            began = time.perf_counter()
            async with reference_memory(Path(tmp) / f"memory-{n}.jsonl") as mem:
                theirs = await workload(mem, n)
            theirs_s = time.perf_counter() - began
            results[n] = {"cubby": ours, "reference": theirs}
            print(f"\n## {n:,} entities (wall: cubby {ours_s:.0f} s, reference {theirs_s:.0f} s)\n")
            print("| operation | cubby ms mean / p50 | reference ms mean / p50 |")
            print("|---|---|---|")
            for key, label in ROWS:
                print(f"| {label} | {fmt(ours[key])} | {fmt(theirs[key])} |", flush=True)
        url, token = setup_cubby_for(cubby, 0)
        async with cubby_memory(url, token) as mem:
            ours_lost = await lost_writes(mem, "cubby", writes, ["--url", url, "--token", token])
        ref_file = Path(tmp) / "memory-writers.jsonl"
        async with reference_memory(ref_file) as mem:
            theirs_lost = await lost_writes(mem, "reference", writes, ["--file", str(ref_file)])
    print(f"\n## Two writer processes, {writes} add_observations each, one shared entity\n")
    print("| server | written | present | lost | failed calls | seconds |")
    print("|---|---|---|---|---|---|")
    for name, r in (
        ("cubby (one server, two clients)", ours_lost),
        ("reference (two processes, one file)", theirs_lost),
    ):
        print(
            f"| {name} | {r['expected']} | {r['present']} | {r['lost']} | {r['errors']} | "
            f"{r['seconds']:.1f} |"
        )
    if ours_lost["lost"] or ours_lost["errors"]:
        raise SystemExit("cubby lost writes")


def setup_cubby_for(cubby: Cubby, n: int) -> tuple[str, str]:
    """A fresh workspace (so a fresh memory) per size."""
    ws = cubby.call(
        "POST", "/api/v1/workspaces", {"name": f"Memory bench {n}", "slug": f"membench-{n}"}
    )["workspace"]["id"]
    cubby.call(
        "POST",
        f"/api/v1/workspaces/{ws}/integrations",
        {
            "integrationName": "agent-memory",
            "alias": "memory",
            "settings": {"persistence": {"scope": "workspace"}},
        },
    )
    made = cubby.call("POST", "/api/v1/mcp/servers", {"name": f"membench-{n}", "workspaceId": ws})
    url = cubby.base_url + "/mcp/" + made["mcpEndpoint"].rsplit("/mcp/", 1)[1]
    return url, str(made["bearerToken"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="entity counts, comma-separated")
    parser.add_argument("--writes", type=int, default=200, help="observations per writer")
    parser.add_argument("--writer", choices=["cubby", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        asyncio.run(writer_main(args))
        return
    asyncio.run(compare([int(s) for s in args.sizes.split(",")], args.writes))


if __name__ == "__main__":
    main()
