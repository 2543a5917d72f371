"""The first ten minutes on the command line: `cubby init`, workspaces, integrations, status,
and one error style (one line, no traceback, exit 2) for every mistake a user can fix."""

from __future__ import annotations

import json
import os
import pty
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import cubby_cli, free_port, wait_healthy

CUBBY = str(Path(sys.executable).parent / "cubby")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUBBY_")}
    return {**env, **extra}


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cubby", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or clean_env(),
        input=stdin or "",
        timeout=60,
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cubby: error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@contextmanager
def serving(data: Path, port: int | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    port = port or free_port()
    env = clean_env(CUBBY_DATA_DIR=str(data), CUBBY_PORT=str(port))
    out = data.parent / f"serve-{port}.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cubby", "serve", "--log-level", "warning"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc, out)
            yield base, env
        finally:
            proc.terminate()
            proc.wait(timeout=15)


# -- errors: one line, the fix, exit 2 ------------------------------------------------------
def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / "a-file" / "data"
    for args in (
        ("serve", "--port", str(free_port())),
        ("init",),
        ("api-keys", "create", "--name", "k", "--create-data-dir"),
    ):
        line = one_line_error(run(*args, "--data-dir", str(target)), str(target), "--data-dir")
        assert "cannot create" in line


def test_data_dir_that_is_not_writable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        run(
            "api-keys", "create", "--name", "k", "--create-data-dir", "--data-dir", str(data)
        ).returncode
        == 0
    )
    # as root, permission bits do not stop writes: the immutable attribute does
    assert subprocess.run(["chattr", "+i", str(data)], capture_output=True).returncode == 0
    try:
        for args in (("serve", "--port", str(free_port())), ("init",)):
            line = one_line_error(run(*args, "--data-dir", str(data)), "not writable")
            assert str(data) in line and "--data-dir" in line
    finally:
        subprocess.run(["chattr", "-i", str(data)], check=True)


@pytest.mark.slow
def test_port_in_use_is_one_line_and_never_says_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    one_line_error(result, f"port {port}", "--port")
    assert "serving" not in result.stdout + result.stderr


@pytest.mark.slow
def test_second_serve_on_the_same_port(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path / "data", port) as (_, env):
        second = run("serve", env=env)
        one_line_error(second, f"port {port}", "--port")
        assert "serving" not in second.stdout


