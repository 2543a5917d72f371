"""Storage actions: binary round trips, encodings, content types, listing, deletes, input
errors, and what a failed or interrupted write leaves behind (never a broken file)."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cubby.backends.blobs import BlobStore
from cubby.core import files
from cubby.core.scopes import namespace_for
from cubby.services import Services
from tests.helpers import Api

pytestmark = pytest.mark.conformance
T = TypeVar("T")

INLINE_MAX = 64 * 1024
SCOPE = {"persistence": {"scope": "workspace"}}


@pytest.fixture
def ws(api: Api) -> str:
    workspace = api.create_workspace("files")
    api.add_integration(workspace, "storage", "files", SCOPE)
    return workspace


def write(api: Api, ws: str, path: str, content: str, **input: Any) -> dict[str, Any]:
    return dict(
        api.output("storage", "write_file", ws, {"path": path, "content": content, **input})
    )


def read(api: Api, ws: str, path: str, **input: Any) -> dict[str, Any]:
    return dict(api.output("storage", "read_file", ws, {"path": path, **input}))


def failure(api: Api, action: str, ws: str, input: dict[str, Any]) -> dict[str, Any]:
    resp = api.execute("storage", action, ws, input)
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    assert resp.headers["content-type"] == "application/json"
    return {"status": resp.status_code, **resp.json()}


def on_app_loop(api: Api, fn: Callable[[], Awaitable[T]]) -> T:
    """Run ``fn`` on the app's event loop (a PostgreSQL pool lives there, not in asyncio.run)."""
    return cast(T, api.client.portal.call(fn))


def blob_keys(api: Api, services: Services, prefix: str = "") -> list[str]:
    async def collect() -> list[str]:
        return [key async for key, _ in services.blobs.list_keys(prefix)]

    return on_app_loop(api, collect)


# -- binary round trip ------------------------------------------------------------------------


def test_random_bytes_round_trip_as_base64(api: Api, ws: str) -> None:
    # Inline bodies up to INLINE_MAX, blob store above; the same path switches between both.
    for size in (0, 1, 255, INLINE_MAX, INLINE_MAX + 1, 300_000, 7):
        data = os.urandom(size)
        encoded = base64.b64encode(data).decode()
        out = write(api, ws, "bin/data.bin", encoded, contentEncoding="base64")
        assert out["size"] == size
        assert out["contentType"] == "application/octet-stream"
        got = read(api, ws, "bin/data.bin", outputEncoding="base64")
        assert base64.b64decode(got["content"]) == data, size
        assert got["encoding"] == "base64"
        assert got["size"] == size
        assert got["etag"] == out["etag"]


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048))
def test_any_bytes_round_trip(api: Api, ws: str, data: bytes) -> None:
    write(api, ws, "prop.bin", base64.b64encode(data).decode(), contentEncoding="base64")
    got = read(api, ws, "prop.bin", outputEncoding="base64")
    assert base64.b64decode(got["content"]) == data


@pytest.mark.parametrize("size", [16, 100_000], ids=["inline", "blob"])
def test_binary_read_as_utf8_is_not_utf8(api: Api, ws: str, size: int) -> None:
    data = b"\xff\xfe\x00" + os.urandom(size)
    write(api, ws, "img/logo.png", base64.b64encode(data).decode(), contentEncoding="base64")
    error = failure(api, "read_file", ws, {"path": "img/logo.png"})
    assert error["status"] == 400
    assert error["code"] == "ACTION_FAILED"
    assert error["details"]["reason"] == "NOT_UTF8"
    assert "base64" in error["error"]


def test_text_round_trip_both_ways(api: Api, ws: str) -> None:
    text = "ünïcødé ✓ 😀\n\ttabs and \u0000 NUL are fine in content"
    write(api, ws, "t.txt", text)
    assert read(api, ws, "t.txt")["content"] == text
    got = read(api, ws, "t.txt", outputEncoding="base64")
    assert base64.b64decode(got["content"]).decode() == text
    assert got["size"] == len(text.encode())


def test_line_wrapped_base64_is_accepted(api: Api, ws: str) -> None:
    data = os.urandom(300)
    wrapped = base64.encodebytes(data).decode()  # 76-character lines
    assert "\n" in wrapped
    write(api, ws, "w.bin", wrapped, contentEncoding="base64")
    assert base64.b64decode(read(api, ws, "w.bin", outputEncoding="base64")["content"]) == data


