"""End users (issue 13): the resource with API.md's shapes, ``externalId`` unique per workspace,
usage, and erasing everything one end user stored (acceptance 1 and 3)."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from cubby.backends.base import DataKind
from cubby.services import Services
from cubby.settings import Settings
from tests.helpers import Api, error_body

END_USER = {
    "id", "workspaceId", "externalId", "displayName", "email", "metadata", "connectionCount",
    "type", "createdAt", "updatedAt",
}  # fmt: skip


def test_end_user_crud_shapes(api: Api) -> None:
    ws = api.create_workspace("eu-crud")
    created = api.ok(
        "POST", "/api/v1/end-users",
        {
            "workspaceId": ws, "externalId": "user_123", "displayName": "Ada",
            "email": "ada@example.com", "metadata": {"plan": "pro", "seats": 3},
        },
        status=201,
    )  # fmt: skip
    assert set(created) == {"endUser"}
    eu = created["endUser"]
    assert set(eu) == END_USER
    assert eu["workspaceId"] == ws and eu["externalId"] == "user_123"
    assert eu["displayName"] == "Ada" and eu["email"] == "ada@example.com"
    assert eu["metadata"] == {"plan": "pro", "seats": 3}
    assert eu["connectionCount"] == 0 and eu["type"] == "external"
    assert eu["createdAt"] == eu["updatedAt"]

    bare = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "u2"}, status=201)[
        "endUser"
    ]
    assert bare["displayName"] is None and bare["email"] is None and bare["metadata"] == {}

    one = api.ok("GET", f"/api/v1/end-users/{eu['id']}")
    assert one == {"endUser": eu}
    listing = api.ok("GET", "/api/v1/end-users", params={"workspaceId": ws})
    assert set(listing) == {"endUsers", "total"}
    assert listing["total"] == 2 and listing["endUsers"] == [eu, bare]
    paged = api.ok("GET", "/api/v1/end-users", params={"workspaceId": ws, "limit": 1, "offset": 1})
    assert paged["endUsers"] == [bare] and paged["total"] == 2
    clamped = api.ok("GET", "/api/v1/end-users", params={"workspaceId": ws, "limit": 10**6})
    assert clamped["total"] == 2 and len(clamped["endUsers"]) == 2

    patched = api.ok(
        "PATCH", f"/api/v1/end-users/{eu['id']}", {"displayName": None, "metadata": {"a": 1}}
    )
    assert set(patched) == {"endUser"}
    assert patched["endUser"]["displayName"] is None
    assert patched["endUser"]["metadata"] == {"a": 1}
    assert patched["endUser"]["email"] == "ada@example.com"  # untouched fields stay
    assert patched["endUser"]["updatedAt"] >= eu["updatedAt"]
    error_body(api.request("PATCH", f"/api/v1/end-users/{eu['id']}", {}), 400, "VALIDATION_ERROR")

    deleted = api.ok("DELETE", f"/api/v1/end-users/{eu['id']}")
    assert deleted == {"deleted": True, "id": eu["id"]}
    for method in ("GET", "PATCH", "DELETE"):
        body = {"displayName": "x"} if method == "PATCH" else None
        error_body(api.request(method, f"/api/v1/end-users/{eu['id']}", body), 404, "NOT_FOUND")
    error_body(api.request("GET", "/api/v1/end-users/not-a-uuid"), 404, "NOT_FOUND")


def test_external_id_is_unique_per_workspace(api: Api) -> None:
    ws = api.create_workspace("eu-dup")
    other = api.create_workspace("eu-dup-2")
    body = {"workspaceId": ws, "externalId": "same"}
    api.ok("POST", "/api/v1/end-users", body, status=201)
    dup = error_body(api.request("POST", "/api/v1/end-users", body), 409, "DUPLICATE", "externalId")
    assert dup["error"]
    # the same externalId is free in another workspace
    api.ok("POST", "/api/v1/end-users", {**body, "workspaceId": other}, status=201)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"externalId": "x"}, "workspaceId"),
        ({"workspaceId": "W"}, "externalId"),
        ({"workspaceId": "W", "externalId": ""}, "externalId"),
        ({"workspaceId": "W", "externalId": "a\nb"}, "externalId"),
        ({"workspaceId": "W", "externalId": "x" * 257}, "externalId"),
        ({"workspaceId": "W", "externalId": "x", "email": "nope"}, "email"),
        ({"workspaceId": "W", "externalId": "x", "displayName": "a\x00"}, "displayName"),
        ({"workspaceId": "W", "externalId": "x", "metadata": [1]}, "metadata"),
        ({"workspaceId": "W", "externalId": "x", "metadata": {"a": "x" * 20000}}, "metadata"),
        ({"workspaceId": "W", "externalId": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_end_user_bodies(api: Api, body: dict[str, Any], field: str) -> None:
    ws = api.create_workspace("eu-bad")
    sent = {k: (ws if v == "W" else v) for k, v in body.items()}
    error_body(api.request("POST", "/api/v1/end-users", sent), 400, "VALIDATION_ERROR", field)
    assert api.ok("GET", "/api/v1/end-users", params={"workspaceId": ws})["total"] == 0


def test_end_user_routes_need_a_known_workspace(api: Api) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    body = {"workspaceId": missing, "externalId": "x"}
    error_body(api.request("POST", "/api/v1/end-users", body), 404, "NOT_FOUND")
    error_body(api.request("GET", "/api/v1/end-users"), 400, "VALIDATION_ERROR", "workspaceId")
    error_body(
        api.request("GET", "/api/v1/end-users", params={"workspaceId": missing}), 404, "NOT_FOUND"
    )
    erase = api.request(
        "POST", f"/api/v1/workspaces/{missing}/erase-end-user-data", {"endUserId": "x"}
    )
    error_body(erase, 404, "NOT_FOUND")


def test_unregistered_end_users_keep_working(api: Api) -> None:
    """Registering is optional; a registered end user's externalId is its endUserId."""
    ws = api.create_workspace("eu-optional")
    api.output("kv-store", "put", ws, {"key": "k", "value": "anon"}, endUserId="never-registered")
    assert (
        api.output("kv-store", "get", ws, {"key": "k"}, endUserId="never-registered")["value"]
        == "anon"
    )
    eu = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "reg"}, status=201)[
        "endUser"
    ]
    api.output("kv-store", "put", ws, {"key": "k", "value": "mine"}, endUserId="reg")
    usage = api.ok("GET", f"/api/v1/end-users/{eu['id']}/usage")
    # bytes: file bodies and KV values (the JSON text "mine", 6 bytes)
    assert usage == {"usage": {"keys": 1, "files": 0, "bytes": 6, "items": 0}}
    # deleting the record alone leaves the data (eraseData is explicit)
    api.ok("DELETE", f"/api/v1/end-users/{eu['id']}")
    assert api.output("kv-store", "get", ws, {"key": "k"}, endUserId="reg")["value"] == "mine"


