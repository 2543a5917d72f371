"""kv-store list_keys: every key exactly once in UTF-8 byte order over 10,000 keys, cursor
paging, prefixes made of LIKE wildcards, backslashes and U+10FFFF, isolation between
namespaces, the entry shape, bad cursors, and the plan (an index range scan, no sort)."""

from __future__ import annotations

import asyncio
import base64
import random
from typing import Any

import msgspec
import pytest

from cubby.core.kv_values import list_items
from cubby.core.scopes import namespace_for
from cubby.services import Services
from tests.helpers import Api

pytestmark = pytest.mark.conformance

COUNT = 10_000
SCOPE = {"persistence": {"scope": "workspace"}}
MAX = "\U0010ffff"


def byte_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda k: k.encode("utf-8"))


@pytest.fixture
def ws(api: Api) -> str:
    ws = api.create_workspace("keys")
    api.add_integration(ws, "kv-store", "state", SCOPE)
    return ws


def seed(
    api: Api,
    services: Services,
    ws: str,
    keys: list[str],
    end_user: str | None = None,
    settings: dict[str, Any] | None = None,
) -> None:
    """Put ``"v"`` at each key through the store directly (setup speed; listing is all HTTP)."""
    ns = namespace_for(ws, settings or SCOPE, end_user)

    async def fill() -> None:
        for start in range(0, len(keys), 500):
            await asyncio.gather(
                *(services.meta.kv.put(ns, k, b'"v"', None) for k in keys[start : start + 500])
            )

    api.client.portal.call(fill)  # on the app's loop, where a PostgreSQL pool lives