def test_commands_refuse_a_folder_that_is_not_a_data_dir(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    for args in (
        ("serve", "--port", str(free_port())),
        ("init",),
        ("status",),
        ("api-keys", "list"),
        ("workspaces", "ls"),
    ):
        line = one_line_error(run(*args, "--data-dir", str(tmp_path)), "not a cubby data dir")
        assert "--create-data-dir" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_api_keys_list_elsewhere_creates_nothing(tmp_path: Path) -> None:
    for args in (
        ("api-keys", "list"),
        ("api-keys", "revoke", "x"),
        ("workspaces", "ls"),
        ("integrations", "ls", "acme"),
        ("status",),
    ):
        one_line_error(run(*args, cwd=tmp_path), "no cubby data dir", "--data-dir")
    assert list(tmp_path.iterdir()) == []  # no ./.cubby


def test_setup_command_mistakes(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert run("init", *data).returncode == 0
    one_line_error(
        run("integrations", "add", "nope", "storage", *data), "'nope'", "cubby workspaces ls"
    )
    one_line_error(run("integrations", "add", "default", "ftp", *data), "ftp")
    one_line_error(
        run("integrations", "add", "default", "storage", "--alias", "Bad!", *data), "alias"
    )
    one_line_error(
        run("integrations", "add", "default", "storage", "--alias", "files", *data), "files"
    )
    one_line_error(
        run(
            "integrations",
            "add",
            "default",
            "kv-store",
            "--scope",
            "workspace",
            "--namespace-key",
            "t1",
            *data,
        ),
        "externalId",
    )
    one_line_error(run("integrations", "rm", "default", "nope", *data), "cubby integrations ls")
    one_line_error(run("workspaces", "create", "Default", *data), "slug")
    one_line_error(run("workspaces", "rm", "default", *data), "--yes")
    one_line_error(run("workspaces", "rm", "nope", "--yes", *data), "'nope'")


# -- workspaces and integrations --------------------------------------------------------------
def test_workspaces_and_integrations_commands(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert run("api-keys", "create", "--name", "k", "--create-data-dir", *data).returncode == 0
    ws = run("workspaces", "create", "Acme Corp", *data)
    assert ws.returncode == 0, ws.stderr
    ws_id = ws.stdout.strip()
    listed = run("workspaces", "ls", *data).stdout
    assert ws_id in listed and "acme-corp" in listed and "Acme Corp" in listed
    shown = json.loads(run("workspaces", "ls", "--json", *data).stdout)
    assert shown["slug"] == "acme-corp"

    assert (
        run(
            "integrations",
            "add",
            "acme-corp",
            "storage",
            "--alias",
            "files",
            "--scope",
            "workspace",
            *data,
        ).returncode
        == 0
    )
    tenant = run(
        "integrations",
        "add",
        ws_id,
        "kv-store",
        "--alias",
        "tenant-a",
        "--namespace-key",
        "tenant_123",
        "--json",
        *data,
    )
    assert json.loads(tenant.stdout)["settings"] == {
        "persistence": {"scope": "external", "externalId": "tenant_123"}
    }
    assert run("integrations", "add", "acme-corp", "kv-store", *data).returncode == 0
    lines = run("integrations", "ls", "acme-corp", *data).stdout.splitlines()
    assert [line.split()[1:] for line in lines] == [
        ["files", "storage", "scope=workspace"],
        ["tenant-a", "kv-store", "scope=external:tenant_123"],
        ["kv-store", "kv-store", "scope=end_user"],
    ]
    removed = run("integrations", "rm", "acme-corp", "tenant-a", *data)
    assert removed.returncode == 0 and "tenant-a" in removed.stdout
    assert len(run("integrations", "ls", "acme-corp", *data).stdout.splitlines()) == 2
    gone = run("workspaces", "rm", "acme-corp", "--yes", *data)
    assert gone.returncode == 0 and ws_id in gone.stdout
    assert run("workspaces", "ls", *data).stdout == ""


# -- init, then the data commands, on a fresh server ----------------------------------------------
@pytest.mark.slow
def test_init_then_files_and_kv_on_a_fresh_server(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello from the first ten minutes\n")
    with serving(tmp_path / "data") as (base, env):
        # before init: the data commands say what to do
        lost = run("files", "ls", "-w", "default", env=env)
        assert lost.returncode != 0 and "Traceback" not in lost.stderr
        assert f'eval "$({CUBBY} init)"' in lost.stderr and len(lost.stderr.splitlines()) == 1
        script = f"""
set -e
eval "$({CUBBY} init)"
{CUBBY} files put notes/hello.txt {shlex.quote(str(tmp_path / "hello.txt"))}
{CUBBY} files get notes/hello.txt
{CUBBY} kv put last_sync 2025-01-15T10:00:00Z
{CUBBY} kv get last_sync --raw
echo "$CUBBY_WORKSPACE"
"""
        result = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert json.loads(lines[0])["path"] == "notes/hello.txt"
        assert lines[1] == "hello from the first ten minutes"
        assert json.loads(lines[2]) == {"key": "last_sync", "version": 1}
        assert lines[3] == "2025-01-15T10:00:00Z"
        ws = lines[4]
        # the server sees what init made: the spec's two integrations, shared by the workspace
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in run("init", env=env).stdout.splitlines()
        )
        assert exports["CUBBY_BASE_URL"] == base and exports["CUBBY_WORKSPACE"] == ws
        listed = httpx.get(
            f"{base}/api/v1/workspaces/{ws}/integrations",
            headers={"Authorization": f"Bearer {exports['CUBBY_API_KEY']}"},
        )
        assert {
            (i["alias"], i["integrationName"], i["settings"]["persistence"]["scope"])
            for i in listed.json()["integrations"]
        } == {
            ("files", "storage", "workspace"),
            ("state", "kv-store", "workspace"),
            ("memory", "agent-memory", "workspace"),
            ("scratchpad", "agent-scratchpad", "workspace"),
            ("thinking", "sequential-thinking", "workspace"),
        }
        status = json.loads(run("status", "--json", env=env).stdout)
        assert status["counts"] == {"workspaces": 1, "integrations": 5, "apiKeys": 3}
        assert status["server"] == {"url": base, "answering": True}
        assert status["versions"]["cubby"] and status["database"].startswith("sqlite:///")
        text = run("status", env=env).stdout
        assert "answering" in text and "1 workspaces, 5 integrations" in text
        key_env = {**env, **exports}
        nowhere = run("kv", "get", "-w", "nope", "k", env=key_env)
        # the init key is restricted to its workspace: the API answers 403 SCOPE_DENIED
        one_line_error(nowhere, "'nope'", "SCOPE_DENIED", "restricted to: default")
        no_alias = run("kv", "get", "-w", ws, "--alias", "cache", "k", env=key_env)
        assert "INTEGRATION_NOT_FOUND" in no_alias.stderr
        assert "cubby integrations add" in no_alias.stderr


@pytest.mark.slow
def test_files_put_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    with serving(tmp_path / "data") as (_, env):
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in run("init", env=env).stdout.splitlines()
        )
        env = {**env, **exports}
        piped = run("files", "put", "big.bin", str(big), env=env)
        assert piped.returncode == 0 and piped.stderr == ""
        assert json.loads(piped.stdout)["size"] == 3 * 1024 * 1024
        main, follower = pty.openpty()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "cubby", "files", "put", "big2.bin", str(big)],
                stdout=subprocess.PIPE,
                stderr=follower,
                env=env,
                timeout=60,
            )
            os.close(follower)
            shown = b""
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            os.close(main)
        assert proc.returncode == 0
        assert json.loads(proc.stdout)["size"] == 3 * 1024 * 1024
        text = shown.decode()
        assert "reading 3.0 MiB" in text and "uploading 3.0 MiB... done" in text


