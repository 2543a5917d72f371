"""Agent Memory search at 1,000 and 100,000 observations, on SQLite and PostgreSQL (issue 23).

Method: one metadata store per backend (SQLite: a fresh file; PostgreSQL: a fresh database on
the local server, dropped at the end), holding two workspaces side by side: one namespace with
``--small`` observations and one with ``--large`` (so the small one is measured next to a big
neighbour, as it would live in a real installation). Entities get 10 observations each, written
through the backend's own ``create_entities`` (the same rows and index entries an API call
makes), in batches of 100 entities. Observations are 10 words drawn from a 20,000-word
synthetic vocabulary with Zipf-like frequencies (word of rank r has weight 1/r), so some words
are everywhere and most are rare, as in text.

Each query runs the ``search`` action's handler itself (core validation, the backend query,
the relations among the page's entities, the output Structs), in process, without HTTP: what a
search costs the server beyond the request plumbing every action shares. Query kinds, each a
fresh random draw per call: ``20 matches`` (one of 50 words planted in exactly 20
observations of every namespace: the same query, with the same answer size, at both sizes),
``rare`` (one word of rank 2,000-20,000), ``medium`` (rank
100-2,000), ``two words`` (two medium words, both must match), ``prefix`` (the first 3 letters
of a medium word), ``common`` (one of the 10 most frequent words: it matches a large share of
all observations, the worst case for a ranked search). Rounds alternate between the small and
the large namespace; p50 and p95 per kind and size are printed as a Markdown table. On
PostgreSQL the tables are analyzed after seeding (what autovacuum does after such a load).

    .venv/bin/python bench/agent_search.py                 # both backends, 1k and 100k
    .venv/bin/python bench/agent_search.py --backends sqlite --queries 100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cubby.backends.base import MetaStore
from cubby.backends.url import open_meta_store
from cubby.core.agent_records import NewEntity
from cubby.core.models import Workspace, new_id, utc_now
from cubby.core.registry import ActionContext
from cubby.core.scopes import Namespace
from cubby.integrations.agent_memory import SearchInput, search
from cubby.settings import Settings

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
VOCABULARY = 20_000
WORDS_PER_OBSERVATION = 10
OBSERVATIONS_PER_ENTITY = 10
BATCH_ENTITIES = 100
KINDS = ("20 matches", "rare", "medium", "two words", "prefix", "common")
# Words planted in exactly PLANTED_EACH observations of every namespace, whatever its size: the
# fair "same query at 1,000 and at 100,000" (a random word matches 100x more rows at 100,000).
PLANTED = [f"plant{chr(97 + p // 26)}{chr(97 + p % 26)}" for p in range(50)]
PLANTED_EACH = 20


@dataclass(frozen=True)
class Services:
    """What an action handler uses of the process's services."""

    meta: MetaStore
    settings: Settings
    blobs: Any = None


def vocabulary(rng: random.Random) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        syllables = rng.randint(2, 4)
        words["".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))] = None
    return list(words)


def sampler(words: list[str], rng: random.Random) -> Callable[[int], list[str]]:
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))

    def draw(n: int) -> list[str]:
        return rng.choices(words, cum_weights=cumulative, k=n)

    return draw


async def seed(meta: MetaStore, ns: Namespace, observations: int, draw: Any) -> float:
    started = time.perf_counter()
    planted: dict[int, list[str]] = {}
    step = observations // PLANTED_EACH
    for p, word in enumerate(PLANTED):
        for t in range(PLANTED_EACH):
            planted.setdefault((p * 7919 + t * step) % observations, []).append(word)
    entities = observations // OBSERVATIONS_PER_ENTITY
    for first in range(0, entities, BATCH_ENTITIES):
        batch = [
            NewEntity(
                f"entity-{i:06d}",
                "thing",
                [
                    " ".join(
                        [
                            f"{i}-{j}",
                            *draw(WORDS_PER_OBSERVATION),
                            *planted.get(i * OBSERVATIONS_PER_ENTITY + j, []),
                        ]
                    )
                    for j in range(OBSERVATIONS_PER_ENTITY)
                ],
            )
            for i in range(first, min(entities, first + BATCH_ENTITIES))
        ]
        await meta.memory.create_entities(ns, batch)
    return time.perf_counter() - started