def list_all(
    api: Api, ws: str, prefix: str | None = None, limit: int | None = None, **extra: Any
) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    extra = extra or {"integrationAlias": "state"}
    while True:
        input: dict[str, Any] = {}
        if prefix is not None:
            input["prefix"] = prefix
        if limit is not None:
            input["limit"] = limit
        if cursor is not None:
            input["cursor"] = cursor
        page = api.output("kv-store", "list_keys", ws, input, **extra)
        pages += 1
        assert len(page["keys"]) <= (limit or 100)
        seen += [k["key"] for k in page["keys"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen, pages
        assert pages <= COUNT, "the cursor does not advance"


def bulk_keys(count: int) -> list[str]:
    rng = random.Random(14)
    parts = ["a", "B", "z", "é", "日本", "Ω", "x-y", "x_y", "x%y", "x\\y", "😀", "~", " ", MAX]
    out = {f"bulk:{rng.choice(parts)}{i:05d}{rng.choice(parts)}" for i in range(count)}
    assert len(out) == count
    listed = list(out)
    rng.shuffle(listed)
    return listed


@pytest.mark.metadata_only  # list_keys reads only the metadata database
def test_ten_thousand_keys_each_once_in_order(api: Api, services: Services, ws: str) -> None:
    keys = bulk_keys(COUNT)
    neighbours = ["bulk", "bulk;", "bulj:z", "Bulk:a", "bulk\u00e9"]
    seed(api, services, ws, [*keys, *neighbours])
    # Same key names in other namespaces: another workspace, an end-user scope.
    other = api.create_workspace("keys-other")
    api.add_integration(other, "kv-store", "state", SCOPE)
    seed(api, services, other, ["bulk:other-ws"])
    api.add_integration(ws, "kv-store", "users")
    seed(api, services, ws, ["bulk:end-user"], "alice", {"persistence": {"scope": "end_user"}})

    expected = byte_order(keys)
    seen, pages = list_all(api, ws, "bulk:", 1000)
    assert pages == 10 and seen == expected
    seen, pages = list_all(api, ws, "bulk:", 777)  # pages end anywhere
    assert seen == expected and pages == -(-COUNT // 777)
    seen, _ = list_all(api, ws, None, 1000)
    assert seen == byte_order([*keys, *neighbours])
    assert "bulk:other-ws" not in seen and "bulk:end-user" not in seen
    assert list_all(api, ws, "bulk:", 1000, integrationAlias="users", endUserId="alice")[0] == [
        "bulk:end-user"
    ]


ODD_KEYS = [
    "a",
    "a%",
    "a%b",
    "a%%",
    "a_",
    "a_b",
    "axb",
    "a\\",
    "a\\b",
    "a\\\\",
    "a\\%",
    "ab",
    f"a{MAX}",
    f"a{MAX}z",
    f"a{MAX}{MAX}",
    f"a{MAX}{MAX}q",
    "b",
    MAX,
    f"{MAX}x",
    f"{MAX}{MAX}",
    "\ufffd",
    "\ue000",
    "\ud7ff",
    "%",
    "_",
    "\\",
    "[a]",
    "a*",
    "a?",
]


ODD_PREFIXES = [
    "a%",
    "a_",
    "a\\",
    "a\\%",
    "%",
    "_",
    "\\",
    "a",
    f"a{MAX}",
    f"a{MAX}{MAX}",
    MAX,
    f"{MAX}{MAX}",
    "\ud7ff",
    "a*",
    "[",
    "",
]


def test_odd_prefixes_behave(api: Api, services: Services, ws: str) -> None:
    """LIKE wildcards and backslashes are plain characters; a prefix ending in U+10FFFF (whose
    range has no simple upper bound) returns exactly the keys that start with it."""
    seed(api, services, ws, ODD_KEYS)
    for prefix in ODD_PREFIXES:
        expected = byte_order([k for k in ODD_KEYS if k.startswith(prefix)])
        assert list_all(api, ws, prefix, 1000)[0] == expected, prefix
        assert list_all(api, ws, prefix, 2)[0] == expected, prefix


def test_entry_shape(api: Api, ws: str) -> None:
    api.output("kv-store", "put", ws, {"key": "doc", "value": {"b": [1, 2], "a": "é"}})
    api.output("kv-store", "put", ws, {"key": "doc", "value": {"b": [1, 2], "a": "é"}})
    api.output("kv-store", "add_to_list", ws, {"key": "list", "value": "one"})
    api.output("kv-store", "add_to_list", ws, {"key": "list", "value": {"n": 2.50}})
    api.output("kv-store", "put", ws, {"key": "empty", "value": []})
    page = api.output("kv-store", "list_keys", ws, {})
    assert page["nextCursor"] is None
    entries = {e["key"]: e for e in page["keys"]}
    assert [e["key"] for e in page["keys"]] == ["doc", "empty", "list"]
    for key, entry in entries.items():
        assert set(entry) == {
            "key",
            "size",
            "isList",
            "length",
            "version",
            "updatedAt",
            "expiresAt",
        }
        value = api.request(
            "POST",
            "/api/v1/actions/execute",
            {
                "integrationName": "kv-store",
                "actionName": "get",
                "workspaceId": ws,
                "input": {"key": key},
            },
        ).content
        raw = msgspec.json.decode(value, type=dict[str, Any])["output"]
        # size: the bytes of the value's compact JSON, as get returns it
        assert entry["size"] == len(msgspec.json.encode(raw["value"])), key
        assert entry["version"] == raw["version"]
        assert entry["expiresAt"] is None
        assert entry["updatedAt"].endswith("Z")
    assert entries["doc"] | {"updatedAt": None} == {
        "key": "doc",
        "size": len('{"b":[1,2],"a":"é"}'.encode()),
        "isList": False,
        "length": None,
        "version": 2,
        "updatedAt": None,
        "expiresAt": None,
    }
    assert (entries["list"]["isList"], entries["list"]["length"], entries["list"]["size"]) == (
        True,
        2,
        len('["one",{"n":2.5}]'),
    )
    assert (entries["empty"]["isList"], entries["empty"]["length"], entries["empty"]["size"]) == (
        True,
        0,
        2,
    )


def test_size_follows_appends_and_removes(api: Api, ws: str) -> None:
    values: list[Any] = ["x", 1.0, {"a": [1]}, "x", None, "yy", "x", 2.5]
    for value in values:
        api.output("kv-store", "add_to_list", ws, {"key": "l", "value": value})
    for gone in ("x", "nope", None, "yy", {"a": [1]}, 1):
        api.output("kv-store", "remove_from_list", ws, {"key": "l", "value": gone})
        got = api.output("kv-store", "get", ws, {"key": "l"})["value"]
        entry = api.output("kv-store", "list_keys", ws, {})["keys"][0]
        assert entry["length"] == len(got)
        assert entry["size"] == len(msgspec.json.encode(got)), (gone, got)
    assert got == [2.5] and entry["size"] == len("[2.5]")  # 1 removed 1.0: equal by value


def test_limit_default_clamp_and_validation(api: Api, services: Services, ws: str) -> None:
    seed(api, services, ws, [f"k{i:04d}" for i in range(1200)])
    assert len(api.output("kv-store", "list_keys", ws, {})["keys"]) == 100
    assert len(api.output("kv-store", "list_keys", ws, {"limit": None})["keys"]) == 100
    page = api.output("kv-store", "list_keys", ws, {"limit": 5000})
    assert len(page["keys"]) == 1000 and page["nextCursor"] is not None
    for bad in (0, -1, "10", 1.5):
        resp = api.execute("kv-store", "list_keys", ws, {"limit": bad})
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["details"]["field"] == "input.limit"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_bad_cursor_is_a_400(api: Api, ws: str) -> None:
    api.output("kv-store", "put", ws, {"key": "k", "value": 1})
    for cursor in ("!!!", "a", b64(b"\x00"), b64(b"\xff\xfe"), b64(b"k\x00"), b64(b"\x1b")):
        resp = api.execute("kv-store", "list_keys", ws, {"cursor": cursor})
        assert resp.status_code == 400, (cursor, resp.text)
        assert resp.json()["code"] == "VALIDATION_ERROR"
        assert resp.json()["details"]["field"] == "input.cursor"


def test_bad_prefix_is_a_400(api: Api, ws: str) -> None:
    for prefix in ("a\x00", "x" * 513, "\n"):
        resp = api.execute("kv-store", "list_keys", ws, {"prefix": prefix})
        assert resp.status_code == 400, resp.text
        assert resp.json()["details"]["field"] == "input.prefix"


def test_listing_under_concurrent_writes_never_repeats(
    api: Api, services: Services, ws: str
) -> None:
    keys = [f"k{i:04d}" for i in range(500)]
    seed(api, services, ws, keys)
    first = api.output("kv-store", "list_keys", ws, {"limit": 100})
    api.output("kv-store", "delete", ws, {"key": "k0050"})  # already listed
    api.output("kv-store", "delete", ws, {"key": "k0300"})  # not yet listed
    api.output("kv-store", "put", ws, {"key": "k0000a", "value": 1})  # before the cursor
    api.output("kv-store", "put", ws, {"key": "k9999", "value": 1})  # after it
    listed = [k["key"] for k in first["keys"]]
    cursor = first["nextCursor"]
    while cursor is not None:
        page = api.output("kv-store", "list_keys", ws, {"cursor": cursor, "limit": 100})
        listed += [k["key"] for k in page["keys"]]
        cursor = page["nextCursor"]
    assert listed == sorted(set(listed))
    assert listed[-1] == "k9999" and "k0000a" not in listed and "k0300" not in listed
    assert set(keys) - set(listed) == {"k0300"}


def test_page_is_an_index_range_scan(api: Api, services: Services, ws: str, backend: str) -> None:
    """The page query walks the primary key (workspace_id, ns, key) from the cursor to the
    prefix's upper bound, in index order: no table scan, no sort."""
    seed(api, services, ws, [f"p:{i}" for i in range(50)])
    ns = namespace_for(ws, SCOPE, None)
    kv: Any = services.meta.kv
    if backend.startswith("sqlite"):
        statements: list[str] = []
        reader = kv.db._reader
        reader.set_trace_callback(statements.append)
        try:
            asyncio.run(kv.page(ns, "p:", "p:1", 10))
        finally:
            reader.set_trace_callback(None)
        page_sql = next(s for s in statements if "FROM kv_entries" in s)
        plan = " ".join(str(r[3]) for r in reader.execute("EXPLAIN QUERY PLAN " + page_sql))
        assert "USING PRIMARY KEY (workspace_id=? AND ns=? AND key>? AND key<?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        return

    captured: list[tuple[str, tuple[Any, ...]]] = []
    real_fetch = kv.db.fetch

    async def spy(sql: str, *args: Any) -> list[Any]:
        captured.append((sql, args))
        return list(await real_fetch(sql, *args))

    async def explain() -> str:
        kv.db.fetch = spy
        try:
            await kv.page(ns, "p:", "p:1", 10)
        finally:
            kv.db.fetch = real_fetch
        sql, args = captured[0]
        async with kv.db.connection() as conn, conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            rows = await conn.fetch("EXPLAIN " + sql, *args)
        return "\n".join(r[0] for r in rows)

    plan = api.client.portal.call(explain)
    assert "Index" in plan and "kv_entries_pkey" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
    assert "key > " in plan and "key < " in plan, plan


def test_list_items_helper_splits_without_decoding() -> None:
    items = list_items(b'[1e400,{"a":1,"a":2},"x"]')
    assert [i.text for i in items] == ["1e400", '{"a":1,"a":2}', '"x"']
