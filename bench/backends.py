"""Backend benchmark: the same requests against cubby on SQLite + a local folder and on
PostgreSQL + S3, in one run, side by side.

    .venv/bin/python bench/backends.py [--duration 5] [--workers 1] [--all]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Method: every server is started first (``cubby serve`` on a free loopback port, fresh data dir,
real API key, a workspace with ``state`` (kv-store) and ``files`` (storage) integrations, shared
workspace scope), then each workload runs for a fixed duration with wrk (2 threads, 32
keep-alive connections) against one server after the other, so all see the same machine load;
a discarded 2 s warm-up of the same requests precedes each measured run.
Every run must end with zero failed requests. Workloads: KV ``get`` of one hot key, KV ``put``
of fresh keys, ``write_file`` of fresh 4 KiB files and ``read_file`` of one 4 KiB file.

PostgreSQL: a database created for the run (random name) on the server ``--postgres-url``
names, dropped at the end. S3: moto's standalone server started on a free loopback port (moto
is a Python emulator, so S3 numbers measure moto as much as cubby), one bucket for the run.
4 KiB files are below ``CUBBY_STORAGE_INLINE_MAX_BYTES`` (64 KiB) and live inline in the
database row; the ``blob`` rows rerun the file workloads with the inline limit at 0, so every
body goes to the file store (local folder or S3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads
from lib import Cubby, LoadResult, cubby_server, free_port, machine_description, process, wrk

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "cubby-bench",
    "AWS_SECRET_ACCESS_KEY": "cubby-bench-secret",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Target:
    combo: str
    cubby: Cubby
    ws: str
    kv: bool


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database for the run; yields its URL."""
    import asyncpg

    name = f"cubby_bench_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(admin_url)
    try:
        yield urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def moto_bucket(log_dir: Path) -> Iterator[str]:
    """moto's S3 server on a free loopback port with one bucket; yields a CUBBY_FILES_URL."""
    import boto3  # type: ignore[import-untyped]

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with process("moto", argv, {**os.environ, **S3_ENV}, log_dir / "moto.log") as proc:
        from lib import wait_http

        wait_http(endpoint + "/moto-api/", proc)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket="cubby-bench")
        yield f"s3://cubby-bench/files?endpoint={endpoint}&region=us-east-1"


def combos(all_four: bool) -> list[str]:
    if all_four:
        return ["sqlite+file", "sqlite+s3", "postgres+file", "postgres+s3"]
    return ["sqlite+file", "postgres+s3"]


def server_env(combo: str, db_urls: Iterator[str], files_url: str, inline: bool) -> dict[str, str]:
    database, files = combo.split("+")
    env = {**workloads.SERVER_ENV, "CUBBY_SECRET_KEY": secrets.token_hex(32)}
    if database == "postgres":
        env["CUBBY_DATABASE_URL"] = next(db_urls)
    if files == "s3":
        env["CUBBY_FILES_URL"] = files_url
        env.update(S3_ENV)
    if not inline:
        env["CUBBY_STORAGE_INLINE_MAX_BYTES"] = "0"
    return env


def schemas(db_url: str) -> Iterator[str]:
    """Endless fresh schema URLs inside the run's database (one per server)."""
    import asyncpg

    async def create(schema: str) -> None:
        conn = await asyncpg.connect(db_url, timeout=10)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await conn.close()

    n = 0
    while True:
        n += 1
        asyncio.run(create(f"bench{n}"))
        yield f"{db_url}?search_path=bench{n}&pool_size=20"


def run(args: argparse.Namespace) -> list[tuple[str, str, LoadResult]]:
    rows: list[tuple[str, str, LoadResult]] = []
    with contextlib.ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cubby-bb-")))
        db_url = stack.enter_context(postgres_database(args.postgres_url))
        files_url = stack.enter_context(moto_bucket(log_dir))
        db_urls = schemas(db_url)
        targets: list[Target] = []
        for inline in (True, False):
            for combo in combos(args.all):
                env = server_env(combo, db_urls, files_url, inline)
                # Each server gets its own prefix in the shared bucket.
                if "CUBBY_FILES_URL" in env:
                    env["CUBBY_FILES_URL"] = env["CUBBY_FILES_URL"].replace(
                        "/files?", f"/files-{len(targets)}?"
                    )
                cubby = stack.enter_context(cubby_server(workers=args.workers, env=env))
                ws = workloads.create_workspace(cubby, with_storage=True)
                workloads.prepare_kv(cubby, ws)
                workloads.prepare_files(cubby, ws)
                name = combo if inline else f"{combo} (blob)"
                targets.append(Target(name, cubby, ws, kv=inline))
                print(f"[bench] {name} ready at {cubby.base_url}", file=sys.stderr, flush=True)

        plan = [
            ("kv get", True, workloads.kv_get),
            ("kv put", True, workloads.kv_put),
            ("write_file 4 KiB", False, workloads.write_file),
            ("read_file 4 KiB", False, workloads.read_file),
        ]
        for label, kv_only, make in plan:
            for target in targets:
                if kv_only and not target.kv:
                    continue
                req = make(target.cubby, target.ws)
                # Warm-up, discarded: the pool grows to its size and every connection
                # prepares this workload's statements, as on a server that has been running.
                wrk(
                    f"warm-up {label}",
                    target.cubby.base_url,
                    req.path,
                    req.method,
                    req.body,
                    req.headers,
                    duration=args.warmup,
                    spread=req.spread,
                )
                result = wrk(
                    f"{label} [{target.combo}]",
                    target.cubby.base_url,
                    req.path,
                    req.method,
                    req.body,
                    req.headers,
                    duration=args.duration,
                    spread=req.spread,
                )
                rows.append((label, target.combo, result))
                print(
                    f"[bench] {label:18} {target.combo:24} {result.rps:8,.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def table(rows: list[tuple[str, str, LoadResult]], args: argparse.Namespace) -> str:
    lines = [
        f"Backends, {args.duration} s per run, {args.workers} worker(s) per server, "
        f"wrk 2 threads x 32 connections; {machine_description()}",
        "",
        "| workload | backends | req/s | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for label, combo, r in rows:
        lines.append(f"| {label} | {combo} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--warmup", type=int, default=2, help="discarded seconds before each run")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per server")
    parser.add_argument("--all", action="store_true", help="all four combinations")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CUBBY_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="PostgreSQL server to create the run's database on",
    )
    args = parser.parse_args()
    print(table(run(args), args))


if __name__ == "__main__":
    main()
