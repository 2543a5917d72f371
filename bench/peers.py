"""The baselines cubby is measured against, each started on a free loopback port and stopped
when its ``with`` block ends:

- the Python ceiling (``ceiling_app.py``) under uvicorn with cubby's own server settings,
- Debian's ``webdis`` in front of a private ``redis-server``, without persistence or with
  every write on disk before its answer (``--appendonly yes --appendfsync always``),
- Debian's ``nginx`` as a WebDAV file server, from a generated config in a temp dir,
- PostgreSQL itself: ``pgbench`` running a prepared ``INSERT`` of the row cubby writes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lib import PYTHON, ensure_tool, free_port, process, wait_http, wait_port
from loadgen import LoadResult, WrkFailure

HERE = Path(__file__).resolve().parent


@contextmanager
def ceiling_server(workers: int, factory: str = "create_app") -> Iterator[str]:
    """The bare Starlette + msgspec app, served exactly as ``cubby serve`` serves cubby.

    ``factory="create_floor_app"`` serves the raw ASGI floor instead (no Starlette at all).
    """
    port = free_port()
    argv = [PYTHON, "-m", "uvicorn", "--factory", f"ceiling_app:{factory}",
            "--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--log-level", "warning", "--no-access-log",
            "--no-server-header"]
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp, \
            process(f"ceiling {workers}w", argv, dict(os.environ), Path(tmp) / "log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", proc)
        yield url


@contextmanager
def redis_server(durable: bool = False) -> Iterator[int]:
    """A private redis-server (never the machine's own on 6379). ``durable``: every write is
    fsynced to the append-only file before redis answers, as cubby's are; else no persistence."""
    binary = ensure_tool("redis-server", "redis-server")
    port = free_port()
    persistence = ["--appendonly", "yes", "--appendfsync", "always"] if durable else [
        "--appendonly", "no"]
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                *persistence, "--daemonize", "no", "--dir", tmp,
                "--protected-mode", "yes", "--loglevel", "warning"]
        with process("redis-server", argv, log=Path(tmp) / "redis.log") as proc:
            wait_port(port, proc)
            yield port


@contextmanager
def webdis_server(redis_port: int, threads: int) -> Iterator[str]:
    """webdis configured through its JSON file: loopback only, our redis, no daemonizing."""
    binary = ensure_tool("webdis", "webdis")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-webdis-") as tmp:
        config = {
            "redis_host": "127.0.0.1",
            "redis_port": redis_port,
            "redis_auth": None,
            "http_host": "127.0.0.1",
            "http_port": port,
            "threads": threads,
            "pool_size": 20,
            "daemonize": False,
            "database": 0,
            "verbosity": 1,
            "logfile": str(Path(tmp) / "webdis.log"),
        }
        conf = Path(tmp) / "webdis.json"
        conf.write_text(json.dumps(config, indent=2))
        with process("webdis", [binary, str(conf)], log=Path(tmp) / "stdout.log") as proc:
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/PING", proc)
            yield url


@dataclass
class Nginx:
    url: str
    root: Path


_NGINX_CONF = """\
{user}worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    types {{ application/octet-stream bin; text/plain txt; }}
    default_type application/octet-stream;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 256m;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/www;
        location / {{
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
    }}
}}
"""