def test_usage_counts_keys_files_and_bytes(api: Api) -> None:
    ws = api.create_workspace("eu-usage")
    eu = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "u"}, status=201)[
        "endUser"
    ]
    assert api.ok("GET", f"/api/v1/end-users/{eu['id']}/usage") == {
        "usage": {"keys": 0, "files": 0, "bytes": 0, "items": 0}
    }
    api.output("kv-store", "put", ws, {"key": "a", "value": {"x": 1}}, endUserId="u")
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": "é"}, endUserId="u")
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": 22}, endUserId="u")
    api.output("storage", "write_file", ws, {"path": "f", "content": "hello"}, endUserId="u")
    api.output("storage", "write_file", ws, {"path": "g", "content": "é"}, endUserId="u")
    # someone else's data does not count
    api.output("kv-store", "put", ws, {"key": "a", "value": 1}, endUserId="other")
    usage = api.ok("GET", f"/api/v1/end-users/{eu['id']}/usage")["usage"]
    # bytes: the KV values' JSON text ({"x":1} and ["é",22]) and the files' sizes
    assert usage == {"keys": 2, "files": 2, "bytes": 7 + 9 + 5 + 2, "items": 0}


# -- erase (acceptance 3) -----------------------------------------------------------------------

INLINE_MAX = 256  # small, so "above the inline limit" needs no large bodies


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(storage_inline_max_bytes=INLINE_MAX)