def test_invalid_base64_is_a_validation_error(api: Api, ws: str) -> None:
    for bad in ("%%%%", "abc", "YQ=x", "ü"):
        error = failure(
            api, "write_file", ws, {"path": "x.bin", "content": bad, "contentEncoding": "base64"}
        )
        assert error["code"] == "VALIDATION_ERROR", bad
        assert error["details"]["field"] == "input.content", bad
    assert failure(api, "read_file", ws, {"path": "x.bin"})["details"]["reason"] == (
        "FILE_NOT_FOUND"
    )


def test_default_size_limit(api: Api, ws: str) -> None:
    limit = 25 * 1024 * 1024
    resp = api.execute(
        "storage", "write_file", ws, {"path": "huge.txt", "content": "h" * limit + "h"}
    )
    assert resp.status_code == 413
    assert resp.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert resp.json()["details"]["limit"] == limit
    assert failure(api, "read_file", ws, {"path": "huge.txt"})["details"]["reason"] == (
        "FILE_NOT_FOUND"
    )


# -- content types ----------------------------------------------------------------------------


GUESSES = [
    ("reports/monthly.json", "application/json"),
    ("a.CSV", "text/csv"),
    ("notes.md", "text/markdown"),
    ("page.html", "text/html"),
    ("pic.JPeG", "image/jpeg"),
    ("archive.tar.gz", "application/gzip"),
    ("data.parquet", "application/vnd.apache.parquet"),
    ("README", "application/octet-stream"),
    (".env", "application/octet-stream"),
    ("dir.json/file", "application/octet-stream"),
    ("weird.unknownext", "application/octet-stream"),
]


def test_content_type_is_guessed_from_extension(api: Api, ws: str) -> None:
    for path, expected in GUESSES:
        assert write(api, ws, path, "x")["contentType"] == expected, path
        assert read(api, ws, path)["contentType"] == expected, path


def test_explicit_content_type_wins(api: Api, ws: str) -> None:
    out = write(api, ws, "a.json", "x", contentType="text/plain; charset=utf-8")
    assert out["contentType"] == "text/plain; charset=utf-8"
    assert read(api, ws, "a.json")["contentType"] == "text/plain; charset=utf-8"
    # Overwriting without a type guesses again (the type belongs to the write, not the path).
    assert write(api, ws, "a.json", "x")["contentType"] == "application/json"


def test_invalid_content_type(api: Api, ws: str) -> None:
    for bad in (
        "",
        "text",
        "text/",
        "/plain",
        "text/plain\r\nX-Evil: 1",
        "text/plain; a",
        "ü/x",
        "a/" + "b" * 300,
    ):
        error = failure(
            api, "write_file", ws, {"path": "a.txt", "content": "x", "contentType": bad}
        )
        assert error["code"] == "VALIDATION_ERROR", bad
        assert error["details"]["field"] == "input.contentType", bad


# -- input errors name the field --------------------------------------------------------------


INPUT_ERRORS = [
    ("write_file", {"content": "x"}, "input.path"),
    ("write_file", {"path": "a"}, "input.content"),
    ("write_file", {"path": 1, "content": "x"}, "input.path"),
    ("write_file", {"path": "a", "content": {"x": 1}}, "input.content"),
    (
        "write_file",
        {"path": "a", "content": "x", "contentEncoding": "hex"},
        "input.contentEncoding",
    ),
    ("write_file", {"path": "a", "content": "x", "mode": "append"}, "input.mode"),
    ("read_file", {"path": "a", "outputEncoding": "latin1"}, "input.outputEncoding"),
    ("read_file", {}, "input.path"),
    ("delete_file", {"path": ""}, "input.path"),
    ("list_files", {"limit": 0}, "input.limit"),
    ("list_files", {"limit": "10"}, "input.limit"),
    ("list_files", {"cursor": "%%%"}, "input.cursor"),
    ("list_files", {"prefix": "a\u0000"}, "input.prefix"),
    ("get_download_url", {"path": "a", "expiresInSeconds": 59}, "input.expiresInSeconds"),
    ("get_download_url", {"path": "a", "expiresInSeconds": 3601}, "input.expiresInSeconds"),
]


