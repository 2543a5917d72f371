"""The scale-out path in ``bench/run`` (group ``postgres``): cubby on PostgreSQL, 1 and 2
processes, next to the ceiling app with 1 and 2 workers and to PostgreSQL's own INSERT rate;
blob-sized bodies through the S3 protocol (moto) next to the local folder.

- Each worker count starts cubby on a fresh schema of the run's database
  (``CUBBY_DATABASE_URL``) and the ceiling with the same worker count; every workload runs
  against both back to back (``Pass.paired``).
- ``pgbench`` inserts the row cubby's ``put`` / 4 KiB ``write_file`` commits, prepared, with
  wrk's connection count: what PostgreSQL itself does with these writes.
- The gain from 1 to 2 processes is compared with the ceiling's own gain in the same run (the
  load generator shares the 2 cores, so the ceiling's gain is the fair yardstick).
- S3: ``CUBBY_STORAGE_INLINE_MAX_BYTES=0`` sends every 4 KiB body to the file store; the same
  server shape on a local folder is the baseline. moto is a Python emulator of S3, so these
  rows measure moto as much as cubby.
"""

from __future__ import annotations

import secrets
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import workloads as w
from lib import CONNECTIONS, Cubby, LoadResult, cubby_server
from peers import ceiling_server, pgbench_rows
from report import Gain, Pair

from backends import S3_ENV, moto_bucket, postgres_database, schemas

if TYPE_CHECKING:
    from suite import Bench

GAIN_TARGET = 0.9


def _cubby(stack: ExitStack, workers: int, env: dict[str, str]) -> tuple[Cubby, str]:
    cubby = stack.enter_context(cubby_server(workers, env={**w.SERVER_ENV, **env}))
    ws = w.create_workspace(cubby, with_storage=True)
    w.prepare_kv(cubby, ws)
    w.prepare_files(cubby, ws)
    return cubby, ws


def postgres_pass(bench: Bench, postgres_url: str, worker_counts: list[int]) -> None:
    from suite import Pass

    print("# PostgreSQL (scale-out path)", flush=True)
    by_workers: dict[int, dict[str, tuple[LoadResult, LoadResult]]] = {}
    with ExitStack() as stack:
        db_url = stack.enter_context(postgres_database(postgres_url))
        db_urls = schemas(db_url)
        for workers in worker_counts:
            with ExitStack() as inner:
                secret = secrets.token_hex(32)
                cubby, ws = _cubby(inner, workers, {"CUBBY_DATABASE_URL": next(db_urls),
                                                    "CUBBY_SECRET_KEY": secret})
                p = Pass(bench, workers, cubby, ws, inner.enter_context(ceiling_server(workers)))
                tag = f"PostgreSQL, {p.tag}"  # vs_ceiling adds the worker tag itself
                bench.warm(cubby.base_url, w.kv_get(cubby, ws))
                bench.warm(cubby.base_url, w.kv_put(cubby, ws))
                rows: dict[str, tuple[LoadResult, LoadResult]] = {}
                for name, req, target in (
                    ("kv get (hit)", w.kv_get(cubby, ws), 0.4),
                    ("kv put (durable)", w.kv_put(cubby, ws), 0.25),
                    ("kv add_to_list (durable)", w.kv_add_to_list(cubby, ws), None),
                    ("storage write_file 4 KiB", w.write_file(cubby, ws), None),
                ):
                    result = p.vs_ceiling(f"{name} [PostgreSQL]", req, target)
                    rows[name] = (result, bench.pairs[-1].baseline)
                by_workers[workers] = rows
                for row, name, req in (
                    ("kv row", "kv put (durable)", w.kv_put(cubby, ws)),
                    ("4 KiB file row", "storage write_file 4 KiB", w.write_file(cubby, ws)),
                ):
                    base = pgbench_rows(db_url, row, bench.duration, CONNECTIONS)
                    bench.results.append(base)
                    print(f"  {base.name:<44} {base.rps:>9,.0f} req/s", flush=True)
                    result = bench.measure(f"cubby {name} [{tag}] vs pgbench", cubby.base_url,
                                           req)
                    bench.pairs.append(Pair(f"{name} [{tag}]", result,
                                            f"pgbench prepared INSERT ({row})", base))
    if 1 in by_workers and 2 in by_workers:
        for name in ("kv get (hit)", "kv put (durable)"):
            (c1, k1), (c2, k2) = by_workers[1][name], by_workers[2][name]
            bench.gains.append(Gain(f"{name} [PostgreSQL]", c1, c2, k1, k2, GAIN_TARGET))


def s3_pass(bench: Bench) -> None:
    """4 KiB bodies forced out of the database row: S3 (moto) against the local folder."""
    print("# blob-sized bodies: S3 protocol (moto) vs local folder, 1 worker", flush=True)
    with ExitStack() as stack:
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-s3-")))
        files_url = stack.enter_context(moto_bucket(log_dir))
        blob = {"CUBBY_STORAGE_INLINE_MAX_BYTES": "0"}
        local, local_ws = _cubby(stack, 1, blob)
        s3, s3_ws = _cubby(stack, 1, {**blob, **S3_ENV, "CUBBY_FILES_URL": files_url})
        for name, make in (("write_file 4 KiB", w.write_file), ("read_file 4 KiB", w.read_file)):
            base: list[LoadResult] = []
            runs: list[LoadResult] = []
            for i in (1, 2):
                base.append(bench.measure(f"cubby {name} [blob, local folder] #{i}",
                                          local.base_url, make(local, local_ws)))
                runs.append(bench.measure(f"cubby {name} [blob, S3 via moto] #{i}",
                                          s3.base_url, make(s3, s3_ws)))
            bench.pairs.append(Pair(f"storage {name}, blob body on S3 (moto)",
                                    LoadResult.merge(runs), "same, local folder",
                                    LoadResult.merge(base)))

