"""Misconfigured backends: `cubby` prints one clear line on stderr and exits non-zero, never a
traceback. Runs the real CLI as a subprocess; needs no PostgreSQL or S3 (the failures are the
point), and nothing it contacts leaves the loopback interface."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends import S3_ENV, moto
from tests.helpers import cubby_cli, free_port

# Simulates an install without the optional dependency: `import asyncpg` raises ImportError.
WITHOUT_ASYNCPG = (
    "import sys; sys.modules['asyncpg'] = None; from cubby.cli import main; main(prog_name='cubby')"
)


def one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cubby_cli(
        "serve", "--data-dir", str(tmp_path), "--port", str(free_port()), *args, env=S3_ENV
    )


def test_unknown_database_scheme(tmp_path: Path) -> None:
    result = serve(tmp_path, "--database-url", "mysql://root@127.0.0.1/cubby")
    one_clear_line(result, "mysql", "CUBBY_DATABASE_URL", "postgresql://")


def test_unknown_files_scheme(tmp_path: Path) -> None:
    result = serve(tmp_path, "--files-url", "ftp://127.0.0.1/files")
    one_clear_line(result, "ftp", "CUBBY_FILES_URL", "s3://")


def test_unreachable_postgres(tmp_path: Path) -> None:
    url = f"postgresql://cubby:hunter2@127.0.0.1:{free_port()}/cubby"
    line = one_clear_line(serve(tmp_path, "--database-url", url), "PostgreSQL", "127.0.0.1")
    assert "hunter2" not in line  # the password never reaches a log


def test_unreachable_postgres_in_key_commands(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/cubby"
    for args in (("api-keys", "list"), ("api-keys", "create", "--name", "x")):
        result = cubby_cli(*args, "--data-dir", str(tmp_path), "--database-url", url)
        one_clear_line(result, "PostgreSQL")


def test_bad_pool_size(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/cubby?pool_size=zero"
    one_clear_line(serve(tmp_path, "--database-url", url), "pool_size")


def test_missing_asyncpg_names_the_install_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_ASYNCPG,
            "serve",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            "postgresql://postgres@127.0.0.1:5432/cubby",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    one_clear_line(result, "asyncpg", "pip install 'cubby[postgres]'")


def test_sqlite_default_never_imports_asyncpg(tmp_path: Path) -> None:
    """The embedded default works on an install without the PostgreSQL extra."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_ASYNCPG,
            "api-keys",
            "create",
            "--name",
            "k",
            "--create-data-dir",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "files_url",
    [
        "s3://cubby/files?endpoint=http://127.0.0.1:{port}&region=us-east-1",
        "s3:///files?endpoint=http://127.0.0.1:{port}",
    ],
    ids=["nothing-listening", "no-bucket"],
)
def test_unusable_s3(tmp_path: Path, files_url: str) -> None:
    result = serve(tmp_path, "--files-url", files_url.format(port=free_port()))
    one_clear_line(result, "S3")


def test_missing_bucket(tmp_path: Path) -> None:
    endpoint = moto().endpoint
    result = serve(tmp_path, "--files-url", f"s3://no-such-bucket/files?endpoint={endpoint}")
    one_clear_line(result, "CUBBY_FILES_URL", "no-such-bucket")