def test_input_errors_name_the_field(api: Api, ws: str) -> None:
    for action, input, field in INPUT_ERRORS:
        error = failure(api, action, ws, input)
        assert error["status"] == 400, (action, input)
        assert error["code"] == "VALIDATION_ERROR", (action, input)
        assert error["details"]["field"] == field, (action, input)


def test_explicit_null_means_default(api: Api, ws: str) -> None:
    out = write(api, ws, "n.json", "{}", contentType=None, contentEncoding=None)
    assert out["contentType"] == "application/json"
    got = read(api, ws, "n.json", outputEncoding=None)
    assert (got["content"], got["encoding"]) == ("{}", "utf8")
    listed = api.output(
        "storage", "list_files", ws, {"prefix": None, "limit": None, "cursor": None}
    )
    assert [f["path"] for f in listed["files"]] == ["n.json"]
    url = api.output(
        "storage", "get_download_url", ws, {"path": "n.json", "expiresInSeconds": None}
    )
    assert url["url"]


def test_missing_file(api: Api, ws: str) -> None:
    error = failure(api, "read_file", ws, {"path": "nope.txt"})
    assert error["code"] == "ACTION_FAILED"
    assert error["details"] == {"reason": "FILE_NOT_FOUND", "path": "nope.txt"}
    assert api.output("storage", "delete_file", ws, {"path": "nope.txt"}) == {
        "path": "nope.txt",
        "deleted": False,
    }
    error = failure(api, "get_download_url", ws, {"path": "nope.txt"})
    assert error["details"]["reason"] == "FILE_NOT_FOUND"


# -- listing ----------------------------------------------------------------------------------