def test_init_and_status_help() -> None:
    top = cubby_cli("--help").stdout
    for command in ("init", "status", "workspaces", "integrations"):
        assert command in top
    init = cubby_cli("init", "--help").stdout
    assert "files" in init and "state" in init and "export" in init
    add = cubby_cli("integrations", "add", "--help").stdout
    assert "--scope" in add and "--namespace-key" in add


def test_init_agent_tools_on_by_default_and_added_to_an_older_workspace(tmp_path: Path) -> None:
    """--no-agent-tools makes only the spec's two; a later plain init adds the three agent tools
    to that workspace (with the scope asked for) and leaves files and state alone."""
    env = clean_env(CUBBY_DATA_DIR=str(tmp_path / "data"))
    first = run("init", "--no-agent-tools", "--scope", "end_user", env=env)
    assert first.returncode == 0, first.stderr
    assert "memory" not in first.stderr and "files (storage, scope end_user)" in first.stderr
    again = run("init", "--scope", "end_user", env=env)
    assert again.returncode == 0, again.stderr
    for made in (
        "memory (agent-memory, scope end_user)",
        "scratchpad (agent-scratchpad, scope end_user)",
        "thinking (sequential-thinking, scope end_user)",
    ):
        assert made in again.stderr, again.stderr
    assert "files (" not in again.stderr and "state (" not in again.stderr
    listed = run("integrations", "ls", "default", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    aliases = {row["alias"]: row["integrationName"] for row in rows}
    assert aliases == {
        "files": "storage",
        "state": "kv-store",
        "memory": "agent-memory",
        "scratchpad": "agent-scratchpad",
        "thinking": "sequential-thinking",
    }
    help_text = " ".join(run("init", "--help", env=env).stdout.split())
    assert "--agent-tools / --no-agent-tools" in help_text and "On by default" in help_text
