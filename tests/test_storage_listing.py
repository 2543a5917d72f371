"""list_files over 10,000 files, paged by cursor through the HTTP API: every path exactly once,
in order. The files are put in through the index directly (setup speed); listing is all HTTP."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from cubby.backends.base import FileRecord
from cubby.core.models import utc_now
from cubby.core.scopes import namespace_for
from cubby.services import Services
from tests.helpers import Api

# listing reads only the file index: the +s3 runs would repeat the +file ones
pytestmark = [pytest.mark.conformance, pytest.mark.metadata_only]

COUNT = 10_000
SCOPE = {"persistence": {"scope": "workspace"}}
# Paths just outside the "bulk/" prefix on both sides, which must never show up in it.
NEIGHBOURS = ["bulj", "bulk", "bulk.txt", "bulk0/x", "bulm/y", "Bulk/x", "bulk\u00e9/x"]


def bulk_paths(count: int) -> list[str]:
    """Distinct paths with mixed depth, case, punctuation and non-ASCII, shuffled."""
    rng = random.Random(7)
    names = ["a", "B", "z", "é", "日本", "Ω", "x-y", "x_y", "x.y", "😀", "~", " "]
    out = {
        f"bulk/{rng.choice(names)}/{i:05d}{rng.choice(names)}/{rng.choice(names)}.txt"
        for i in range(count)
    }
    assert len(out) == count
    listed = list(out)
    rng.shuffle(listed)
    return listed


def fill(api: Api, services: Services, count: int) -> tuple[str, list[str]]:
    ws = api.create_workspace("listing")
    api.add_integration(ws, "storage", "files", SCOPE)
    paths = bulk_paths(count)
    ns = namespace_for(ws, SCOPE, None)
    now = utc_now()
    records = [
        FileRecord(
            path=p,
            size=len(p),
            content_type="text/plain",
            etag="0" * 32,
            created_at=now,
            updated_at=now,
            inline_body=p.encode(),
        )
        for p in [*paths, *NEIGHBOURS]
    ]

    async def fill() -> None:
        for start in range(0, len(records), 500):
            chunk = records[start : start + 500]
            await asyncio.gather(*(services.meta.files.put(ns, r) for r in chunk))

    # On the app's event loop: that is where a PostgreSQL pool lives.
    api.client.portal.call(fill)
    return ws, paths


def page_all(api: Api, ws: str, limit: int | None, prefix: str) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        input: dict[str, Any] = {"prefix": prefix}
        if limit is not None:
            input["limit"] = limit
        if cursor is not None:
            input["cursor"] = cursor
        page = api.output("storage", "list_files", ws, input, integrationAlias="files")
        pages += 1
        assert len(page["files"]) <= (limit or 1000)
        seen += [f["path"] for f in page["files"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen, pages
        assert pages <= COUNT, "the cursor does not advance"


def test_ten_thousand_files_each_once_in_order(api: Api, services: Services) -> None:
    workspace, paths = fill(api, services, COUNT)
    expected = sorted(paths)  # code point order, as API.md's "sorted by path" means
    seen, pages = page_all(api, workspace, None, "bulk/")
    assert pages == 10  # default limit 1000; the 10th page knows it is the last
    assert len(seen) == COUNT
    assert seen == expected
    # An odd page size, so pages end mid-directory.
    seen, pages = page_all(api, workspace, 333, "bulk/")
    assert seen == expected
    assert pages == -(-COUNT // 333)
    # Without a prefix the neighbours just outside "bulk/" are there too, in their places.
    seen, _ = page_all(api, workspace, 1000, "")
    assert seen == sorted([*paths, *NEIGHBOURS])


def test_listing_is_stable_under_concurrent_writes(api: Api, services: Services) -> None:
    """Files added or removed between pages never make the cursor repeat or skip the rest."""
    workspace, paths = fill(api, services, 2000)
    expected = sorted(paths)
    first = api.output(
        "storage",
        "list_files",
        workspace,
        {"prefix": "bulk/", "limit": 100},
        integrationAlias="files",
    )
    # Delete one already listed, one not yet listed; add one before and one after the cursor.
    gone_before, gone_after = expected[10], expected[1000]
    for path in (gone_before, gone_after):
        api.output("storage", "delete_file", workspace, {"path": path}, integrationAlias="files")
    for path in ("bulk/  early.txt", "bulk/\U0010fffd-late.txt"):
        api.output(
            "storage",
            "write_file",
            workspace,
            {"path": path, "content": "n"},
            integrationAlias="files",
        )
    rest: list[str] = []
    cursor = first["nextCursor"]
    while cursor is not None:
        page = api.output(
            "storage",
            "list_files",
            workspace,
            {"prefix": "bulk/", "cursor": cursor},
            integrationAlias="files",
        )
        rest += [f["path"] for f in page["files"]]
        cursor = page["nextCursor"]
    listed = [f["path"] for f in first["files"]] + rest
    assert len(listed) == len(set(listed))
    assert listed == sorted(listed)
    assert listed[-1] == "bulk/\U0010fffd-late.txt"
    assert "bulk/  early.txt" not in listed and gone_after not in listed
    assert set(expected) - set(listed) == {gone_after}