@contextmanager
def nginx_dav(workers: int) -> Iterator[Nginx]:
    """nginx as our own process: ``-p prefix -c conf``, ``daemon off``, WebDAV PUT on."""
    binary = ensure_tool("nginx", "nginx")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        prefix = Path(tmp)
        (prefix / "www").mkdir()
        user = "user root root;\n" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        conf.write_text(_NGINX_CONF.format(user=user, workers=workers, prefix=prefix, port=port))
        argv = [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        with process("nginx", argv, log=prefix / "stdout.log") as proc:
            url = f"http://127.0.0.1:{port}"
            wait_port(port, proc)
            yield Nginx(url, prefix / "www")


# The rows cubby's kv put and 4 KiB write_file commit, as plain tables (same columns and key).
_PG_TABLES = """
CREATE SCHEMA IF NOT EXISTS peer;
CREATE TABLE IF NOT EXISTS peer.kv_entries (
    workspace_id TEXT COLLATE "C" NOT NULL, ns TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL, is_list BOOLEAN NOT NULL DEFAULT FALSE, value TEXT,
    length BIGINT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, ns, key));
CREATE TABLE IF NOT EXISTS peer.files (
    workspace_id TEXT COLLATE "C" NOT NULL, ns TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL, size BIGINT NOT NULL, content_type TEXT NOT NULL,
    etag TEXT NOT NULL, blob_key TEXT, inline_body BYTEA, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (workspace_id, ns, path));
"""
PG_ROW_SCRIPTS = {
    "kv row": (
        "\\set n random(1, 2000000000)\n"
        "INSERT INTO peer.kv_entries (workspace_id, ns, key, value, updated_at) "
        "VALUES ('ws', 'workspace', 'k-' || :client_id || '-' || :n, '{\"n\":\"x\"}', "
        "'2026-12-01T00:00:00.000Z') ON CONFLICT (workspace_id, ns, key) DO UPDATE SET "
        "value = excluded.value, updated_at = excluded.updated_at;\n"
    ),
    "4 KiB file row": (
        "\\set n random(1, 2000000000)\n"
        "INSERT INTO peer.files (workspace_id, ns, path, size, content_type, etag, "
        "inline_body, created_at, updated_at) VALUES ('ws', 'workspace', "
        "'w/' || :client_id || '-' || :n || '.txt', 4096, 'text/plain; charset=utf-8', "
        "md5(:n::text), decode(repeat('61', 4096), 'hex'), '2026-12-01T00:00:00.000Z', "
        "'2026-12-01T00:00:00.000Z') ON CONFLICT (workspace_id, ns, path) DO UPDATE SET "
        "inline_body = excluded.inline_body, updated_at = excluded.updated_at;\n"
    ),
}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def pgbench_rows(db_url: str, row: str, duration: int, connections: int) -> LoadResult:
    """pgbench's prepared INSERT of the row cubby writes, ``connections`` clients, each
    transaction committed (and fsynced) before the next, like cubby's acknowledged write."""
    import asyncpg

    async def create_tables() -> None:
        conn = await asyncpg.connect(db_url, timeout=10)
        try:
            await conn.execute(_PG_TABLES)
        finally:
            await conn.close()

    asyncio.run(create_tables())
    binary = ensure_tool("pgbench", "postgresql-client")
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as tmp:
        script = Path(tmp) / "insert.sql"
        script.write_text(PG_ROW_SCRIPTS[row])
        argv = [binary, "-n", "-M", "prepared", "-c", str(connections), "-j", "2", "-T",
                str(duration), "-f", str(script), "-l", "--log-prefix", f"{tmp}/log", db_url]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=tmp,
                              timeout=duration + 120)
        if proc.returncode != 0:
            raise WrkFailure(f"pgbench failed: {proc.stderr or proc.stdout}")
        latencies: list[float] = []
        for log in Path(tmp).glob("log*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000)  # microseconds -> ms
    done = re.search(r"number of transactions actually processed: (\d+)", proc.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", proc.stdout)
    tps = re.search(r"tps = ([\d.]+)", proc.stdout)
    if done is None or tps is None:
        raise WrkFailure(f"unexpected pgbench output:\n{proc.stdout}")
    errors = int(failed.group(1)) if failed else 0
    if errors:
        raise WrkFailure(f"pgbench: {errors} failed transactions\n{proc.stdout}")
    latencies.sort()
    return LoadResult(
        name=f"pgbench INSERT {row}", requests=int(done.group(1)), seconds=float(duration),
        rps=float(tps.group(1)), p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99), errors=0, bytes_read=0)