async def workspace(meta: MetaStore, name: str) -> Namespace:
    now = utc_now()
    ws = Workspace(
        id=new_id(), org_id=meta.org_id, name=name, slug=f"{name}-{new_id()[:8]}",
        created_at=now, updated_at=now,
    )  # fmt: skip
    await meta.workspaces.create(ws)
    return Namespace(ws.id, "w")


def query(kind: str, words: list[str], rng: random.Random) -> str:
    medium = words[100:2000]
    if kind == "20 matches":
        return rng.choice(PLANTED)
    if kind == "rare":
        return rng.choice(words[2000:])
    if kind == "medium":
        return rng.choice(medium)
    if kind == "two words":
        return f"{rng.choice(medium)} {rng.choice(medium)}"
    if kind == "prefix":
        return rng.choice(medium)[:3]
    return rng.choice(words[:10])


async def measure(
    meta: MetaStore, settings: Settings, spaces: dict[str, Namespace], words: list[str],
    queries: int, rng: random.Random,
) -> dict[tuple[str, str], list[float]]:  # fmt: skip
    times: dict[tuple[str, str], list[float]] = {}
    services = Services(meta, settings)
    for round_ in range(queries):
        for size, ns in spaces.items() if round_ % 2 == 0 else reversed(spaces.items()):
            ctx = ActionContext(ns, services, "memory")
            for kind in KINDS:
                params = SearchInput(query=query(kind, words, rng))
                started = time.perf_counter()
                await search(ctx, params)
                times.setdefault((kind, size), []).append(time.perf_counter() - started)
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


async def run_backend(
    backend: str, url: str, small: int, large: int, queries: int, seed_value: int
) -> list[str]:
    rng = random.Random(seed_value)
    words = vocabulary(rng)
    draw = sampler(words, rng)
    settings = Settings()
    meta = open_meta_store(url)
    await meta.start()
    try:
        spaces: dict[str, Namespace] = {}
        lines = []
        for label, count in ((f"{small:,}", small), (f"{large:,}", large)):
            ns = await workspace(meta, f"bench-{count}")
            took = await seed(meta, ns, count, draw)
            spaces[label] = ns
            lines.append(f"seeded {count:,} observations on {backend} in {took:.1f} s")
        if backend == "postgres":
            await analyze(url)
        times = await measure(meta, settings, spaces, words, queries, rng)
    finally:
        await meta.stop()
        meta.close()
    rows = []
    for kind in KINDS:
        cells = []
        for label in spaces:
            values = times[(kind, label)]
            cells.append(f"{pct(values, 0.5):.2f} | {pct(values, 0.95):.2f}")
        small_label, large_label = spaces
        ratio = statistics.median(times[(kind, large_label)]) / statistics.median(
            times[(kind, small_label)]
        )
        rows.append(f"| {backend} | {kind} | {' | '.join(cells)} | {ratio:.2f}x |")
    return lines + rows


async def analyze(url: str) -> None:
    """Table statistics, as autovacuum's analyze gathers them after such a load: without them
    the planner guesses join orders for a 100,000-row table it believes empty."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def postgres_database() -> tuple[str, Callable[[], Any]]:
    import asyncpg

    name = f"cubby_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(POSTGRES_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="rounds per size and kind")
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    out: list[str] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'cubby.db'}"
                out += await run_backend(
                    backend, url, args.small, args.large, args.queries, args.seed
                )
        else:
            url, drop = await postgres_database()
            try:
                out += await run_backend(
                    backend, url, args.small, args.large, args.queries, args.seed
                )
            finally:
                await drop()
    print(f"\n{args.queries} searches per kind and size, ms:\n")
    print(
        f"| backend | query | p50 at {args.small:,} | p95 at {args.small:,} | "
        f"p50 at {args.large:,} | p95 at {args.large:,} | p50 large/small |"
    )
    print("|---|---|--:|--:|--:|--:|--:|")
    for line in out:
        print(line if line.startswith("|") else f"<!-- {line} -->")


if __name__ == "__main__":
    asyncio.run(main())
