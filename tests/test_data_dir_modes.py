"""Data files are private (issue 16, item 10): after a fresh start under umask 022 the data dir
and every folder in it are 0700 and every file 0600; a looser existing data dir is tightened at
start with a warning."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import cubby_cli, live_server


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        if path.name.startswith("server-") and path.suffix == ".log":
            continue  # the test harness's own log of the server's output
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_fresh_start_under_umask_022_makes_private_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (
        umask(0o022),
        live_server(data) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        api = server.api(client)
        ws = api.create_workspace("modes")
        api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
        api.output("storage", "write_file", ws, {"path": "big.txt", "content": "b" * 100_000})
        api.output("storage", "get_download_url", ws, {"path": "big.txt"})  # makes the secret
        found = modes(data)
    names = set(found)
    assert {".", "cubby.db", "cubby.db-wal", "cubby.db-shm", "files", "secret_key"} <= names
    assert any(name.startswith("files/") and (data / name).is_file() for name in names)
    for name, mode in found.items():
        expected = 0o700 if (data / name).is_dir() else 0o600
        assert mode == expected, f"{name}: {mode:o}"


def test_existing_loose_data_dir_is_tightened_with_a_warning(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"CUBBY_DATA_DIR": str(data)}
    with umask(0o022):
        assert (
            cubby_cli("api-keys", "create", "--name", "a", "--create-data-dir", env=env).returncode
            == 0
        )
        os.chmod(data, 0o755)
        os.chmod(data / "cubby.db", 0o644)
        done = cubby_cli("api-keys", "list", env=env)
    assert done.returncode == 0, done.stderr
    assert "was open to other users (mode 755); changed it to 700" in done.stderr
    assert "(mode 644); changed it to 600" in done.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "cubby.db").stat().st_mode) == 0o600
