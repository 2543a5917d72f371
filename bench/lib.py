"""Benchmark plumbing: start servers on loopback, drive them with wrk, parse its numbers.

Everything here targets 127.0.0.1 only, every load run has a fixed duration, and every process
started here is stopped when its ``with`` block ends, also on error.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from loadgen import CONNECTIONS, LoadResult, WrkFailure, wrk

__all__ = [
    "CONNECTIONS",
    "Cubby",
    "LoadResult",
    "WrkFailure",
    "cubby_server",
    "ensure_tool",
    "free_port",
    "machine_description",
    "process",
    "standalone_main",
    "wait_http",
    "wait_port",
    "wrk",
]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def ensure_tool(binary: str, package: str) -> str:
    """The path of ``binary``, installing Debian's ``package`` with apt-get when it is missing."""
    path = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.access(p, os.X_OK)), None
    )
    if path:
        return path
    print(f"[bench] installing {package} with apt-get", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if binary == "nginx" else None)
    if not path or not os.access(path, os.X_OK):
        raise SystemExit(f"{binary} is not available after installing {package}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(
    name: str, argv: Sequence[str], env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``argv`` in its own process group; on exit stop the whole group (TERM, then KILL)."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        list(argv), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield proc
    finally:
        _stop(name, proc)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def _stop(name: str, proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            print(f"[bench] {name} ignored SIGTERM; killing it", file=sys.stderr)
    # Reap anything left in the group (uvicorn workers, nginx workers), then the leader.
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Cubby:
    base_url: str
    key: str
    data_dir: Path
    workers: int
    pid: int = 0  # the serving process (with 1 worker, the one that runs the app)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=300, headers={"Authorization": f"Bearer {self.key}"}
        )

    def call(self, method: str, path: str, body: Any = None) -> Any:
        with self.client() as client:
            resp = client.request(method, path, json=body)
            if resp.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
            return resp.json()

    def execute(self, body: dict[str, Any]) -> Any:
        return self.call("POST", "/api/v1/actions/execute", body)["output"]

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@contextmanager
def cubby_server(
    workers: int = 1,
    env: dict[str, str] | None = None,
    data_dir: Path | None = None,
    log_level: str = "info",
) -> Iterator[Cubby]:
    """``cubby serve`` on a free loopback port with a fresh API key.

    With ``data_dir`` the server uses (and leaves) that folder, e.g. one seeded beforehand;
    otherwise it gets a temporary one that is removed afterwards. ``log_level`` is ``cubby
    serve``'s default, ``info``: one request-log line per request (to ``server.log`` in the
    data folder); a row measured with another level says so.
    """
    own_dir = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="cubby-bench-")) if data_dir is None else data_dir
    full_env = {**os.environ, "CUBBY_DATA_DIR": str(folder), **(env or {})}
    try:
        key = subprocess.run(
            [PYTHON, "-m", "cubby", "api-keys", "create", "--name", "bench",
             "--create-data-dir"],
            env=full_env, capture_output=True, text=True, check=True,
        ).stdout.strip()
        port = free_port()
        # --create-data-dir: on PostgreSQL the key lives in the database, so nothing marks the
        # temp folder as a data dir, and the server log makes it non-empty.
        argv = [PYTHON, "-m", "cubby", "serve", "--port", str(port), "--workers", str(workers),
                "--log-level", log_level, "--create-data-dir"]
        with process(f"cubby {workers}w", argv, full_env, folder / "server.log") as proc:
            wait_http(f"http://127.0.0.1:{port}/health", proc)
            yield Cubby(f"http://127.0.0.1:{port}", key, folder, workers, proc.pid)
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def standalone_main(title: str, doc: str | None,
                    run: Callable[[int, int], list[LoadResult]]) -> None:
    """The command line of a one-file benchmark: ``--duration`` and ``--workers``, a results
    table on stdout, exit 1 when any request failed."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load run")
    parser.add_argument("--workers", type=int, default=1, help="cubby worker processes")
    args = parser.parse_args()
    print(f"# {title} on {machine_description()}")
    print("| workload | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    failed = sum(r.errors for r in run(args.duration, args.workers))
    if failed:
        raise SystemExit(f"{failed} requests failed")
