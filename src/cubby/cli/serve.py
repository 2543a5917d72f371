"""The serving half of ``cubby serve``: bind the socket, say so, then hand it to uvicorn.

The socket is bound here, before anything is printed, so "serving" is only ever said about a
port this process holds; a port in use is one ``cubby: error:`` line naming ``--port``.
Several workers share that socket (uvicorn's supervisor) and their metrics through
``PROMETHEUS_MULTIPROC_DIR``, a fresh folder made here and removed when the server stops (and
at the next start, if the server was killed: server/metrics_dir.py).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys

import click

from cubby.cli import running
from cubby.cli.support import fail
from cubby.logs import log_config
from cubby.metrics import MULTIPROC_ENV
from cubby.settings import Settings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"port {port} on {host} is already in use (another cubby serve?); stop that "
                "server or pick a free port with --port"
            )
        if exc.errno == errno.EACCES:
            fail(f"no permission to listen on port {port}; pick a port above 1023 with --port")
        fail(f"cannot listen on {host}:{port}: {exc.strerror}; check --host and --port")
    sock.set_inheritable(True)
    return sock


def run(settings: Settings, log_level: str, log_format: str) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from cubby.server import http_protocol
    from cubby.server import metrics_dir as metrics_folder

    sock = bind(settings.host, settings.port)
    metrics_dir = None
    if settings.workers > 1:
        metrics_dir = metrics_folder.fresh()  # and removes ones left by killed servers
        os.environ[MULTIPROC_ENV] = metrics_dir
    config = uvicorn.Config(
        "cubby.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=log_level,
        log_config=log_config(log_format, log_level),
        access_log=False,  # cubby.api.observe logs each request, without secrets
        server_header=False,
        http=http_protocol.PROTOCOL,  # timeouts, JSON framing errors, sendfile downloads
        timeout_keep_alive=max(1, round(settings.idle_timeout_seconds)),
    )
    where = settings.data_dir.resolve()
    click.echo(f"cubby: serving {settings.base_url} (data in {where})")
    click.echo(f"cubby: dashboard {settings.base_url}/ (sign in with an API key)")
    sys.stdout.flush()
    running.record(settings.data_dir, settings.base_url)  # `cubby init` / `status` read it
    try:
        if settings.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=[sock])
        if not server.started:
            sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        running.forget(settings.data_dir)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
