"""Issue 24, acceptance 2: a backup taken while 8 clients write (appends, puts, overwrites of
files stored in the blob store) restores to the state of one moment: every list a prefix of
the final one, every file's row and body in agreement, and, per client, the list, the key and
the file no further apart than one step of its write sequence."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core.files import etag_of
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.backends import server_env, settings_for
from tests.helpers import Api, cubby_cli, live_server

CLIENTS = 8
BODY = 70_000  # above the default inline limit: every overwrite swaps a blob and deletes one


def _body(client: int, n: int) -> bytes:
    head = f"{client}:{n}:".encode()
    return head + bytes((client + n + j) % 251 for j in range(BODY - len(head)))


def _writer(base: str, key: str, ws: str, client: int, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=30) as http:
        api = Api(http, key)
        n = 0
        while not stop.is_set():
            api.output("kv-store", "add_to_list", ws, {"key": f"log-{client}", "value": n})
            api.output("kv-store", "put", ws, {"key": f"last-{client}", "value": n})
            body = base64.b64encode(_body(client, n)).decode()
            api.output(
                "storage",
                "write_file",
                ws,
                {"path": f"f-{client}.bin", "content": body, "contentEncoding": "base64"},
            )
            n += 1  # fmt: skip


@pytest.mark.parametrize("combo", ["sqlite+file", "postgres+s3"])
def test_backup_while_eight_clients_write(combo: str, tmp_path: Path) -> None:
    source = settings_for(combo, tmp_path / "source")
    source.data_dir.mkdir(parents=True)
    env = server_env(source)
    dest = tmp_path / "backup.tar"
    with (
        live_server(source.data_dir, env=env) as server,
        httpx.Client(base_url=server.base_url) as http,
    ):
        api = Api(http, server.key)
        ws = api.create_workspace("load")
        api.add_integration(ws, "kv-store", "state", {"persistence": {"scope": "workspace"}})
        api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
        stop = threading.Event()
        writers = [
            threading.Thread(target=_writer, args=(server.base_url, server.key, ws, i, stop))
            for i in range(CLIENTS)
        ]
        for t in writers:
            t.start()
        try:
            time.sleep(3)
            done = cubby_cli("backup", str(dest), env=env, timeout=180)
            time.sleep(1)
        finally:
            stop.set()
            for t in writers:
                t.join(timeout=60)
        assert done.returncode == 0, done.stderr
        final = {
            i: api.output("kv-store", "get", ws, {"key": f"log-{i}"})["value"]
            for i in range(CLIENTS)
        }

    restored = Settings(data_dir=tmp_path / "restored")
    got = cubby_cli("restore", str(dest), "--data-dir", str(restored.data_dir))
    assert got.returncode == 0, got.stderr
    services = build_services(restored)
    try:
        with TestClient(create_app(restored, services)) as client:
            api = Api(client, server.key)
            for i in range(CLIENTS):
                items = api.output("kv-store", "get", ws, {"key": f"log-{i}"})["value"]
                assert items == final[i][: len(items)], f"client {i}: not a prefix"
                assert len(items) < len(final[i]), "the writers went on after the backup"
                last = api.output("kv-store", "get", ws, {"key": f"last-{i}"})["value"]
                file = api.output("storage", "read_file", ws,
                                  {"path": f"f-{i}.bin", "outputEncoding": "base64"})  # fmt: skip
                body = base64.b64decode(file["content"])
                assert file["etag"] == etag_of(body), f"client {i}: row and body disagree"
                n = int(body.split(b":")[1])
                assert body == _body(i, n)
                # one write sequence per client: append n, put n, write file n
                assert len(items) - 2 <= n <= last <= len(items) - 1, (len(items), last, n)
    finally:
        services.close()


def test_a_hold_keeps_the_snapshots_bodies_until_released(tmp_path: Path) -> None:
    """The race the hold closes, made certain: a file is overwritten (its old body deleted by
    the writer) between the snapshot and the body fetch. Another process's hold (a second
    store object on the same folder) must keep the old body readable; once released, the
    orphan sweep removes it."""
    import asyncio

    from cubby.backends.blobs import open_blob_store
    from cubby.backends.snapshot import spec
    from cubby.backends.snapshots import open_snapshot
    from cubby.core import files
    from cubby.core.dataset import holding_deletes
    from tests.backends import new_namespace

    settings = Settings(data_dir=tmp_path / "data")
    services = build_services(settings)
    holder = open_blob_store(settings.resolved_files_url)

    async def main() -> None:
        ns = await new_namespace(services.meta)
        await files.write(services, ns, "a.bin", b"old" * 40_000, "application/octet-stream")
        async with holding_deletes(holder):
            snapshot = await open_snapshot(settings.resolved_database_url)
            try:
                await files.write(services, ns, "a.bin", b"new" * 40_000, "text/plain")
                rows = [r async for batch in snapshot.rows(
                    spec("files"), ["workspace_id", "ns", "path", "blob_key"], None, 10)
                    for r in batch]  # fmt: skip
                (old_key,) = [r[3] for r in rows]
                reader = await services.blobs.open(old_key)
                assert b"".join([c async for c in reader.chunks()]) == b"old" * 40_000
            finally:
                await snapshot.close()
        await asyncio.sleep(1.1)  # the writer's last look at the holds may be a second old
        assert await files.sweep_orphans(services.meta.files, services.blobs, 0) == 1
        assert [k async for k, _ in services.blobs.list_keys(ns.workspace_id)] != [old_key]

    try:
        asyncio.run(main())
    finally:
        holder.close()
        services.close()
