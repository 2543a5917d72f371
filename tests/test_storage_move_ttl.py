"""Storage beyond the seed: move_file, delete_folder, ifMatch/ifNoneMatch and file TTL
(issue 14, points 2, 4 and 6 for files). Time moves through cubby.core.clock, never by sleeping."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from cubby.core import clock, files
from cubby.core.scopes import namespace_for
from cubby.services import Services
from tests.helpers import Api
from tests.test_storage_files import INLINE_MAX, SCOPE, blob_keys, failure, on_app_loop, read, write

pytestmark = pytest.mark.conformance

BIG = "B" * (INLINE_MAX + 1)


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("files2")
    api.add_integration(workspace, "storage", "files", SCOPE)
    return workspace


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    yield
    clock.set_offset(0)


def move(api: Api, ws: str, src: str, dst: str, **extra: Any) -> dict[str, Any]:
    return dict(api.output("storage", "move_file", ws, {"from": src, "to": dst, **extra}))


def paths(api: Api, ws: str, prefix: str = "") -> list[str]:
    page = api.output("storage", "list_files", ws, {"prefix": prefix})
    return [f["path"] for f in page["files"]]


# -- move_file ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["small", BIG], ids=["inline", "blob"])
def test_move_renames_without_copying(api: Api, ws: str, services: Services, content: str) -> None:
    written = write(api, ws, "a/old.txt", content)
    keys = blob_keys(api, services, ws + "/")
    moved = move(api, ws, "a/old.txt", "b/new.txt")
    assert moved == {"from": "a/old.txt", "to": "b/new.txt", "etag": written["etag"]}
    assert paths(api, ws) == ["b/new.txt"]
    assert read(api, ws, "b/new.txt")["content"] == content
    assert failure(api, "read_file", ws, {"path": "a/old.txt"})["details"]["reason"] == (
        "FILE_NOT_FOUND"
    )
    assert blob_keys(api, services, ws + "/") == keys  # the same body, not a copy


def test_move_conflicts_and_missing_source(api: Api, ws: str, services: Services) -> None:
    write(api, ws, "src.txt", "source")
    write(api, ws, "dst.txt", BIG)
    err = failure(api, "move_file", ws, {"from": "src.txt", "to": "dst.txt"})
    assert err["code"] == "ACTION_FAILED" and err["details"]["reason"] == "CONFLICT"
    assert read(api, ws, "src.txt")["content"] == "source"
    assert read(api, ws, "dst.txt")["content"] == BIG
    err = failure(api, "move_file", ws, {"from": "nope.txt", "to": "x.txt"})
    assert err["details"]["reason"] == "FILE_NOT_FOUND"
    # overwrite replaces the target and drops its body after the commit
    assert len(blob_keys(api, services, ws + "/")) == 1
    move(api, ws, "src.txt", "dst.txt", overwrite=True)
    assert paths(api, ws) == ["dst.txt"]
    assert read(api, ws, "dst.txt")["content"] == "source"
    assert blob_keys(api, services, ws + "/") == []
    # onto itself: nothing changes
    assert move(api, ws, "dst.txt", "dst.txt")["to"] == "dst.txt"
    err = failure(api, "move_file", ws, {"from": "dst.txt", "to": "../x"})
    assert err["code"] == "VALIDATION_ERROR" and err["details"]["field"] == "input.to"


def test_move_under_concurrent_readers(api: Api, ws: str) -> None:
    """A reader looking at the old path, then the new, always finds the file at one of them."""
    write(api, ws, "p0.txt", BIG)
    stop = threading.Event()
    missed: list[int] = []
    seen = [0]

    def reader() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            found = False
            for n in range(2):  # the file is at pN or pN+1 while a move is in flight
                for k in range(n, 41):
                    r = api.execute("storage", "read_file", ws, {"path": f"p{k}.txt"})
                    if r.status_code == 200:
                        assert r.json()["output"]["content"] == BIG
                        found = True
                        break
                if found:
                    break
            if not found:
                missed.append(i)
            seen[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for k in range(40):
        move(api, ws, f"p{k}.txt", f"p{k + 1}.txt")
    stop.set()
    for t in threads:
        t.join()
    assert missed == [] and seen[0] > 0
    assert paths(api, ws) == ["p40.txt"]


# -- delete_folder ------------------------------------------------------------------------------


def test_delete_folder_of_3000_files(api: Api, ws: str, services: Services) -> None:
    ns_paths = [f"big/{i:05d}.txt" for i in range(3000)]

    async def fill() -> None:
        ns = namespace_for(ws, SCOPE, None)

        async def one(i: int, path: str) -> None:
            body = BIG.encode() if i % 500 == 0 else b"x"
            await files.write(services, ns, path, body, "text/plain")

        for start in range(0, len(ns_paths), 100):  # concurrent writes share commits
            chunk = ns_paths[start : start + 100]
            await asyncio.gather(*(one(start + i, p) for i, p in enumerate(chunk)))

    on_app_loop(api, fill)
    write(api, ws, "big-sibling.txt", "stays")  # shares the prefix "big" but not "big/"
    write(api, ws, "other/keep.txt", "stays")
    assert len(blob_keys(api, services, ws + "/")) == 6
    out = api.output("storage", "delete_folder", ws, {"prefix": "big/"})
    assert out == {"prefix": "big/", "deleted": 3000}
    assert paths(api, ws) == ["big-sibling.txt", "other/keep.txt"]
    assert blob_keys(api, services, ws + "/") == []
    again = api.output("storage", "delete_folder", ws, {"prefix": "big/"})
    assert again["deleted"] == 0
    err = failure(api, "delete_folder", ws, {"prefix": "other"})
    assert err["code"] == "VALIDATION_ERROR" and err["details"]["field"] == "input.prefix"
    assert paths(api, ws) == ["big-sibling.txt", "other/keep.txt"]


# -- conditional writes -------------------------------------------------------------------------


def test_if_match_and_if_none_match(api: Api, ws: str, services: Services) -> None:
    first = write(api, ws, "c.txt", BIG, ifNoneMatch="*")
    err = failure(api, "write_file", ws, {"path": "c.txt", "content": "x", "ifNoneMatch": "*"})
    assert err["details"]["reason"] == "CONFLICT"
    assert err["details"]["currentEtag"] == first["etag"]
    second = write(api, ws, "c.txt", BIG + "2", ifMatch=first["etag"])
    # A stale ifMatch changes nothing, and leaves no body behind.
    err = failure(
        api, "write_file", ws, {"path": "c.txt", "content": BIG + "3", "ifMatch": first["etag"]}
    )
    assert err["code"] == "ACTION_FAILED" and err["details"]["reason"] == "CONFLICT"
    assert err["details"]["currentEtag"] == second["etag"]
    assert read(api, ws, "c.txt")["content"] == BIG + "2"
    assert len(blob_keys(api, services, ws + "/")) == 1
    err = failure(api, "delete_file", ws, {"path": "c.txt", "ifMatch": first["etag"]})
    assert err["details"]["reason"] == "CONFLICT"
    assert read(api, ws, "c.txt")["etag"] == second["etag"]
    err = failure(api, "write_file", ws, {"path": "n.txt", "content": "x", "ifMatch": "abc"})
    assert err["details"]["reason"] == "CONFLICT" and err["details"]["currentEtag"] is None
    deleted = api.output("storage", "delete_file", ws, {"path": "c.txt", "ifMatch": second["etag"]})
    assert deleted == {"path": "c.txt", "deleted": True}
    assert paths(api, ws) == []
    assert blob_keys(api, services, ws + "/") == []


def test_compare_and_set_under_concurrency(api: Api, ws: str) -> None:
    """8 writers each append their mark with read-modify-write ifMatch loops: none is lost."""
    write(api, ws, "log.txt", "")

    def worker(n: int) -> None:
        for i in range(5):
            while True:
                cur = read(api, ws, "log.txt")
                body = {
                    "path": "log.txt",
                    "content": cur["content"] + f"{n}.{i};",
                    "ifMatch": cur["etag"],
                }
                r = api.execute("storage", "write_file", ws, body)
                if r.status_code == 200:
                    break
                assert r.json()["details"]["reason"] == "CONFLICT", r.text

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    marks = read(api, ws, "log.txt")["content"].rstrip(";").split(";")
    assert sorted(marks) == sorted(f"{n}.{i}" for n in range(8) for i in range(5))


# -- TTL ----------------------------------------------------------------------------------------


def test_expired_file_reads_as_missing_everywhere(api: Api, ws: str, services: Services) -> None:
    before = clock.now()
    out = write(api, ws, "t/tmp.txt", BIG, expiresInSeconds=1)
    assert out["expiresAt"] is not None
    assert clock.iso(before + 1) <= out["expiresAt"] <= clock.iso(clock.now() + 1)
    write(api, ws, "t/keep.txt", "forever")
    entry = api.output("storage", "list_files", ws, {"prefix": "t/"})["files"]
    assert [(f["path"], f["expiresAt"] is None) for f in entry] == [
        ("t/keep.txt", True),
        ("t/tmp.txt", False),
    ]
    assert read(api, ws, "t/tmp.txt")["expiresAt"] == out["expiresAt"]
    url = api.output("storage", "get_download_url", ws, {"path": "t/tmp.txt"})["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    assert api.client.get("/" + path).status_code == 200

    clock.set_offset(2)  # one second past the expiry
    for action, input in [
        ("read_file", {"path": "t/tmp.txt"}),
        ("get_download_url", {"path": "t/tmp.txt"}),
        ("move_file", {"from": "t/tmp.txt", "to": "t/moved.txt"}),
    ]:
        assert failure(api, action, ws, input)["details"]["reason"] == "FILE_NOT_FOUND", action
    assert api.client.get("/" + path).status_code == 404
    assert paths(api, ws, "t/") == ["t/keep.txt"]
    err = failure(
        api, "write_file", ws, {"path": "t/tmp.txt", "content": "x", "ifMatch": out["etag"]}
    )
    assert err["details"]["reason"] == "CONFLICT"
    assert api.output("storage", "delete_file", ws, {"path": "t/tmp.txt", "ifMatch": None}) == {
        "path": "t/tmp.txt",
        "deleted": False,
    }


def test_sweeper_removes_expired_rows_and_bodies(api: Api, ws: str, services: Services) -> None:
    write(api, ws, "s/big.txt", BIG, expiresInSeconds=1)
    write(api, ws, "s/small.txt", "small", expiresInSeconds=1)
    write(api, ws, "s/later.txt", BIG, expiresInSeconds=3600)
    assert len(blob_keys(api, services, ws + "/")) == 2
    assert on_app_loop(api, lambda: files.sweep_expired(services)) == 0
    clock.set_offset(5)
    # Reads miss them at once; the rows and bodies stay until the sweeper runs.
    assert paths(api, ws, "s/") == ["s/later.txt"]
    assert len(blob_keys(api, services, ws + "/")) == 2
    assert on_app_loop(api, lambda: files.sweep_expired(services)) == 2
    assert len(blob_keys(api, services, ws + "/")) == 1
    assert on_app_loop(api, lambda: files.sweep_expired(services)) == 0
    assert read(api, ws, "s/later.txt")["content"] == BIG


def test_expired_file_is_absent_for_writes(api: Api, ws: str) -> None:
    old = write(api, ws, "e.txt", "old", expiresInSeconds=1)
    write(api, ws, "target.txt", "target", expiresInSeconds=1)
    write(api, ws, "src.txt", "src")
    clock.set_offset(5)
    again = write(api, ws, "e.txt", "new", ifNoneMatch="*")  # the expired file does not count
    assert again["expiresAt"] is None
    assert read(api, ws, "e.txt")["content"] == "new"
    assert old["etag"] != again["etag"]
    move(api, ws, "src.txt", "target.txt")  # an expired target is no conflict
    assert read(api, ws, "target.txt")["content"] == "src"


def test_ttl_bounds(api: Api, ws: str) -> None:
    for bad in (0, -1, 10 * 365 * 24 * 3600 + 1, "10"):
        err = failure(api, "write_file", ws, {"path": "x", "content": "x", "expiresInSeconds": bad})
        assert err["code"] == "VALIDATION_ERROR", bad
        assert err["details"]["field"] == "input.expiresInSeconds"
    assert write(api, ws, "x", "x", expiresInSeconds=10 * 365 * 24 * 3600)["expiresAt"]
