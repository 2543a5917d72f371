"""``cubby end-users create|ls|erase`` on a data dir, next to the API on the same data."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.cli import main
from cubby.core import keys
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.helpers import Api


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env={"CUBBY_WORKSPACE": None})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def test_end_users_commands(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    ok(cli("api-keys", "create", "--name", "k", "--create-data-dir", *data))
    ws = ok(cli("workspaces", "create", "Acme", *data)).stdout.strip()

    details = ("--name", "Ada", "--email", "ada@example.com", "--metadata", '{"plan": "pro"}')
    made = ok(cli("end-users", "create", "-w", "acme", "user_1", *details, *data))
    record_id = made.stdout.strip()
    second = json.loads(ok(cli("end-users", "create", "-w", ws, "user_2", "--json", *data)).stdout)
    assert second["externalId"] == "user_2" and second["workspaceId"] == ws
    dup = cli("end-users", "create", "-w", "acme", "user_1", *data)
    assert dup.exit_code == 2 and "externalId" in dup.stderr and "Traceback" not in dup.stderr
    bad = cli("end-users", "create", "-w", "acme", "x", "--metadata", "[1]", *data)
    assert bad.exit_code == 2 and "JSON object" in bad.stderr

    lines = ok(cli("end-users", "ls", "-w", "acme", *data)).stdout.splitlines()
    assert [line.split()[:4] for line in lines] == [
        [record_id, "user_1", "Ada", "ada@example.com"],
        [second["id"], "user_2", "-", "-"],
    ]
    shown = [json.loads(line) for line in ok(cli("end-users", "ls", "-w", ws, "--json", *data))
             .stdout.splitlines()]  # fmt: skip
    assert shown[0]["metadata"] == {"plan": "pro"} and shown[1]["id"] == second["id"]

    # data for both end users through the API on the same data dir, then erase one
    settings = Settings(data_dir=tmp_path / "data")
    services = build_services(settings)
    try:
        _, plain = asyncio.run(keys.create_key(services.meta, "t", None, None))
        with TestClient(create_app(settings, services)) as client:
            api = Api(client, plain)
            for user in ("user_1", "user_2"):
                api.output("kv-store", "put", ws, {"key": "k", "value": user}, endUserId=user)
                api.output("storage", "write_file", ws, {"path": "a.txt", "content": "hey"},
                           endUserId=user)  # fmt: skip

            refused = cli("end-users", "erase", "-w", "acme", "user_1", *data, input="n\n")
            assert refused.exit_code != 0
            assert api.output("kv-store", "get", ws, {"key": "k"}, endUserId="user_1")["value"]

            erased = ok(cli("end-users", "erase", "-w", "acme", "user_1", "--yes", *data))
            # bytes: the file's 3 and the KV value's JSON text (8: "user_1" with its quotes)
            assert erased.stdout.strip() == "erased 1 keys and 1 files (11 bytes) of user_1"
            got = api.output("kv-store", "get", ws, {"key": "k"}, endUserId="user_1")
            assert got["value"] is None
            other = api.output("kv-store", "get", ws, {"key": "k"}, endUserId="user_2")
            assert other["value"] == "user_2"
            again = ok(cli("end-users", "erase", "-w", ws, "user_1", "--yes", "--json", *data))
            assert json.loads(again.stdout) == {"keys": 0, "files": 0, "bytes": 0, "items": 0}
            # an end user that was never registered is erased the same way
            api.output("kv-store", "put", ws, {"key": "k", "value": 1}, endUserId="ghost")
            ghost = ok(cli("end-users", "erase", "-w", ws, "ghost", "--yes", *data))
            assert "erased 1 keys" in ghost.stdout
    finally:
        services.close()

    missing = cli("end-users", "ls", "-w", "nope", *data)
    assert missing.exit_code == 2 and "cubby workspaces ls" in missing.stderr


def test_end_users_help_names_the_commands() -> None:
    shown = ok(cli("end-users", "--help")).stdout
    for command in ("create", "ls", "erase"):
        assert command in shown
    assert "end-users" in ok(cli("--help")).stdout