class Erasable:
    """One workspace: end users ``alice`` (to erase), ``bob``, an unregistered ``carol``, and
    workspace- and external-scoped data, over two storage and two kv-store end_user aliases."""

    STORAGE = ("files_a", "files_b")
    KV = ("state_a", "state_b")

    def __init__(self, api: Api, slug: str) -> None:
        self.api = api
        self.ws = api.create_workspace(slug)
        for alias in self.STORAGE:
            api.add_integration(self.ws, "storage", alias)
        for alias in self.KV:
            api.add_integration(self.ws, "kv-store", alias)
        api.add_integration(
            self.ws, "storage", "shared_files", {"persistence": {"scope": "workspace"}}
        )
        api.add_integration(
            self.ws, "kv-store", "shared_state", {"persistence": {"scope": "workspace"}}
        )
        api.add_integration(
            self.ws, "kv-store", "tenant_state",
            {"persistence": {"scope": "external", "externalId": "alice"}},
        )  # fmt: skip
        self.alice = api.ok(
            "POST", "/api/v1/end-users", {"workspaceId": self.ws, "externalId": "alice"}, 201
        )["endUser"]
        api.ok("POST", "/api/v1/end-users", {"workspaceId": self.ws, "externalId": "bob"}, 201)

    def fill(self, user: str | None, alias_kv: str, alias_files: str, n_keys: int, n_files: int,
             tag: str) -> tuple[list[str], list[str]]:  # fmt: skip
        extra = {"integrationAlias": alias_kv}
        if user is not None:
            extra["endUserId"] = user
        keys_, paths = [], []
        for i in range(n_keys):
            key = f"{tag}/key-{i}"
            if i % 6 == 0:  # some lists
                for item in (i, {"n": i}, "x" * (i % 40)):
                    self.api.output("kv-store", "add_to_list", self.ws, {"key": key, "value": item},
                                    **extra)  # fmt: skip
            else:
                value = {"i": i, "t": tag}
                self.api.output("kv-store", "put", self.ws, {"key": key, "value": value}, **extra)
            keys_.append(key)
        extra["integrationAlias"] = alias_files
        for i in range(n_files):
            path = f"{tag}/dir-{i % 5}/file-{i}.bin"
            size = INLINE_MAX * 3 if i % 4 == 0 else 40  # a quarter above the inline limit
            body = bytes((i + j) % 256 for j in range(size))
            self.api.output(
                "storage", "write_file", self.ws,
                {"path": path, "content": base64.b64encode(body).decode(),
                 "contentEncoding": "base64"},
                **extra,
            )  # fmt: skip
            paths.append(path)
        return keys_, paths

    def snapshot(self, user: str | None, alias_kv: str, alias_files: str, keys_: list[str],
                 paths: list[str]) -> dict[str, Any]:  # fmt: skip
        """Every value and file of one cell, bytes and metadata, as the API shows them."""
        extra: dict[str, Any] = {} if user is None else {"endUserId": user}
        values = {
            k: self.api.output("kv-store", "get", self.ws, {"key": k},
                               integrationAlias=alias_kv, **extra)["value"]
            for k in keys_
        }  # fmt: skip
        listing = self.api.output(
            "storage", "list_files", self.ws, {}, integrationAlias=alias_files, **extra
        )
        bodies = {
            p: self.api.output("storage", "read_file", self.ws,
                               {"path": p, "outputEncoding": "base64"},
                               integrationAlias=alias_files, **extra)
            for p in paths
        }  # fmt: skip
        return {"values": values, "listing": listing, "bodies": bodies}


