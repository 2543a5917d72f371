"""Benchmark plumbing: start servers on loopback, drive them with wrk, parse its numbers.

Everything here targets 127.0.0.1 only and every load run has a fixed duration.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32
THREADS = 2


def ensure_tool(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path:
        return path
    print(f"[bench] installing {package} with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   stdout=subprocess.DEVNULL)
    path = shutil.which(binary)
    if not path:
        raise SystemExit(f"{binary} is not available after installing {package}")
    return path


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cubby:
    base_url: str
    key: str
    data_dir: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=120,
                            headers={"Authorization": f"Bearer {self.key}"})

    def call(self, method: str, path: str, body: Any = None) -> Any:
        with self.client() as client:
            resp = client.request(method, path, json=body)
            if resp.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text}")
            return resp.json()

    def execute(self, body: dict[str, Any]) -> Any:
        return self.call("POST", "/api/v1/actions/execute", body)["output"]


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def cubby_server(workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Cubby]:
    data_dir = Path(tempfile.mkdtemp(prefix="cubby-bench-"))
    full_env = {**os.environ, "CUBBY_DATA_DIR": str(data_dir), **(env or {})}
    key = subprocess.run(
        [sys.executable, "-m", "cubby", "api-keys", "create", "--name", "bench"],
        env=full_env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cubby", "serve", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        yield Cubby(f"http://127.0.0.1:{port}", key, data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    def row(self) -> str:
        return (f"| {self.name} | {self.rps:,.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f} | "
                f"{self.errors} |")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


LUA_TEMPLATE = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{headers}
local template = {template}
local counter = 0
request = function()
  counter = counter + 1
  local body = nil
  if template ~= nil then
    body = string.gsub(template, "__N__", tostring(counter) .. "-" .. tostring(math.random(1, 1e9)))
  end
  return wrk.format(nil, "{path}", nil, body)
end
"""


def wrk(name: str, url: str, path: str, method: str = "GET", body: str | None = None,
        headers: dict[str, str] | None = None, duration: int = 5,
        connections: int = CONNECTIONS) -> LoadResult:
    """Run wrk for ``duration`` seconds; ``__N__`` in ``body`` becomes a unique token."""
    binary = ensure_tool("wrk", "wrk")
    header_lines = "\n".join(
        f'wrk.headers["{k}"] = {json.dumps(v)}' for k, v in (headers or {}).items()
    )
    template = "nil" if body is None else "[==[" + body + "]==]"
    script = LUA_TEMPLATE.format(method=method, headers=header_lines, template=template,
                                 path=path)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            [binary, "-t", str(THREADS), "-c", str(connections), "-d", f"{duration}s",
             "--latency", "-s", fh.name, url],
            capture_output=True, text=True, check=True, timeout=duration + 60,
        ).stdout
    finally:
        os.unlink(fh.name)
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    seconds = float(duration)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return LoadResult(name, requests, seconds, rps, p50, p99, errors)


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
