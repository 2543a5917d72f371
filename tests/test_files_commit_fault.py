"""A file write whose index commit has an unknown outcome never loses the file (issue 16, 1).

A TCP proxy between cubby and the real PostgreSQL cuts the connection of the file index upsert
right after forwarding its commit (the server commits, the reply is lost) or right before it
(the server rolls back). Either way each of 20 overwrites of a blob-sized file ends with the
file readable as its old or its new content, and the orphan sweep, its grace period shortened
by ``CUBBY_ORPHAN_GRACE_SECONDS``, deletes every unreferenced body and no referenced one.

The same core code path on SQLite (and on PostgreSQL without the proxy) runs against a file
index that commits and then raises, or raises without committing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.backends.base import FileIndex, FileRecord
from cubby.core import files, keys
from cubby.core.scopes import Namespace
from cubby.services import Services
from cubby.settings import Settings
from cubby.wiring import build_services
from tests import backends
from tests.helpers import Api
from tests.pg_proxy import pg_fault_proxy

INLINE_MAX = 1024
OVERWRITES = 20
SCOPE = {"persistence": {"scope": "workspace"}}
Fault = Literal["before", "after"]
FILE_PUT_SQL = "cubby_file_put("  # what the PostgreSQL file index's upsert calls


def content(i: int) -> str:
    """Blob-sized (above the inline limit) and different for every write."""
    return f"version {i:03d} ".ljust(INLINE_MAX * 3, chr(ord("a") + i % 26))


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[tuple[Api, Services]]:
    services = build_services(settings)
    try:
        _, plain = asyncio.run(keys.create_key(services.meta, "tests", None, None))
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
            yield Api(client, plain), services
    finally:
        services.close()


def on_loop(api: Api, fn: Any) -> Any:
    return api.client.portal.call(fn)


def blob_keys(api: Api, services: Services) -> set[str]:
    async def collect() -> set[str]:
        return {key async for key, _ in services.blobs.list_keys()}

    return set(on_loop(api, collect))


def write(api: Api, ws: str, text: str) -> int:
    resp = api.execute("storage", "write_file", ws, {"path": "doc.txt", "content": text})
    if resp.status_code != 200:
        # A fault injected into the commit is an internal error; a connection cut under it
        # is a lost database connection (503, retry), never an unexplained 500.
        assert resp.status_code in (500, 503), resp.text
        assert resp.json()["code"] in ("INTERNAL_ERROR", "UNAVAILABLE")
    return resp.status_code


def read(api: Api, ws: str) -> str:
    return str(api.output("storage", "read_file", ws, {"path": "doc.txt"})["content"])


def overwrite_under_faults(api: Api, services: Services, fault: Fault, arm: Any) -> None:
    """20 overwrites, each with its commit faulted; the file is never missing, a write that
    committed is acknowledged, and the sweep keeps exactly the referenced body."""
    ws = api.create_workspace("fault")
    api.add_integration(ws, "storage", "files", SCOPE)
    assert write(api, ws, content(0)) == 200
    current = content(0)
    for i in range(1, OVERWRITES + 1):
        with arm():
            status = write(api, ws, content(i))
        now = read(api, ws)  # raises (500 "missing from the blob store") if the body is gone
        assert now in (current, content(i)), now[:20]
        if fault == "after":
            # The commit landed and only its reply was lost: cubby reads the row back and
            # acknowledges the write.
            assert status == 200 and now == content(i)
        else:
            assert status in (500, 503) and now == current
        current = now
    orphans = blob_keys(api, services)
    assert len(orphans) == OVERWRITES + 1  # one referenced body, 20 left for the sweep

    kept = on_loop(api, lambda: files.sweep_once(services))
    assert kept == 0  # the default grace period: every orphan is young, none goes yet
    short = dataclasses.replace(
        services, settings=services.settings.with_overrides(orphan_grace_seconds=0.0)
    )
    assert on_loop(api, lambda: files.sweep_once(short)) == OVERWRITES
    assert read(api, ws) == current
    assert len(blob_keys(api, services)) == 1


# -- the real thing: a connection cut around COMMIT on PostgreSQL -------------------------------


@pytest.mark.parametrize("fault", ["after", "before"])
def test_postgres_connection_cut_at_commit(tmp_path: Path, fault: Fault) -> None:
    upstream = backends.postgres_url()
    with pg_fault_proxy(upstream, trigger=FILE_PUT_SQL) as proxy:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=proxy.url,
            storage_inline_max_bytes=INLINE_MAX,
        )
        with serving(settings) as (api, services):

            @contextlib.contextmanager
            def arm() -> Iterator[None]:
                cuts = proxy.cuts
                proxy.mode = fault
                try:
                    yield
                finally:
                    proxy.mode = None
                assert proxy.cuts == cuts + 1  # the fault really hit this write

            overwrite_under_faults(api, services, fault, arm)


# -- the same code path on every metadata backend, with an index that fails around commit --------


class FaultyIndex:
    """The real file index, whose next ``put`` fails before committing or after."""

    def __init__(self, real: FileIndex) -> None:
        self.real = real
        self.fault: Fault | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def put(self, ns: Namespace, record: FileRecord, **conditions: Any) -> str | None:
        fault, self.fault = self.fault, None
        if fault == "before":
            raise ConnectionResetError("connection lost before the commit")
        replaced = await self.real.put(ns, record, **conditions)
        if fault == "after":
            raise ConnectionResetError("connection lost after the commit")
        return replaced


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
@pytest.mark.parametrize("fault", ["after", "before"])
def test_unknown_commit_outcome_never_loses_the_file(
    tmp_path: Path, database: str, fault: Fault
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=backends.postgres_url() if database == "postgres" else "",
        storage_inline_max_bytes=INLINE_MAX,
    )
    with serving(settings) as (api, services):
        index = FaultyIndex(services.meta.files)
        services.meta.files = index

        @contextlib.contextmanager
        def arm() -> Iterator[None]:
            index.fault = fault
            yield
            assert index.fault is None

        overwrite_under_faults(api, services, fault, arm)