def _blob_keys(services: Services) -> set[str]:
    async def collect() -> set[str]:
        return {key async for key, _ in services.blobs.list_keys()}

    return asyncio.run(collect())


def _usage_rows(services: Services, ws: str) -> list[Any]:
    """(kind, ns, usage) of every namespace with data, from the dashboard's counting queries."""

    async def collect() -> list[Any]:
        usage = services.meta.usage
        rows = []
        kinds: tuple[DataKind, ...] = ("kv", "files")
        for kind in kinds:
            for ns in await usage.namespaces(kind, ws, "", None, 10_000):
                rows.append((kind, ns, await usage.usage(kind, ws, ns, False)))
        return rows

    return asyncio.run(collect())


# Both erase routes share one code path; each backend combination runs one of them (the
# whole scenario is a few seconds per combination, so running both everywhere would double it).
ROUTE_FOR = {
    "sqlite+file": "delete",
    "sqlite+s3": "erase",
    "postgres+file": "erase",
    "postgres+s3": "delete",
}


@pytest.mark.conformance
def test_erase_removes_everything_of_one_end_user_only(
    api: Api, services: Services, backend: str
) -> None:
    route = ROUTE_FOR[backend]
    world = Erasable(api, f"erase-{route}")
    ws = world.ws
    # alice: 300 keys and 200 files, half through each alias of each kind
    alice_keys: list[str] = []
    alice_paths: list[str] = []
    for kv_alias, files_alias, tag in (("state_a", "files_a", "a"), ("state_b", "files_b", "b")):
        k, p = world.fill("alice", kv_alias, files_alias, 150, 100, tag)
        alice_keys += k
        alice_paths += p
    # everyone else: bob, carol (never registered), the workspace scope, the external scope
    cells = {
        "bob": ("bob", "state_a", "files_a", 20, 12, "a"),
        "carol": ("carol", "state_b", "files_b", 8, 8, "a"),
        "shared": (None, "shared_state", "shared_files", 10, 8, "a"),
        "tenant": (None, "tenant_state", "shared_files", 5, 0, "t"),
    }
    others = {
        name: (user, kv, files, *world.fill(user, kv, files, n_keys, n_files, tag))
        for name, (user, kv, files, n_keys, n_files, tag) in cells.items()
    }
    before = {name: world.snapshot(*cell) for name, cell in others.items()}
    rows_before = _usage_rows(services, ws)
    alice_ns = "u:alice"
    alice_blobs = {
        r.blob_key
        for p in alice_paths
        if (r := asyncio.run(services.meta.files.get(_ns(ws, alice_ns), p))) is not None
        and r.blob_key is not None
    }
    assert len(alice_blobs) == 50  # a quarter of alice's files live in the blob store
    blobs_before = _blob_keys(services)
    assert alice_blobs <= blobs_before

    usage = api.ok("GET", f"/api/v1/end-users/{world.alice['id']}/usage")["usage"]
    assert usage["keys"] == 300 and usage["files"] == 200 and usage["bytes"] > 0

    if route == "delete":
        answer = api.ok("DELETE", f"/api/v1/end-users/{world.alice['id']}",
                        params={"eraseData": "true"})  # fmt: skip
        assert answer == {"deleted": True, "id": world.alice["id"], "erased": usage}
        error_body(api.request("GET", f"/api/v1/end-users/{world.alice['id']}"), 404, "NOT_FOUND")
    else:
        answer = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data",
                        {"endUserId": "alice"})  # fmt: skip
        assert answer == {"workspaceId": ws, "endUserId": "alice", "erased": usage}
        # the record stays; its data is gone
        assert api.ok("GET", f"/api/v1/end-users/{world.alice['id']}/usage")["usage"] == {
            "keys": 0, "files": 0, "bytes": 0, "items": 0,
        }  # fmt: skip

    # every action through every alias sees nothing of alice's any more
    for alias in world.KV:
        for key in alice_keys[::7]:
            got = api.output("kv-store", "get", ws, {"key": key}, integrationAlias=alias,
                             endUserId="alice")  # fmt: skip
            assert got["value"] is None, key
        removed = api.output("kv-store", "remove_from_list", ws, {"key": alice_keys[0], "value": 0},
                             integrationAlias=alias, endUserId="alice")  # fmt: skip
        assert removed["removed"] == 0 and removed["length"] == 0
        gone = api.output("kv-store", "delete", ws, {"key": alice_keys[1]},
                          integrationAlias=alias, endUserId="alice")  # fmt: skip
        assert gone["deleted"] is False
        if "list_keys" in _actions(api, "kv-store"):
            listed = api.output("kv-store", "list_keys", ws, {}, integrationAlias=alias,
                                endUserId="alice")  # fmt: skip
            assert listed["keys"] == []
    for alias in world.STORAGE:
        listed = api.output("storage", "list_files", ws, {}, integrationAlias=alias,
                            endUserId="alice")  # fmt: skip
        assert listed == {"files": [], "nextCursor": None}
        for path in alice_paths[::9]:
            for action, extra in (("read_file", {}), ("get_download_url", {})):
                resp = api.execute("storage", action, ws, {"path": path, **extra},
                                   integrationAlias=alias, endUserId="alice")  # fmt: skip
                body = error_body(resp, 400, "ACTION_FAILED")
                assert body["details"]["reason"] == "FILE_NOT_FOUND"
        deleted = api.output("storage", "delete_file", ws, {"path": alice_paths[0]},
                             integrationAlias=alias, endUserId="alice")  # fmt: skip
        assert deleted["deleted"] is False

    # everyone else is untouched, byte for byte, row for row
    after = {name: world.snapshot(*cell) for name, cell in others.items()}
    assert after == before
    expected_rows = [r for r in rows_before if r[1] != alice_ns]
    assert len(expected_rows) < len(rows_before)
    assert _usage_rows(services, ws) == expected_rows
    # no body of alice's is left in the blob store; every other body is
    blobs_after = _blob_keys(services)
    assert not (alice_blobs & blobs_after)
    assert blobs_after == blobs_before - alice_blobs

    # erasing again finds nothing; the answer says so
    again = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "alice"})
    assert again["erased"] == {"keys": 0, "files": 0, "bytes": 0, "items": 0}