def test_list_is_sorted_by_code_point_and_paged(api: Api, ws: str) -> None:
    paths = ["b.txt", "a/z.txt", "a/b/c.txt", "A.txt", "é.txt", "z", "a-b", "😀", "\uff41"]
    for p in paths:
        write(api, ws, p, p)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        input: dict[str, Any] = {"limit": 3}
        if cursor:
            input["cursor"] = cursor
        page = api.output("storage", "list_files", ws, input)
        assert len(page["files"]) <= 3
        seen += [f["path"] for f in page["files"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(paths)
    assert pages == 3  # 9 files, 3 per page: the last full page already knows it is last


def test_list_prefix_is_a_string_prefix(api: Api, ws: str) -> None:
    for p in [
        "reports/a.json",
        "reports/sub/b.json",
        "reports-old/c.json",
        "report.txt",
        "x/reports/d.json",
    ]:
        write(api, ws, p, "x")
    listed = api.output("storage", "list_files", ws, {"prefix": "reports/"})
    assert [f["path"] for f in listed["files"]] == ["reports/a.json", "reports/sub/b.json"]
    listed = api.output("storage", "list_files", ws, {"prefix": "report"})
    assert [f["path"] for f in listed["files"]] == [
        "report.txt",
        "reports-old/c.json",
        "reports/a.json",
        "reports/sub/b.json",
    ]
    assert api.output("storage", "list_files", ws, {"prefix": "zzz"})["files"] == []


def test_list_entries_match_writes(api: Api, ws: str) -> None:
    out = write(api, ws, "one.csv", "a,b\n1,2")
    listed = api.output("storage", "list_files", ws)["files"]
    assert listed == [out]


def test_limit_above_maximum_is_clamped(api: Api, ws: str) -> None:
    write(api, ws, "a", "x")
    page = api.output("storage", "list_files", ws, {"limit": 10**9})
    assert [f["path"] for f in page["files"]] == ["a"]


# -- writes and deletes -----------------------------------------------------------------------


def test_etag_follows_content(api: Api, ws: str) -> None:
    first = write(api, ws, "e.txt", "same")
    again = write(api, ws, "e.txt", "same")
    other = write(api, ws, "e.txt", "different")
    assert first["etag"] == again["etag"] != other["etag"]
    assert again["updatedAt"] >= first["updatedAt"]


def test_overwrite_between_inline_and_blob(api: Api, ws: str, services: Services) -> None:
    small, large = "small", "L" * (INLINE_MAX + 10)
    for content in (small, large, large + "2", small, large):
        write(api, ws, "flip.txt", content)
        assert read(api, ws, "flip.txt")["content"] == content
    # Replaced bodies are dropped at once: only the current one is left.
    assert len(blob_keys(api, services, ws + "/")) == 1
    api.output("storage", "delete_file", ws, {"path": "flip.txt"})
    assert blob_keys(api, services, ws + "/") == []


def test_workspace_delete_drops_its_bodies(api: Api, ws: str, services: Services) -> None:
    write(api, ws, "big.txt", "B" * (INLINE_MAX + 1))
    assert len(blob_keys(api, services, ws + "/")) == 1
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    assert blob_keys(api, services, ws + "/") == []


def test_failed_commit_leaves_old_file_and_only_a_sweepable_orphan(
    api: Api, ws: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed index write never deletes the new body (the commit may have landed after all,
    see test_files_commit_fault.py); it is an orphan, and the sweep takes it."""
    old = "O" * (INLINE_MAX + 1)
    write(api, ws, "doc.txt", old)
    keys_before = blob_keys(api, services)

    async def broken_put(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.meta.files, "put", broken_put)
    ns = namespace_for(ws, SCOPE, None)
    with pytest.raises(RuntimeError, match="went away"):
        on_app_loop(api, lambda: files.write(services, ns, "doc.txt", b"N" * 70_000, "text/plain"))
    monkeypatch.undo()
    assert read(api, ws, "doc.txt")["content"] == old
    assert len(blob_keys(api, services)) == len(keys_before) + 1
    swept = on_app_loop(
        api, lambda: files.sweep_orphans(services.meta.files, services.blobs, grace_seconds=-60)
    )
    assert swept == 1
    assert blob_keys(api, services) == keys_before
    assert read(api, ws, "doc.txt")["content"] == old


def test_sweep_removes_only_orphans(api: Api, ws: str, services: Services) -> None:
    """A crash between storing a body and committing its row leaves an orphan body; the sweep
    deletes it (once old enough) and never a body a file points to."""
    write(api, ws, "kept.txt", "K" * (INLINE_MAX + 1))
    write(api, ws, "inline.txt", "small")
    live = blob_keys(api, services)
    orphans = [BlobStore.new_key(ws) for _ in range(3)]

    async def crash_mid_write() -> tuple[int, int]:
        for key in orphans:
            await services.blobs.put(key, b"half-finished write")
        young = await files.sweep_orphans(services.meta.files, services.blobs)
        old = await files.sweep_orphans(services.meta.files, services.blobs, grace_seconds=-60)
        return young, old

    staging: list[Path] = []
    url = services.settings.resolved_files_url
    if url.startswith("file://"):
        # A local write cut short before its rename leaves obstore's staging file behind.
        staging.append(Path(url.removeprefix("file://")) / f"{BlobStore.new_key(ws)}#1")
        staging[0].write_bytes(b"partial")
        os.utime(staging[0], (time.time() - 7200, time.time() - 7200))
    young, old = on_app_loop(api, crash_mid_write)
    # The new orphans are inside the grace period (their write may still be about to commit);
    # the staging file is two hours old.
    assert young == len(staging)
    assert old == 3
    assert not any(p.exists() for p in staging)
    assert sorted(blob_keys(api, services)) == sorted(live)
    assert read(api, ws, "kept.txt")["content"] == "K" * (INLINE_MAX + 1)
    assert read(api, ws, "inline.txt")["content"] == "small"


def test_reader_retries_when_body_is_replaced_under_it(
    api: Api, ws: str, services: Services
) -> None:
    """A reader that read the old row finds the old body already deleted by the overwrite: it
    looks again and returns the new file, whole."""
    write(api, ws, "race.txt", "A" * 70_000)
    ns = namespace_for(ws, SCOPE, None)
    index = services.meta.files
    real_get = index.get
    calls = 0

    async def get_then_overwrite(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        record = await real_get(*args)
        if calls == 1:  # the overwrite lands between reading the row and opening the body
            await files.write(services, ns, "race.txt", b"B" * 70_000, "text/plain")
        return record

    async def go() -> Any:
        index.get = get_then_overwrite  # type: ignore[method-assign]
        try:
            return await files.read(services, ns, "race.txt")
        finally:
            del index.get

    found = on_app_loop(api, go)
    assert found is not None
    record, body = found
    assert body == b"B" * 70_000
    assert record.size == 70_000 and record.etag == files.etag_of(body)
    assert calls == 2
