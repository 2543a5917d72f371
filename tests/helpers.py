"""Shared test helpers: an API client wrapper and a real `cubby serve` subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cubby.backends.url import open_meta_store
from cubby.core import keys
from cubby.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_body(
    resp: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The JSON error body of ``resp``, after checking its status, code and (if given) the
    field its details name."""
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    body = dict(resp.json())
    assert body["code"] == code, body
    if field is not None:
        assert body["details"]["field"] == field, body
    return body


class Api:
    """A thin JSON client over any httpx-compatible client (TestClient or a real socket)."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.key = key

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}

    def request(
        self, method: str, path: str, json: Any = None, key: str | None = None, **kw: Any
    ) -> httpx.Response:
        resp: httpx.Response = self.client.request(
            method, path, json=json, headers=self.headers(key), **kw
        )
        return resp

    def ok(self, method: str, path: str, json: Any = None, status: int = 200, **kw: Any) -> Any:
        resp = self.request(method, path, json, **kw)
        assert resp.status_code == status, (resp.status_code, resp.text)
        return resp.json()

    def create_workspace(self, slug: str, name: str | None = None) -> str:
        body = {"name": name or slug.title(), "slug": slug}
        return str(self.ok("POST", "/api/v1/workspaces", body, 201)["workspace"]["id"])

    def add_integration(
        self,
        ws: str,
        name: str,
        alias: str | None = None,
        settings: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"integrationName": name, **extra}
        if alias is not None:
            body["alias"] = alias
        if settings is not None:
            body["settings"] = settings
        return dict(
            self.ok("POST", f"/api/v1/workspaces/{ws}/integrations", body, 201)["integration"]
        )

    def execute(
        self,
        integration: str,
        action: str,
        ws: str,
        input: Any = None,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "integrationName": integration,
            "actionName": action,
            "workspaceId": ws,
            **extra,
        }
        if input is not None:
            body["input"] = input
        return self.request("POST", "/api/v1/actions/execute", body, key=key)

    def output(
        self, integration: str, action: str, ws: str, input: Any = None, **extra: Any
    ) -> Any:
        resp = self.execute(integration, action, ws, input, **extra)
        assert resp.status_code == 200, (resp.status_code, resp.text)
        body = resp.json()
        assert body["success"] is True
        return body["output"]


@dataclass
class LiveServer:
    base_url: str
    key: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def api(self, client: httpx.Client) -> Api:
        return Api(client, self.key)

    @property
    def log(self) -> Path:
        """The server's stdout and stderr (its request log included)."""
        return self.data_dir / f"server-{self.base_url.rsplit(':', 1)[1]}.log"

    def crash(self) -> None:
        """SIGKILL the server and its worker processes at once, as a power cut of the
        process would: no shutdown handler, no flush, no lifespan exit."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def cubby_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cubby", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Wait until ``base`` answers /health; fail with the server's output (``log``) if the
    process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start: " + log.read_text())
        time.sleep(0.1)


def create_key(env: dict[str, str], name: str = "tests") -> str:
    """An organisation-wide key in the database ``env`` names, as `cubby api-keys create
    --create-data-dir` makes it but without starting a process for it (a server start in the
    tests costs one process less). Files are made private as the CLI makes them."""
    config = Settings.from_env(env)

    def make() -> str:
        old_umask = os.umask(0o077)
        try:
            if not config.database_url:
                config.data_dir.mkdir(parents=True, exist_ok=True)
            meta = open_meta_store(config.resolved_database_url)
        finally:
            os.umask(old_umask)
        try:
            return asyncio.run(keys.create_key(meta, name, None, None))[1]
        finally:
            meta.close()

    with ThreadPoolExecutor(1) as pool:  # no event loop of the caller's (Playwright's) in sight
        return pool.submit(make).result()


@contextmanager
def live_server(
    data_dir: Path,
    workers: int = 1,
    env: dict[str, str] | None = None,
    port: int | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[LiveServer]:
    """`cubby serve` as a subprocess on a free loopback port; stopped on exit. ``args`` go
    after the defaults (``--log-level info`` there wins over the default ``warning``)."""
    port = port or free_port()
    full_env = {**os.environ, "CUBBY_DATA_DIR": str(data_dir), **(env or {})}
    key = create_key(full_env)
    log = open(data_dir / f"server-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cubby",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--create-data-dir",  # the log file below makes the folder non-empty
            *args,
        ],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so crash() reaches the workers too
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, data_dir / f"server-{port}.log")
        yield LiveServer(base, key, data_dir, proc, full_env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass(frozen=True)
class Cell:
    """One cell of an isolation matrix: a workspace, an integration alias, maybe an end user."""

    name: str
    ws: str
    alias: str
    end_user: str | None = None

    def extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"integrationAlias": self.alias}
        if self.end_user is not None:
            extra["endUserId"] = self.end_user
        return extra


def isolation_cells(api: Api, integration: str) -> list[Cell]:
    """Twelve cells that must never see each other's data: two workspaces x (three end users,
    the shared workspace scope, two namespace keys). One end user's id equals a namespace key."""
    out: list[Cell] = []
    for tag in ("A", "B"):
        ws = api.create_workspace(f"iso-{tag.lower()}")
        api.add_integration(ws, integration, "users")  # default scope: end_user
        api.add_integration(ws, integration, "shared", {"persistence": {"scope": "workspace"}})
        for tenant in ("tenant_123", "tenant_456"):
            api.add_integration(
                ws,
                integration,
                tenant.replace("_", "-"),
                {"persistence": {"scope": "external", "externalId": tenant}},
            )
        out += [
            Cell(f"{tag}/user_12345", ws, "users", "user_12345"),
            Cell(f"{tag}/user_67890", ws, "users", "user_67890"),
            Cell(f"{tag}/user=tenant_123", ws, "users", "tenant_123"),
            Cell(f"{tag}/workspace", ws, "shared"),
            Cell(f"{tag}/tenant_123", ws, "tenant-123"),
            Cell(f"{tag}/tenant_456", ws, "tenant-456"),
        ]
    return out
