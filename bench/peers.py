"""The baselines cubby is measured against, each started on a free loopback port and stopped
when its ``with`` block ends:

- the Python ceiling (``ceiling_app.py``) under uvicorn with cubby's own server settings,
- Debian's ``webdis`` in front of a private ``redis-server`` (no persistence),
- Debian's ``nginx`` as a WebDAV file server, from a generated config in a temp dir.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lib import PYTHON, ensure_tool, free_port, process, wait_http, wait_port

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
def redis_server() -> Iterator[int]:
    """A private redis-server (never the machine's own on 6379), persistence off."""
    binary = ensure_tool("redis-server", "redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", tmp,
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
