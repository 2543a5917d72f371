"""A full disk (issue 16, "Also"): writes answer 507 INSUFFICIENT_STORAGE and change nothing,
reads and listings keep working, and delete_file still works, so space can be freed.

The data lives on a real, small tmpfs mounted for the test (the machine's tests run as root;
mounting is the one way to get a genuinely full file system). SQLite: database and bodies on
it; PostgreSQL: the bodies on it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import keys
from cubby.core.disk_full import is_disk_full
from cubby.settings import Settings
from cubby.wiring import build_services
from tests import backends
from tests.helpers import Api

MIB = 1024 * 1024
SCOPE = {"persistence": {"scope": "workspace"}}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(mount)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, small_disk: Path, tmp_path: Path) -> Iterator[Api]:
    if request.param == "sqlite":
        settings = Settings(data_dir=small_disk / "data")
    else:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=backends.postgres_url(),
            files_url=f"file://{small_disk}/files",
        )
    services = build_services(settings)
    try:
        _, plain = asyncio.run(keys.create_key(services.meta, "tests", None, None))
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
            yield Api(client, plain)
    finally:
        services.close()


def run(api: Api, ws: str, action: str, integration: str = "storage", **input: Any) -> Any:
    return api.execute(integration, action, ws, input, integrationAlias=integration)


def test_full_disk_is_507_and_delete_frees_space(api: Api) -> None:
    ws = api.create_workspace("full")
    api.add_integration(ws, "storage", "storage", SCOPE)
    api.add_integration(ws, "kv-store", "kv-store", SCOPE)
    written = []
    for i in range(20):
        resp = run(api, ws, "write_file", path=f"f{i}.bin", content=os.urandom(MIB).hex()[:MIB])
        if resp.status_code != 200:
            break
        written.append(f"f{i}.bin")
    else:
        pytest.fail("the 8 MiB disk never filled up")
    assert resp.status_code == 507, resp.text
    assert resp.json()["code"] == "INSUFFICIENT_STORAGE"
    failed = f"f{len(written)}.bin"
    assert len(written) >= 2
    # Nothing half-written: the failed path has no file; reads and listings still work.
    assert run(api, ws, "read_file", path=failed).json()["details"]["reason"] == "FILE_NOT_FOUND"
    listed = run(api, ws, "list_files").json()["output"]["files"]
    assert sorted(f["path"] for f in listed) == sorted(written)
    # Overwriting an existing file fails the same way and keeps the old content.
    before = run(api, ws, "read_file", path=written[0]).json()["output"]["content"]
    resp = run(api, ws, "write_file", path=written[0], content="y" * MIB)
    assert resp.status_code == 507, resp.text
    assert run(api, ws, "read_file", path=written[0]).json()["output"]["content"] == before
    # Deleting still works and frees the space for the next write.
    for path in written[:2]:
        resp = run(api, ws, "delete_file", path=path)
        assert resp.status_code == 200 and resp.json()["output"]["deleted"] is True, resp.text
    resp = run(api, ws, "write_file", path="again.bin", content="z" * MIB)
    assert resp.status_code == 200, resp.text


def test_disk_full_is_recognised_through_every_layer() -> None:
    import errno
    import sqlite3

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert is_disk_full(full)
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
