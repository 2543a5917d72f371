"""Issue 27's command-line defects and rough edges, against one `cubby serve --port P` for the
module: `cubby init` finds the server (its data dir records the URL) or keeps CUBBY_BASE_URL,
reuses or rotates its key, and a failing init fails its `eval`; the data commands speak CLI
(--api-key, --base-url), say SCOPE_DENIED for a workspace the key may not use, name the URL
they cannot reach, print what they did and sizes a person reads; help lines are never cut."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import LiveServer, free_port, live_server

pytestmark = pytest.mark.slow
CUBBY = str(Path(sys.executable).parent / "cubby")


def clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CUBBY_")}, **extra}


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cubby", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def exports(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    return {
        name: shlex.split(value)[0]
        for name, value in (
            line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()
        )
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("first-hour"), env=clean_env()) as live:
        yield live


@pytest.fixture(scope="module")
def base_env(server: LiveServer) -> dict[str, str]:
    """What a new terminal in the server's folder has: only the data dir (no CUBBY_PORT)."""
    return clean_env(CUBBY_DATA_DIR=str(server.data_dir))


@pytest.fixture(scope="module")
def session(base_env: dict[str, str]) -> dict[str, str]:
    """The environment after `eval "$(cubby init)"`."""
    return {**base_env, **exports(run("init", env=base_env))}


def test_init_finds_a_server_started_with_another_port(
    server: LiveServer, base_env: dict[str, str], session: dict[str, str]
) -> None:
    assert not server.base_url.endswith(":8080")
    assert session["CUBBY_BASE_URL"] == server.base_url
    assert json.loads((server.data_dir / "server.json").read_text())["url"] == server.base_url
    status = json.loads(run("status", "--json", env=base_env).stdout)
    assert status["server"] == {"url": server.base_url, "answering": True}
    # CUBBY_BASE_URL wins (a proxy in front, another host), and --base-url over both
    elsewhere = exports(run("init", env={**session, "CUBBY_BASE_URL": "http://cubby.test:9"}))
    assert elsewhere["CUBBY_BASE_URL"] == "http://cubby.test:9"
    flagged = exports(run("init", "--base-url", "http://flag.test:1", env=session))
    assert flagged["CUBBY_BASE_URL"] == "http://flag.test:1"


def test_init_reuses_its_key_and_rotates_on_request(
    server: LiveServer, base_env: dict[str, str]
) -> None:
    env = {**base_env, **exports(run("init", "--slug", "reuse", env=base_env))}

    def init_keys() -> list[str]:
        listed = run("api-keys", "list", "--json", env=base_env).stdout
        return [k["id"] for k in json.loads(listed) if k["name"] == "cubby init reuse"]

    assert len(init_keys()) == 1
    again = run("init", "--slug", "reuse", env=env)
    assert exports(again)["CUBBY_API_KEY"] == env["CUBBY_API_KEY"]
    assert "reusing the key in CUBBY_API_KEY" in again.stderr
    assert len(init_keys()) == 1  # no second key
    fresh = run("init", "--slug", "reuse", env=base_env)  # a terminal without the key
    assert exports(fresh)["CUBBY_API_KEY"] != env["CUBBY_API_KEY"]
    assert "1 older 'cubby init reuse' key still work" in fresh.stderr
    assert "--rotate" in fresh.stderr
    assert len(init_keys()) == 2
    rotated = run("init", "--slug", "reuse", "--rotate", env=env)
    new_key = exports(rotated)["CUBBY_API_KEY"]
    assert new_key != env["CUBBY_API_KEY"] and "revoked 2 older ones" in rotated.stderr
    assert len(init_keys()) == 1
    headers = {"Authorization": f"Bearer {new_key}"}
    assert httpx.get(server.base_url + "/api/v1/workspaces", headers=headers).status_code == 200


