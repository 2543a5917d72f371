"""The test suite's own promises: PostgreSQL tests run whenever a server answers at the default
local URL, and where none answers they skip with one line saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import backends
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fresh_postgres_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = backends._postgres, backends._postgres_error
    backends._postgres, backends._postgres_error = None, None
    monkeypatch.delenv(backends.POSTGRES_ENV, raising=False)
    yield
    backends._postgres, backends._postgres_error = saved


def test_no_server_at_the_default_url_skips_with_the_reason(
    fresh_postgres_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    monkeypatch.setattr(backends, "DEFAULT_POSTGRES_URL", nowhere)
    monkeypatch.delenv(backends.REQUIRE_ALL_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        backends.postgres()
    message = str(skipped.value)
    assert f"no PostgreSQL server answers at {nowhere}" in message
    assert backends.POSTGRES_ENV in message  # how to point the tests elsewhere


def test_the_default_url_is_used_when_a_server_answers(fresh_postgres_state: None) -> None:
    """Where a server answers at the default URL (CI: CUBBY_TEST_REQUIRE_ALL=1 says one does),
    no setting is needed to use it."""
    run = backends.postgres()  # skips here only where no server answers and none is required
    assert run.admin_url == backends.DEFAULT_POSTGRES_URL
    run._drop_database()


@pytest.mark.slow
def test_skips_are_summarised_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != backends.REQUIRE_ALL_ENV}
    env[backends.POSTGRES_ENV] = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/test_smoke.py",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgres",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert len(skipped) == 1, result.stdout
    assert skipped[0].startswith("skipped 4: cannot use PostgreSQL at CUBBY_TEST_POSTGRES_URL")
    assert not any(line.startswith("SKIPPED [") for line in lines), result.stdout
