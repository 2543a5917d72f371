"""Atomic overwrite against a real server (2 worker processes, real sockets): while one client
rewrites a file between two different 1 MiB contents 200 times, concurrent readers - through
read_file and through a download URL - only ever see one of the two contents, whole, with the
size and etag that belong to it."""

from __future__ import annotations

import hashlib
import random
import string
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from tests.helpers import LiveServer, live_server

pytestmark = pytest.mark.slow

SIZE = 1024 * 1024
REWRITES = 200
READERS = 1


def content(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=SIZE))


def etag(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("storage-atomic")
    with live_server(data_dir, workers=2) as server:
        yield server


def test_readers_see_old_or_new_never_a_mix(server: LiveServer) -> None:
    versions = {content(1): "A", content(2): "B"}
    a, b = list(versions)
    assert a[:100] != b[:100] and a[-100:] != b[-100:]
    etags = {etag(text): name for text, name in versions.items()}
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        api = server.api(client)
        ws = api.create_workspace("atomic")
        api.add_integration(ws, "storage", "files", {"persistence": {"scope": "workspace"}})
        api.output("storage", "write_file", ws, {"path": "doc.txt", "content": a})
        url = api.output("storage", "get_download_url", ws, {"path": "doc.txt"})["url"]

    done = threading.Event()
    seen: Counter[str] = Counter()
    problems: list[str] = []
    lock = threading.Lock()

    def record(name: str | None, detail: str) -> None:
        with lock:
            if name is None:
                problems.append(detail)
            else:
                seen[name] += 1

    # Encoded once: the test process's JSON work must not be what paces the run.
    bodies = [
        msgspec.json.encode(
            {
                "integrationName": "storage",
                "actionName": "write_file",
                "workspaceId": ws,
                "input": {"path": "doc.txt", "content": text},
            }
        )
        for text in (b, a)
    ]

    def writer() -> None:
        try:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                headers = {**server.api(client).headers(), "Content-Type": "application/json"}
                for i in range(REWRITES):
                    resp = client.post(
                        "/api/v1/actions/execute", content=bodies[i % 2], headers=headers
                    )
                    out = msgspec.json.decode(resp.content)["output"]
                    text = b if i % 2 == 0 else a
                    if out["etag"] != etag(text) or out["size"] != SIZE:
                        record(None, f"write {i} answered {out}")
        except Exception as exc:  # reported below, never swallowed
            record(None, f"writer failed: {exc!r}")
        finally:
            done.set()

    def api_reader() -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            api = server.api(client)
            while not done.is_set():
                resp = api.execute("storage", "read_file", ws, {"path": "doc.txt"})
                if resp.status_code != 200:
                    record(None, f"read_file {resp.status_code}: {resp.text[:200]}")
                    continue
                out = msgspec.json.decode(resp.content)["output"]
                name = versions.get(out["content"])
                if name is None or etags.get(out["etag"]) != name or out["size"] != SIZE:
                    record(None, f"read_file saw a mix: etag {out['etag']}, size {out['size']}")
                else:
                    record(name, "")

    def url_reader() -> None:
        with httpx.Client(timeout=60) as client:
            while not done.is_set():
                resp = client.get(url)
                if resp.status_code != 200:
                    record(None, f"download {resp.status_code}: {resp.text[:200]}")
                    continue
                name = versions.get(resp.text)
                tag = resp.headers["etag"].strip('"')
                if (
                    name is None
                    or etags.get(tag) != name
                    or resp.headers["content-length"] != str(SIZE)
                ):
                    record(None, f"download saw a mix: etag {tag}")
                else:
                    record(name, "")

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=api_reader) for _ in range(READERS)]
    threads += [threading.Thread(target=url_reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not problems, problems[:5]
    assert sum(seen.values()) >= 20, seen
    assert set(seen) == {"A", "B"}, seen
    # Each overwrite dropped the body it replaced: one body is left for the one file.
    bodies = [p for p in (server.data_dir / "files").rglob("*") if p.is_file()]
    assert len(bodies) == 1, bodies