def test_a_failing_init_fails_its_eval_and_hints_name_the_real_command(
    tmp_path: Path, base_env: dict[str, str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    script = f'eval "$({CUBBY} init --data-dir {tmp_path}/a-file/data)"'
    failed = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert failed.returncode != 0, failed
    assert "cannot create" in failed.stderr
    hint = run("init", env=base_env).stderr
    # the command to paste is this installation's executable, not a bare `cubby`
    assert f'eval "$({CUBBY} init)"' in hint, hint


def test_data_commands_speak_cli(server: LiveServer, session: dict[str, str]) -> None:
    # no key: the CLI's own option and variable, not the SDK's api_key=...
    no_key = run("kv", "get", "x", env={**session, "CUBBY_API_KEY": ""})
    assert no_key.returncode == 2 and "api_key=" not in no_key.stderr
    assert "--api-key" in no_key.stderr and "CUBBY_API_KEY" in no_key.stderr
    assert len(no_key.stderr.splitlines()) == 1
    # --api-key and --base-url instead of the variables
    bare = clean_env(CUBBY_DATA_DIR="/nonexistent")
    flagged = run(
        "kv", "put", "-w", session["CUBBY_WORKSPACE"], "flagged", "1",
        "--base-url", server.base_url, "--api-key", session["CUBBY_API_KEY"], env=bare,
    )  # fmt: skip
    assert flagged.returncode == 0, flagged.stderr
    # every data command prints its result: kv put says the key and its version
    assert json.loads(flagged.stdout) == {"key": "flagged", "version": 1}


def test_a_workspace_the_key_may_not_use_says_scope_denied(
    base_env: dict[str, str], session: dict[str, str]
) -> None:
    assert run("workspaces", "create", "Acme", "--slug", "acme", env=base_env).returncode == 0
    denied = run("files", "ls", "-w", "acme", env=session)
    assert denied.returncode == 2
    assert "SCOPE_DENIED" in denied.stderr and "'acme'" in denied.stderr
    assert "restricted to: default" in denied.stderr
    assert "no workspace with id or slug" not in denied.stderr


def test_an_unreachable_server_is_named_with_the_fix(session: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("kv", "get", "x", env={**session, "CUBBY_BASE_URL": url})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert f"no cubby server at {url}" in line and "--base-url" in line and "serve" in line


def test_files_ls_shows_human_sizes_and_bytes_on_request(
    tmp_path: Path, session: dict[str, str]
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1536 * 1024))
    assert run("files", "put", "sizes/big.bin", str(big), env=session).returncode == 0
    assert run("files", "put", "sizes/small.txt", "-", env=session).returncode == 0
    shown = run("files", "ls", "sizes/", env=session).stdout.splitlines()
    assert shown[0].split()[:2] == ["1.5", "MiB"] and shown[0].endswith("sizes/big.bin")
    assert shown[1].split()[:2] == ["0", "B"]
    exact = run("files", "ls", "sizes/", "--bytes", env=session).stdout.splitlines()
    assert exact[0].split()[0] == str(1536 * 1024)


def test_cubby_mcp_reads_the_workspace_variable(session: dict[str, str]) -> None:
    result = run("mcp", env={**session, "CUBBY_WORKSPACE": "no-such-workspace"})
    assert "Missing option" not in result.stderr
    assert "'no-such-workspace'" in result.stderr and result.returncode == 2


def test_help_lines_are_never_cut() -> None:
    from click.testing import CliRunner

    from cubby.cli import main

    groups = [[], ["files"], ["kv"], ["workspaces"], ["integrations"], ["api-keys"]]
    for group in groups:
        text = CliRunner().invoke(main, [*group, "--help"], terminal_width=80).output
        listed = text.split("Commands:", 1)[1]
        cut = [line for line in listed.splitlines() if re.search(r"\w\.\.\.$", line.rstrip())]
        assert cut == [], (group, cut)


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_start_up_lines_name_cubby_not_uvicorn(fmt: str) -> None:
    script = (
        "import logging, logging.config; from cubby.logs import log_config; "
        f"logging.config.dictConfig(log_config({fmt!r}, 'info')); "
        "logging.getLogger('uvicorn.error').info('Started server process [%d]', 42); "
        "logging.getLogger('cubby').info('own line')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    started, own = done.stderr.splitlines()
    if fmt == "json":
        assert json.loads(started)["logger"] == "cubby.server"
        assert json.loads(own)["logger"] == "cubby"
    else:
        assert " INFO cubby.server Started server process [42]" in started
        assert "uvicorn" not in done.stderr


def test_every_command_names_a_workspace_with_w(base_env: dict[str, str], tmp_path: Path) -> None:
    created = run("workspaces", "create", "W Flag", "--slug", "w-flag", env=base_env)
    assert created.returncode == 0, created.stderr
    ws_id = created.stdout.strip()
    in_env = {**base_env, "CUBBY_WORKSPACE": "w-flag"}
    added = run("integrations", "add", "-w", "w-flag", "kv-store", "--alias", "extra", env=base_env)
    assert added.returncode == 0, added.stderr
    by_flag = run("integrations", "ls", "-w", "w-flag", env=base_env).stdout
    by_arg = run("integrations", "ls", "w-flag", env=base_env).stdout  # the older form
    by_env = run("integrations", "ls", env=in_env).stdout
    assert by_flag == by_arg == by_env and "extra" in by_flag
    gone = run("integrations", "rm", "-w", "w-flag", "extra", env=base_env)
    assert (
        gone.returncode == 0
        and "extra" not in run("integrations", "ls", "w-flag", env=base_env).stdout
    )
    missing = run("integrations", "ls", env=base_env)
    assert missing.returncode == 2 and "-w WORKSPACE" in missing.stderr
    # limits and usage: -w, the older argument, CUBBY_WORKSPACE
    limits = run("workspaces", "limits", "-w", "w-flag", "--max-keys", "7", env=base_env)
    assert limits.returncode == 0 and "max keys: 7" in limits.stdout, limits.stderr
    assert run("workspaces", "limits", "w-flag", env=base_env).stdout == limits.stdout
    assert run("workspaces", "limits", env=in_env).stdout == limits.stdout
    usage = run("workspaces", "usage", "-w", "w-flag", env=base_env)
    assert usage.returncode == 0 and "keys: 0" in usage.stdout, usage.stderr
    assert run("workspaces", "usage", "w-flag", env=base_env).stdout == usage.stdout
    assert run("workspaces", "usage", env=in_env).stdout == usage.stdout
    assert "-w WORKSPACE" in run("workspaces", "usage", env=base_env).stderr
    # export and import: -w WORKSPACE FILE, WORKSPACE FILE, CUBBY_WORKSPACE + FILE
    for name, args, env in (
        ("flag.tar", ["-w", "w-flag"], base_env), ("arg.tar", ["w-flag"], base_env),
        ("env.tar", [], in_env),
    ):  # fmt: skip
        out = str(tmp_path / name)
        exported = run("export", *args, out, env=env)
        assert exported.returncode == 0 and out in exported.stdout, exported.stderr
        imported = run("import", *args, out, env=env)
        assert imported.returncode == 0 and "imported" in imported.stdout, imported.stderr
    lone = run("export", str(tmp_path / "lone.tar"), env=base_env)
    assert lone.returncode == 2 and "-w WORKSPACE OUT" in lone.stderr
    # api-keys create: -w takes a slug (or an id) and the key is scoped to its id
    for ref in ("w-flag", ws_id):
        made = run("api-keys", "create", "--name", f"by-{ref}", "-w", ref, env=base_env)
        assert made.returncode == 0, made.stderr
    keys = json.loads(run("api-keys", "list", "--json", env=base_env).stdout)
    made_here = [k for k in keys if k["name"].startswith("by-")]
    assert {k["name"]: k["permissions"]["workspaceIds"] for k in made_here} == {
        "by-w-flag": [ws_id],
        f"by-{ws_id}": [ws_id],
    }
    for key in made_here:
        assert run("api-keys", "revoke", key["id"], env=base_env).returncode == 0
    unknown = run("api-keys", "create", "--name", "x", "-w", "no-such-slug", env=base_env)
    assert unknown.returncode == 2 and "no workspace with id or slug" in unknown.stderr
    assert run("workspaces", "rm", "-w", "w-flag", "--yes", env=base_env).returncode == 0
