"""``cubby files`` and ``cubby kv`` against a running server (base URL and key from the env)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from cubby_client import Cubby

from cubby.cli import main
from tests.helpers import LiveServer, cubby_cli, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("cli-data")) as live:
        with Cubby(api_key=live.key, base_url=live.base_url) as client:
            ws = client.workspaces.create(name="Acme", slug="acme")["workspace"]["id"]
            shared = {"persistence": {"scope": "workspace"}}
            for name, alias in (("storage", "files"), ("kv-store", "state")):
                client.workspaces.add_integration(
                    ws, integration_name=name, alias=alias, settings=shared
                )
            client.workspaces.add_integration(ws, integration_name="kv-store", alias="mine")
            live.env["TEST_WORKSPACE_ID"] = ws
        yield live


def cli(server: LiveServer, *args: str, input: bytes | str | None = None, **env: str) -> Result:
    environ = {"CUBBY_BASE_URL": server.base_url, "CUBBY_API_KEY": server.key, **env}
    return CliRunner().invoke(main, list(args), input=input, env=environ)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def test_kv_commands(server: LiveServer) -> None:
    w = ("-w", "acme")
    ok(cli(server, "kv", "put", *w, "sync:cust_123:status", "in_progress"))
    assert ok(cli(server, "kv", "get", *w, "sync:cust_123:status")).stdout == '"in_progress"\n'
    raw = cli(server, "kv", "get", *w, "sync:cust_123:status", "--raw")
    assert ok(raw).stdout == "in_progress\n"

    ok(cli(server, "kv", "put", *w, "cursor", '{"page": 3}'))
    assert json.loads(ok(cli(server, "kv", "get", *w, "cursor")).stdout) == {"page": 3}
    ok(cli(server, "kv", "put", *w, "n", "42", "--string"))
    assert ok(cli(server, "kv", "get", *w, "n")).stdout == '"42"\n'
    assert ok(cli(server, "kv", "get", *w, "missing")).stdout == "null\n"

    assert ok(cli(server, "kv", "append", *w, "orders", "order_1")).stdout == "1\n"
    assert ok(cli(server, "kv", "append", *w, "orders", "7")).stdout == "2\n"
    assert ok(cli(server, "kv", "append", *w, "orders", "order_1")).stdout == "3\n"
    assert ok(cli(server, "kv", "remove", *w, "orders", "order_1")).stdout == "2\n"
    assert json.loads(ok(cli(server, "kv", "get", *w, "orders")).stdout) == [7]

    assert ok(cli(server, "kv", "rm", *w, "orders")).stdout == "deleted orders\n"
    gone = cli(server, "kv", "rm", *w, "orders")
    assert gone.exit_code == 1 and "no such key" in gone.stderr

    failed = cli(server, "kv", "append", *w, "cursor", "1")
    assert failed.exit_code == 1
    assert "ACTION_FAILED" in failed.stderr and "NOT_A_LIST" in failed.stderr


def test_kv_ls_incr_expiry_and_if_version(server: LiveServer) -> None:
    w = ("-w", "acme")
    for key in ("ls:b", "ls:a", "ls:c%"):
        ok(cli(server, "kv", "put", *w, key, "1"))
    ok(cli(server, "kv", "put", *w, "ls:tmp", "x", "--expires-in", "3600"))
    ok(cli(server, "kv", "append", *w, "ls:list", "x", "--expires-in", "60"))
    assert ok(cli(server, "kv", "ls", *w, "ls:")).stdout.split() == [
        "ls:a",
        "ls:b",
        "ls:c%",
        "ls:list",
        "ls:tmp",
    ]
    long = ok(cli(server, "kv", "ls", *w, "ls:", "--long")).stdout.splitlines()
    assert "list[1]" in long[3] and long[3].endswith("ls:list") and "Z" in long[3].split()[5]
    assert long[0].split()[:4] == ["1", "B", "value", "v1"] and long[0].split()[5] == "-"
    exact = ok(cli(server, "kv", "ls", *w, "ls:", "--long", "--bytes")).stdout.splitlines()
    assert exact[0].split()[:3] == ["1", "value", "v1"] and exact[0].split()[4] == "-"
    rows = [
        json.loads(line)
        for line in ok(cli(server, "kv", "ls", *w, "ls:", "--json")).stdout.splitlines()
    ]
    assert rows[4]["key"] == "ls:tmp" and rows[4]["expiresAt"] and rows[4]["version"] == 1

    assert ok(cli(server, "kv", "incr", *w, "hits")).stdout == "1\n"
    assert ok(cli(server, "kv", "incr", *w, "hits", "--by", "41")).stdout == "42\n"
    assert ok(cli(server, "kv", "incr", *w, "hits", "--by", "0.5")).stdout == "42.5\n"
    bad = cli(server, "kv", "incr", *w, "hits", "--by", "many")
    assert bad.exit_code == 2 and "not a number" in bad.stderr
    nan = cli(server, "kv", "incr", *w, "ls:tmp")
    assert nan.exit_code == 1 and "NOT_A_NUMBER" in nan.stderr

    ok(cli(server, "kv", "put", *w, "cas", "1", "--if-version", "0"))
    lost = cli(server, "kv", "put", *w, "cas", "2", "--if-version", "0")
    assert lost.exit_code == 1 and "CONFLICT" in lost.stderr
    assert '"currentVersion": 1' in lost.stderr
    ok(cli(server, "kv", "put", *w, "cas", "2", "--if-version", "1"))
    assert ok(cli(server, "kv", "get", *w, "cas")).stdout == "2\n"


def test_kv_workspace_id_env_alias_and_end_user(server: LiveServer) -> None:
    env = {"CUBBY_WORKSPACE": server.env["TEST_WORKSPACE_ID"]}
    ok(cli(server, "kv", "put", "--alias", "mine", "--end-user", "alice", "theme", "dark", **env))
    alice = cli(server, "kv", "get", "--alias", "mine", "--end-user", "alice", "theme", **env)
    assert ok(alice).stdout == '"dark"\n'
    bob = cli(server, "kv", "get", "--alias", "mine", "theme", **env, CUBBY_END_USER="bob")
    assert ok(bob).stdout == "null\n"
    nobody = cli(server, "kv", "get", "--alias", "mine", "theme", **env)
    assert nobody.exit_code == 1 and "endUserId" in nobody.stderr


def test_files_commands(server: LiveServer, tmp_path: Path) -> None:
    w = ("-w", "acme")
    source = tmp_path / "report.csv"
    source.write_bytes(b"name,amount\nAlice,100\n")
    put = ok(cli(server, "files", "put", *w, "exports/report.csv", str(source)))
    assert json.loads(put.stdout)["size"] == len(source.read_bytes())
    binary = bytes(range(256))
    ok(cli(server, "files", "put", *w, "media/blob.bin", "-", input=binary))
    ok(cli(server, "files", "put", *w, "notes/a.txt", "--content-type", "text/plain", input="hi"))

    assert ok(cli(server, "files", "get", *w, "media/blob.bin")).stdout_bytes == binary
    out = tmp_path / "copy.csv"
    ok(cli(server, "files", "get", *w, "exports/report.csv", "-o", str(out)))
    assert out.read_bytes() == source.read_bytes()

    listing = ok(cli(server, "files", "ls", *w)).stdout.splitlines()
    assert [line.split()[-1] for line in listing] == [
        "exports/report.csv",
        "media/blob.bin",
        "notes/a.txt",
    ]
    assert listing[1].split()[0] == "256"
    as_json = ok(cli(server, "files", "ls", *w, "notes/", "--json")).stdout.splitlines()
    (note,) = (json.loads(line) for line in as_json)
    assert note["path"] == "notes/a.txt" and note["contentType"].startswith("text/plain")

    url = ok(cli(server, "files", "url", *w, "exports/report.csv", "--expires-in", "60")).stdout
    assert httpx.get(url.strip()).content == source.read_bytes()

    assert ok(cli(server, "files", "rm", *w, "notes/a.txt")).stdout == "deleted notes/a.txt\n"
    gone = cli(server, "files", "rm", *w, "notes/a.txt")
    assert gone.exit_code == 1 and "no such file" in gone.stderr
    missing = cli(server, "files", "get", *w, "notes/a.txt")
    assert missing.exit_code == 1 and "FILE_NOT_FOUND" in missing.stderr

    # mv, conditional and expiring put, rm -r (issue 14)
    assert ok(cli(server, "files", "mv", *w, "media/blob.bin", "media/moved.bin")).stdout == (
        "moved media/blob.bin -> media/moved.bin\n"
    )
    clash = cli(server, "files", "mv", *w, "exports/report.csv", "media/moved.bin")
    assert clash.exit_code == 1 and "CONFLICT" in clash.stderr
    ok(cli(server, "files", "mv", *w, "-f", "exports/report.csv", "media/moved.bin"))
    no_clobber = cli(server, "files", "put", *w, "media/moved.bin", str(source), "--no-clobber")
    assert no_clobber.exit_code == 1 and "CONFLICT" in no_clobber.stderr
    put = ok(cli(server, "files", "put", *w, "media/tmp.txt", str(source), "--expires-in", "60"))
    assert json.loads(put.stdout)["expiresAt"] is not None
    removed = ok(cli(server, "files", "rm", *w, "-r", "media"))
    assert removed.stdout == "deleted 2 files under media/\n"
    assert ok(cli(server, "files", "ls", *w)).stdout == ""


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("kv", "get", "-w", "nope", "k"), {}, "no workspace with id or slug 'nope'"),
        (("kv", "get", "-w", "acme", "--alias", "zzz", "k"), {}, "INTEGRATION_NOT_FOUND"),
        (("kv", "get", "-w", "acme", "k"), {"CUBBY_API_KEY": ""}, "CUBBY_API_KEY"),
        (("kv", "get", "-w", "acme", "k"), {"CUBBY_API_KEY": "cby_wrong"}, "UNAUTHENTICATED"),
        (
            ("files", "ls", "-w", "acme"),
            {"CUBBY_BASE_URL": "http://127.0.0.1:9"},
            "no cubby server at http://127.0.0.1:9",
        ),
        (("kv", "get", "k"), {}, "Missing option '--workspace'"),
    ],
)
def test_errors_are_one_clear_line(
    server: LiveServer, args: tuple[str, ...], env: dict[str, Any], message: str
) -> None:
    result = cli(server, *args, **env)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_sdk_says_how_to_install_it(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cubby_client", None)  # import now raises ImportError
    result = cli(server, "kv", "get", "-w", "acme", "k")
    assert result.exit_code == 1
    assert "pip install ./sdk/python" in result.stderr


def test_registered_on_the_real_entry_point(server: LiveServer) -> None:
    env = {"CUBBY_BASE_URL": server.base_url, "CUBBY_API_KEY": server.key}
    put = cubby_cli("kv", "put", "-w", "acme", "via-subprocess", "[1, 2]", env=env)
    assert put.returncode == 0, put.stderr
    got = cubby_cli("kv", "get", "-w", "acme", "via-subprocess", env=env)
    assert got.returncode == 0 and json.loads(got.stdout) == [1, 2]
    helped = cubby_cli("--help")
    assert "files" in helped.stdout and "kv" in helped.stdout
