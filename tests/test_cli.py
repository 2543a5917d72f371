"""The ``cubby`` command line, run as a subprocess exactly as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from msgspec.structs import replace

from cubby import __version__
from cubby.core.keys import usable
from cubby.core.models import ApiKey
from tests.helpers import LiveServer, cubby_cli, free_port, live_server, wait_healthy

KEY_RE = re.compile(r"cby_[A-Za-z0-9_-]{43}")


def test_version() -> None:
    result = cubby_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cubby, version {__version__}"


def test_help_names_commands_and_environment_variables() -> None:
    top = cubby_cli("--help")
    assert top.returncode == 0
    for word in ("serve", "api-keys", "CUBBY_"):
        assert word in top.stdout
    serve = cubby_cli("serve", "--help").stdout
    for option, env in [
        ("--host", "CUBBY_HOST"),
        ("--port", "CUBBY_PORT"),
        ("--data-dir", "CUBBY_DATA_DIR"),
        ("--database-url", "CUBBY_DATABASE_URL"),
        ("--files-url", "CUBBY_FILES_URL"),
        ("--workers", "CUBBY_WORKERS"),
    ]:
        assert option in serve and env in serve, (option, env)
    keys = cubby_cli("api-keys", "--help").stdout
    assert all(cmd in keys for cmd in ("create", "list", "revoke"))
    create = cubby_cli("api-keys", "create", "--help").stdout
    assert "--name" in create and "--workspace" in create and "CUBBY_DATA_DIR" in create
    assert cubby_cli("-h").stdout == top.stdout


@contextmanager
def serve(logs: Path, args: list[str], env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """``cubby serve`` until the block ends; yields (base URL, its stdout as a file)."""
    port = free_port()
    out = logs / f"serve-{port}.out"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CUBBY_")}
    full_env.update({"CUBBY_PORT": str(port), **env})
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cubby", "serve", "--log-level", "warning", *args],
            env=full_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, out)
            yield base, out
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.mark.slow
def test_first_start_prints_one_key_once(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"  # created by serve, parents too
    # first start: every setting from the environment
    with serve(tmp_path, [], {"CUBBY_DATA_DIR": str(data)}) as (base, out):
        first = out.read_text()
        keys = KEY_RE.findall(first)
        assert len(keys) == 1, first
        assert base in first, first
        assert f"CUBBY_API_KEY={keys[0]}" in first
        resp = httpx.get(base + "/api/v1/api-keys", headers={"Authorization": f"Bearer {keys[0]}"})
        assert resp.status_code == 200 and resp.json()["total"] == 1
        assert resp.json()["apiKeys"][0]["permissions"] is None  # organisation-wide
    assert (data / "cubby.db").is_file()
    # second start: the same data dir through the option; no new key, nothing secret printed
    with serve(tmp_path, ["--data-dir", str(data)], {}) as (base, out):
        second = out.read_text()
        assert not KEY_RE.search(second) and "cby_" not in second, second
        assert base in second
        resp = httpx.get(base + "/api/v1/api-keys", headers={"Authorization": f"Bearer {keys[0]}"})
        assert resp.status_code == 200 and resp.json()["total"] == 1
        key_id = resp.json()["apiKeys"][0]["id"]
    # every key revoked: a restart must not mint a new one (revoking all keys locks the API)
    env = {"CUBBY_DATA_DIR": str(data)}
    assert cubby_cli("api-keys", "revoke", key_id, env=env).returncode == 0
    with serve(tmp_path, [], env) as (base, out):
        third = out.read_text()
        assert not KEY_RE.search(third) and "cby_" not in third, third
        assert "every API key is revoked or expired" in third
        assert "cubby api-keys create" in third
        resp = httpx.get(base + "/api/v1/api-keys", headers={"Authorization": f"Bearer {keys[0]}"})
        assert resp.status_code == 401


def test_a_key_is_usable_until_it_expires() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()
    key = ApiKey(
        id="k",
        org_id="o",
        name="n",
        key_prefix="cby_x",
        permissions=None,
        last_used_at=None,
        expires_at=None,
        created_at="2026-01-01T00:00:00Z",
    )
    assert usable(key, now)
    assert usable(replace(key, expires_at="2026-11-23T12:00:01Z"), now)
    assert not usable(replace(key, expires_at="2026-11-23T12:00:00Z"), now)


def cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return cubby_cli(*args, env=server.env)


@pytest.mark.slow
def test_api_keys_commands_while_a_server_runs(tmp_path: Path) -> None:
    with live_server(tmp_path) as server, httpx.Client(base_url=server.base_url) as http:
        api = server.api(http)
        ws_a = api.create_workspace("cli-a")
        ws_b = api.create_workspace("cli-b")

        created = cli(server, "api-keys", "create", "--name", "from-cli")
        assert created.returncode == 0, created.stderr
        assert KEY_RE.fullmatch(created.stdout.strip()), created.stdout  # only the key
        assert created.stdout.count("\n") == 1
        plain = created.stdout.strip()
        assert api.request("GET", "/api/v1/workspaces", key=plain).status_code == 200

        restricted = cli(
            server, "api-keys", "create", "--name", "only-a", "--workspace", ws_a,
            "--expires-at", "2999-01-01T00:00:00Z",
        )  # fmt: skip
        assert restricted.returncode == 0, restricted.stderr
        only_a = restricted.stdout.strip()
        assert api.request("GET", f"/api/v1/workspaces/{ws_a}", key=only_a).status_code == 200
        denied = api.request("GET", f"/api/v1/workspaces/{ws_b}", key=only_a)
        assert denied.status_code == 403 and denied.json()["code"] == "SCOPE_DENIED"

        listing = cli(server, "api-keys", "list", "--json")
        assert listing.returncode == 0, listing.stderr
        keys = {k["name"]: k for k in json.loads(listing.stdout)}
        assert set(keys) == {"tests", "from-cli", "only-a"}
        assert keys["only-a"]["permissions"] == {"scope": "workspace", "workspaceIds": [ws_a]}
        assert keys["only-a"]["expiresAt"] == "2999-01-01T00:00:00.000Z"
        assert keys["from-cli"]["keyPrefix"] == plain[:8]
        assert plain not in listing.stdout and only_a not in listing.stdout
        table = cli(server, "api-keys", "list")
        assert table.returncode == 0 and keys["from-cli"]["id"] in table.stdout
        assert plain not in table.stdout

        revoked = cli(server, "api-keys", "revoke", keys["from-cli"]["id"])
        assert revoked.returncode == 0, revoked.stderr
        deadline = time.monotonic() + 5
        while api.request("GET", "/api/v1/workspaces", key=plain).status_code != 401:
            assert time.monotonic() < deadline, "the server still accepts a revoked key"
            time.sleep(0.2)
        again = cli(server, "api-keys", "revoke", keys["from-cli"]["id"])
        assert again.returncode != 0 and "no active API key" in again.stderr
        names = {k["name"] for k in json.loads(cli(server, "api-keys", "list", "--json").stdout)}
        assert names == {"tests", "only-a"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["api-keys", "create", "--name", "x", "-w", "no-such"], "no workspace with id or slug"),
        (["api-keys", "create", "--name", "x", "--expires-at", "2001-01-01"], "expiresAt"),
        (["api-keys", "create", "--name", "x", "--expires-at", "soon"], "expiresAt"),
        (["api-keys", "create", "--name", " "], "name"),
        (["api-keys", "create"], "--name"),
        (["api-keys", "revoke", "00000000-0000-4000-8000-000000000000"], "no active API key"),
        (["api-keys", "revoke", "nope"], "no active API key"),
    ],
)
def test_api_keys_errors(tmp_path: Path, args: list[str], message: str) -> None:
    data = str(tmp_path / "d")
    assert (
        cubby_cli(
            "api-keys", "create", "--name", "seed", "--create-data-dir", "--data-dir", data
        ).returncode
        == 0
    )
    result = cubby_cli(*args, "--data-dir", data)
    assert result.returncode != 0
    assert result.stdout == ""  # nothing a script could mistake for a key
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_database_url_is_one_clear_line(tmp_path: Path) -> None:
    result = cubby_cli("api-keys", "list", env={"CUBBY_DATABASE_URL": "mysql://x/y"})
    assert result.returncode == 2
    assert "CUBBY_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_database_url_from_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    env = {"CUBBY_DATABASE_URL": url, "CUBBY_DATA_DIR": str(tmp_path / "data")}
    assert cubby_cli("api-keys", "create", "--name", "k", env=env).returncode == 0
    assert (tmp_path / "elsewhere.db").is_file()
    listing = cubby_cli("api-keys", "list", "--json", env=env)
    assert [k["name"] for k in json.loads(listing.stdout)] == ["k"]
