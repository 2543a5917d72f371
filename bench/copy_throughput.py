"""`cubby copy` throughput (issue 24, acceptance 6): the seeded installation of the issue (3
workspaces, end users, every scope, 5,000 keys with lists and expiring keys, 2,000 files with
binary bodies and one of 20 MiB, API keys, MCP servers) copied SQLite + folder -> PostgreSQL +
S3, then back to a fresh SQLite + folder, each timed end to end (process start, the copy, the
verification that reads every body back). Named copy_throughput.py: a bench/copy.py would
shadow the standard library's copy module for every script run from bench/.

    .venv/bin/python bench/copy_throughput.py [--keys 5000] [--files 2000] [--big-mib 20]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

PostgreSQL: a database made for the run and dropped after. S3: moto's standalone server on a
free loopback port (a Python emulator: S3 numbers measure moto as much as cubby). Items are
rows plus bodies; MiB are the bodies in the file store (small bodies live inline in rows).
The seed goes through the HTTP API in process (tests/backup_data.py), so the installation is
the one the round-trip test checks, only bigger.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from lib import machine_description  # noqa: E402
from tests.backup_data import dump_folder, dump_sqlite, seed  # noqa: E402

from backends import DEFAULT_POSTGRES, S3_ENV, moto_bucket, postgres_database  # noqa: E402
from cubby.settings import Settings  # noqa: E402

_DONE = re.compile(r"copied (\d+) rows and (\d+) bodies \(([\d.]+) MiB\) in ([\d.]+) s")


def run_copy(source: Settings, to_db: str, to_files: str) -> dict[str, float]:
    argv = [
        sys.executable, "-m", "cubby", "copy",
        "--data-dir", str(source.data_dir),
        "--database-url", source.resolved_database_url,
        "--files-url", source.resolved_files_url,
        "--to-database", to_db, "--to-files", to_files,
    ]  # fmt: skip
    env = {**os.environ, **S3_ENV, "CUBBY_DATABASE_URL": "", "CUBBY_FILES_URL": ""}
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"cubby copy failed: {done.stderr}")
    found = _DONE.search(done.stdout)
    assert found is not None, done.stdout
    rows, bodies, mib = int(found[1]), int(found[2]), float(found[3])
    return {"rows": rows, "bodies": bodies, "mib": mib, "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--big-mib", type=int, default=20)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cubby-copy-bench-") as tmp:
        root = Path(tmp)
        first = Settings(data_dir=root / "first")
        started = time.monotonic()
        seed(first, args.keys, args.files, args.big_mib * 1024 * 1024)
        print(
            f"seeded {args.keys} keys and {args.files} files in {time.monotonic() - started:.0f} s"
        )
        last = Settings(data_dir=root / "last")
        last.data_dir.mkdir()
        with postgres_database(args.postgres_url) as db, moto_bucket(root) as bucket:
            os.environ.update(S3_ENV)
            there = run_copy(first, db, bucket)
            middle = Settings(data_dir=root / "middle", database_url=db, files_url=bucket)
            middle.data_dir.mkdir()
            back = run_copy(middle, last.resolved_database_url, last.resolved_files_url)
        equal = dump_sqlite(first.data_dir / "cubby.db") == dump_sqlite(
            last.data_dir / "cubby.db"
        ) and dump_folder(first.data_dir / "files") == dump_folder(last.data_dir / "files")
    print(machine_description())
    print("| direction | rows | bodies | body MiB | seconds | items/s | MiB/s |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, r in (
        ("SQLite+folder -> PostgreSQL+S3", there),
        ("PostgreSQL+S3 -> SQLite+folder", back),
    ):
        items = r["rows"] + r["bodies"]
        print(
            f"| {name} | {r['rows']:,.0f} | {r['bodies']:,.0f} | {r['mib']:.1f} | {r['wall']:.1f} "
            f"| {items / r['wall']:,.0f} | {r['mib'] / r['wall']:.1f} |"
        )
    print(f"round trip byte-for-byte equal: {equal}")


if __name__ == "__main__":
    main()