def _ns(ws: str, ns: str) -> Any:
    from cubby.core.scopes import Namespace

    return Namespace(ws, ns)


def _actions(api: Api, integration: str) -> set[str]:
    catalog = api.ok("GET", "/api/v1/integrations", params={"name": integration})
    return set(catalog["integration"]["actions"])


def test_erase_of_an_unregistered_end_user(api: Api) -> None:
    ws = api.create_workspace("erase-anon")
    api.output("kv-store", "put", ws, {"key": "k", "value": [1, 2]}, endUserId="ghost")
    api.output("storage", "write_file", ws, {"path": "p", "content": "abc"}, endUserId="ghost")
    api.output("kv-store", "put", ws, {"key": "k", "value": "stay"}, endUserId="ghost2")
    answer = api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "ghost"})
    erased = {"keys": 1, "files": 1, "bytes": 5 + 3, "items": 0}  # bytes: [1,2] and the file
    assert answer == {"workspaceId": ws, "endUserId": "ghost", "erased": erased}
    assert api.output("kv-store", "get", ws, {"key": "k"}, endUserId="ghost")["value"] is None
    assert api.output("kv-store", "get", ws, {"key": "k"}, endUserId="ghost2")["value"] == "stay"
    for bad in ({}, {"endUserId": ""}, {"endUserId": "a\x01"}, {"endUserId": 3}):
        resp = api.request("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", bad)
        error_body(resp, 400, "VALIDATION_ERROR", "endUserId")


