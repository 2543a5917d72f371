"""Storage download benchmark (issue 4): a 200 MiB file through its signed download URL.

Reports the cubby server's resident memory growth while it streams the file (must stay under
50 MiB: bodies are streamed in 1 MiB chunks, never loaded whole) and the download throughput,
beside nginx serving the same bytes from disk (sendfile) in the same run. Both servers listen on
127.0.0.1 only; curl is the client for both, writing to /dev/null.

    .venv/bin/python bench/storage_download.py [--size-mib 200] [--runs 3]

The file is put in place through cubby's own backends (blob store + file index, as write_file
would) rather than through a 270 MiB JSON request, so the server's memory before the download
is not inflated by the upload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import free_port, machine_description, wait_http
from peers import nginx_dav

from cubby.backends.base import FileRecord
from cubby.backends.blobs import BlobStore, open_blob_store
from cubby.backends.url import open_meta_store
from cubby.core.files import etag_of
from cubby.core.models import utc_now
from cubby.core.scopes import namespace_for
from cubby.settings import MIB, Settings

RSS_LIMIT_MIB = 50
PATH = "exports/big.bin"
SCOPE = {"persistence": {"scope": "workspace"}}


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


class RssSampler:
    """Polls a process's resident set size every few milliseconds; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


@dataclass
class Download:
    seconds: float
    size: int

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6


def curl(url: str, expected: int) -> Download:
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
         url],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout.split()
    status, size, seconds = int(out[0]), int(out[1]), float(out[2])
    if status != 200 or size != expected:
        raise RuntimeError(f"download of {url} gave HTTP {status}, {size} bytes")
    return Download(seconds, size)


@dataclass
class CubbyProcess:
    base_url: str
    key: str
    pid: int
    settings: Settings


@contextmanager
def cubby_server(data_dir: Path) -> Iterator[CubbyProcess]:
    env = {**os.environ, "CUBBY_DATA_DIR": str(data_dir)}
    key = subprocess.run(
        [sys.executable, "-m", "cubby", "api-keys", "create", "--name", "bench"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    port = free_port()
    # One worker: `cubby serve` then serves in its own process, whose RSS we watch. The
    # request log is on, as `cubby serve` runs by default.
    proc = subprocess.Popen(
        [sys.executable, "-m", "cubby", "serve", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/health", proc)
        yield CubbyProcess(base, key, proc.pid, Settings.from_env(env))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def place_file(settings: Settings, ws: str, data: bytes) -> None:
    """Store ``data`` at PATH the way write_file does: blob under a fresh key, then the row."""
    meta = open_meta_store(settings.resolved_database_url)
    blobs = open_blob_store(settings.resolved_files_url)
    ns = namespace_for(ws, SCOPE, None)

    async def go() -> None:
        now = utc_now()
        key = BlobStore.new_key(ws)
        await blobs.put(key, data)
        record = FileRecord(path=PATH, size=len(data), content_type="application/octet-stream",
                            etag=etag_of(data), created_at=now, updated_at=now, blob_key=key)
        await meta.files.put(ns, record)

    try:
        asyncio.run(go())
    finally:
        meta.close()


def run(size_mib: int, runs: int) -> bool:
    work = Path(tempfile.mkdtemp(prefix="cubby-bench-download-"))
    data = os.urandom(size_mib * MIB)
    try:
        with cubby_server(work / "cubby") as cubby, nginx_dav(1) as nginx:
            (nginx.root / "big.bin").write_bytes(data)
            headers = {"Authorization": f"Bearer {cubby.key}"}
            with httpx.Client(base_url=cubby.base_url, headers=headers, timeout=60) as client:
                ws = client.post("/api/v1/workspaces",
                                 json={"name": "Bench", "slug": "bench"}).json()["workspace"]["id"]
                client.post(f"/api/v1/workspaces/{ws}/integrations",
                            json={"integrationName": "storage", "alias": "files",
                                  "settings": SCOPE}).raise_for_status()
                place_file(cubby.settings, ws, data)
                resp = client.post("/api/v1/actions/execute", json={
                    "integrationName": "storage", "actionName": "get_download_url",
                    "workspaceId": ws, "input": {"path": PATH, "expiresInSeconds": 3600}})
                resp.raise_for_status()
                url = resp.json()["output"]["url"]
            del data
            cubby_runs: list[Download] = []
            nginx_runs: list[Download] = []
            baseline = rss_kib(cubby.pid)
            with RssSampler(cubby.pid) as sampler:
                # Interleaved, so a noisy neighbour slows both servers alike.
                for _ in range(runs):
                    cubby_runs.append(curl(url, size_mib * MIB))
                    nginx_runs.append(curl(nginx.url + "/big.bin", size_mib * MIB))
            growth_mib = (sampler.peak - baseline) / 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cubby_mbs = statistics.median(d.mb_per_s for d in cubby_runs)
    nginx_mbs = statistics.median(d.mb_per_s for d in nginx_runs)
    print(f"# Storage download, {size_mib} MiB file, median of {runs} interleaved curl runs, "
          f"on {machine_description()}")
    print("| server | MB/s (median) | runs (MB/s) | server RSS growth |")
    print("|---|---|---|---|")
    print(f"| cubby GET /downloads/<signed> | {cubby_mbs:,.0f} | "
          f"{', '.join(f'{d.mb_per_s:,.0f}' for d in cubby_runs)} | "
          f"{growth_mib:.1f} MiB (RSS {baseline / 1024:.0f} -> {sampler.peak / 1024:.0f} MiB) |")
    print(f"| nginx static file (sendfile) | {nginx_mbs:,.0f} | "
          f"{', '.join(f'{d.mb_per_s:,.0f}' for d in nginx_runs)} | - |")
    print(f"cubby / nginx throughput: {cubby_mbs / nginx_mbs:.2f}x")
    ok = growth_mib < RSS_LIMIT_MIB
    print(f"RSS growth {growth_mib:.1f} MiB {'<' if ok else '>='} {RSS_LIMIT_MIB} MiB limit: "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=200, help="file size in MiB")
    parser.add_argument("--runs", type=int, default=5, help="downloads per server")
    args = parser.parse_args()
    if not run(args.size_mib, args.runs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
