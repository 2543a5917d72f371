"""Acceptance 1 of issue 24: SQLite + folder -> PostgreSQL + S3 -> SQLite + folder with
`cubby copy` ends byte-for-byte equal (checked with plain SQL and the raw files), the same
API keys work on the copy, and a signed download URL made before works after, with the server
secret carried over as docs/operations.md says."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import server_env, settings_for
from tests.backup_data import dump_folder, dump_sqlite, seed
from tests.helpers import Api, cubby_cli

MIB = 1024 * 1024


def copy_cli(source: Settings, target: Settings) -> str:
    done = cubby_cli(
        "copy",
        "--data-dir", str(source.data_dir),
        "--database-url", source.resolved_database_url,
        "--files-url", source.resolved_files_url,
        "--to-database", target.resolved_database_url,
        "--to-files", target.resolved_files_url,
        env={**server_env(target), "CUBBY_DATABASE_URL": "", "CUBBY_FILES_URL": ""},
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _download_url(settings: Settings, key: str, ws: str) -> str:
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services)) as client:
            out = Api(client, key).output("storage", "get_download_url", ws, {"path": "d0/f-0.bin"},
                                          integrationAlias="files", endUserId="alice")  # fmt: skip
            return str(out["url"])
    finally:
        services.close()


def test_sqlite_to_postgres_s3_and_back_is_byte_for_byte(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "first")
    seeded = seed(first, n_keys=500, n_files=200, big_bytes=20 * MIB)
    url = _download_url(first, seeded.org_key, seeded.workspaces[0])
    middle = settings_for("postgres+s3", tmp_path / "middle")
    last = Settings(data_dir=tmp_path / "last")
    (tmp_path / "last").mkdir()

    out = copy_cli(first, middle)
    assert "verified" in out and "To switch over" in out, out
    assert "cubby serve --database-url" in out
    out = copy_cli(middle, last)
    assert "verified" in out, out

    assert dump_sqlite(last.data_dir / "cubby.db") == dump_sqlite(first.data_dir / "cubby.db")
    bodies = dump_folder(first.data_dir / "files")
    assert len(bodies) > 60 and max(len(b) for b in bodies.values()) == 20 * MIB
    assert dump_folder(last.data_dir / "files") == bodies

    # docs/operations.md: keep the server secret, and download URLs made before keep working
    shutil.copy(first.data_dir / "secret_key", last.data_dir / "secret_key")
    services = build_services(last)
    try:
        with TestClient(create_app(last, services)) as client:
            got_file = client.get(urlsplit(url).path)
            assert got_file.status_code == 200 and len(got_file.content) == 20 * MIB
            api = Api(client, seeded.org_key)
            assert len(api.ok("GET", "/api/v1/workspaces")["workspaces"]) == 3
            ws0 = seeded.workspaces[0]
            got = api.output("kv-store", "get", ws0, {"key": "k/00001"},
                             integrationAlias="state", endUserId="bob")  # fmt: skip
            assert got["value"] == {"i": 1, "b": [True, None]}
            scoped = Api(client, seeded.ws_key)
            assert scoped.request("GET", f"/api/v1/workspaces/{ws0}").status_code == 200
            other = seeded.workspaces[1]
            assert scoped.request("GET", f"/api/v1/workspaces/{other}").status_code == 403
            found = api.output("agent-memory", "search", ws0, {"query": "cafe"},
                               integrationAlias="memory", endUserId="alice")  # fmt: skip
            assert [e["name"] for e in found["entities"]] == ["Alice"]  # the index was rebuilt
            pages = api.output("agent-scratchpad", "search_pages", ws0, {"query": "resume"},
                               integrationAlias="pad", endUserId="alice")  # fmt: skip
            assert len(pages["results"]) == 3
            # the copy keeps working: a new list item gets a fresh id after the copied ones
            api.output("kv-store", "add_to_list", ws0, {"key": "k/00000", "value": "new"},
                       integrationAlias="state", endUserId="alice")  # fmt: skip
    finally:
        services.close()
