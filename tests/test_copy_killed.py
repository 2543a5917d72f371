"""Issue 24, acceptance 3: `cubby copy` SIGKILLed at random points three times, then run to the
end, leaves nothing missing and nothing doubled (checked by copying the target back and
comparing with plain SQL)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from cubby.backends.postgres.store import parse_url
from cubby.settings import Settings
from tests.backends import server_env, settings_for
from tests.backup_data import dump_folder, dump_sqlite, seed
from tests.helpers import cubby_cli


def _args(source: Settings, target: Settings) -> list[str]:
    return [
        "copy", "--data-dir", str(source.data_dir),
        "--database-url", source.resolved_database_url,
        "--files-url", source.resolved_files_url,
        "--to-database", target.resolved_database_url,
        "--to-files", target.resolved_files_url, "--batch", "10",
    ]  # fmt: skip


def _marks(target: Settings) -> dict[str, str]:
    async def read() -> dict[str, str]:
        conn = await asyncpg.connect(parse_url(target.database_url)[0])
        try:
            if await conn.fetchval("SELECT to_regclass('copy_progress') IS NULL"):
                return {}
            rows = await conn.fetch("SELECT name, value FROM copy_progress WHERE name LIKE 't%'")
            return {r[0]: r[1] for r in rows}
        finally:
            await conn.close()

    return asyncio.run(read())


def _wait_for_a_batch(
    target: Settings, proc: subprocess.Popen[bytes], before: dict[str, str]
) -> None:
    """Until this run has committed a batch (the marks moved)."""
    deadline = time.monotonic() + 120
    while _marks(target) == before:
        assert proc.poll() is None and time.monotonic() < deadline, "no batch committed"
        time.sleep(0.02)


def test_copy_killed_three_times_then_finished(tmp_path: Path) -> None:
    source = Settings(data_dir=tmp_path / "source")
    seed(source, n_keys=400, n_files=60, big_bytes=2_000_000)
    target = settings_for("postgres+file", tmp_path / "target")
    target.data_dir.mkdir(parents=True)
    env = {**os.environ, **server_env(target), "CUBBY_DATABASE_URL": "", "CUBBY_FILES_URL": ""}
    rng = random.Random(24)
    for _ in range(3):
        before = _marks(target)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cubby", *_args(source, target)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_a_batch(target, proc, before)  # it has committed a batch: kill it mid-way
        # Soon after a batch: on a quiet machine the whole pass takes about 3 s, so a later
        # kill could come after the copy had finished by itself.
        time.sleep(rng.uniform(0.0, 0.05))
        assert proc.poll() is None, "the copy finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done = cubby_cli(*_args(source, target), env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "verified" in done.stdout, done.stdout
    assert "continued an interrupted copy" in done.stdout, done.stdout  # the kills hit a pass

    back = Settings(data_dir=tmp_path / "back")
    back.data_dir.mkdir()
    again = cubby_cli(*_args(target, back), env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert dump_sqlite(back.data_dir / "cubby.db") == dump_sqlite(source.data_dir / "cubby.db")
    assert dump_folder(back.data_dir / "files") == dump_folder(source.data_dir / "files")