def test_erase_data_flag_must_be_a_boolean(api: Api) -> None:
    ws = api.create_workspace("erase-flag")
    eu = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "u"}, status=201)[
        "endUser"
    ]
    resp = api.request("DELETE", f"/api/v1/end-users/{eu['id']}", params={"eraseData": "maybe"})
    error_body(resp, 400, "VALIDATION_ERROR", "eraseData")
    assert api.ok("GET", f"/api/v1/end-users/{eu['id']}")["endUser"]["id"] == eu["id"]


def test_end_users_of_other_workspaces_are_scope_denied(api: Api) -> None:
    a = api.create_workspace("eu-scope-a")
    b = api.create_workspace("eu-scope-b")
    eu_b = api.ok("POST", "/api/v1/end-users", {"workspaceId": b, "externalId": "u"}, status=201)[
        "endUser"
    ]
    key = api.ok(
        "POST", "/api/v1/api-keys",
        {"name": "a", "permissions": {"scope": "workspace", "workspaceIds": [a]}}, status=201,
    )["plainKey"]  # fmt: skip
    for method, path, body, params in [
        ("GET", f"/api/v1/end-users/{eu_b['id']}", None, None),
        ("PATCH", f"/api/v1/end-users/{eu_b['id']}", {"displayName": "x"}, None),
        ("DELETE", f"/api/v1/end-users/{eu_b['id']}", None, {"eraseData": "true"}),
        ("GET", f"/api/v1/end-users/{eu_b['id']}/usage", None, None),
        ("GET", "/api/v1/end-users", None, {"workspaceId": b}),
        ("POST", "/api/v1/end-users", {"workspaceId": b, "externalId": "v"}, None),
        ("POST", f"/api/v1/workspaces/{b}/erase-end-user-data", {"endUserId": "u"}, None),
        # an id that exists nowhere answers the same: no probing of other workspaces' ids
        ("GET", "/api/v1/end-users/00000000-0000-4000-8000-000000000000", None, None),
    ]:
        resp = api.request(method, path, body, key=key, params=params)
        error_body(resp, 403, "SCOPE_DENIED")
    assert api.ok("GET", f"/api/v1/end-users/{eu_b['id']}")["endUser"] == eu_b


def test_deleting_a_workspace_removes_its_end_users(api: Api, client: TestClient) -> None:
    ws = api.create_workspace("eu-cascade")
    eu = api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": "u"}, status=201)[
        "endUser"
    ]
    api.ok("DELETE", f"/api/v1/workspaces/{ws}")
    error_body(api.request("GET", f"/api/v1/end-users/{eu['id']}"), 404, "NOT_FOUND")


def test_sqlite_erase_is_index_searches(api: Api, services: Services) -> None:
    """Erasing seeks the (workspace_id, ns, ...) indexes of every data table; none is scanned
    (SQLite's plan says SEARCH, never a bare SCAN)."""
    ws = api.create_workspace("erase-plan")
    api.output("kv-store", "add_to_list", ws, {"key": "l", "value": 1}, endUserId="u")
    api.output("storage", "write_file", ws, {"path": "p", "content": "x"}, endUserId="u")
    db: Any = services.meta.end_users.db  # type: ignore[attr-defined]
    statements: list[str] = []
    db._writer_conn.set_trace_callback(statements.append)
    try:
        api.ok("POST", f"/api/v1/workspaces/{ws}/erase-end-user-data", {"endUserId": "u"})
    finally:
        db._writer_conn.set_trace_callback(None)
    deletes = [sql for sql in statements if sql.lstrip().upper().startswith("DELETE")]
    assert {sql.split()[2] for sql in deletes} == {
        "kv_entries", "kv_list_items", "files",
        "memory_entities", "scratch_pages", "thinking_chains",  # the agent tools' top rows
    }  # fmt: skip
    for sql in deletes:
        plan = " | ".join(row[3] for row in db._reader.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SEARCH" in plan and "SCAN" not in plan, (sql, plan)
