"""The dashboard's backend queries on every backend: sessions joined to their key, usage per
namespace, folder counts and the loose index scan of end users with data."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cubby.auth import hash_key
from cubby.core import clock, keys
from cubby.core.scopes import Namespace
from cubby.services import Services
from tests.helpers import Api


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.conformance
def test_session_is_found_with_its_key_until_deleted(services: Services) -> None:
    key, _ = run(keys.create_key(services.meta, "web", None, None))
    sessions = services.meta.sessions
    run(
        sessions.create(
            hash_key("s1"), key.id, "csrf-1", "2026-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"
        )
    )
    found = run(sessions.find(hash_key("s1")))
    assert found is not None
    assert found.key.key.id == key.id and found.key.key.name == "web"
    assert found.key.revoked is False
    assert found.csrf_token == "csrf-1"
    assert found.expires_at == "2099-01-01T00:00:00.000Z"
    assert run(sessions.find(hash_key("other"))) is None
    run(keys.create_key(services.meta, "admin", None, None))  # the last org key cannot go
    run(keys.revoke_key(services.meta, key.id))
    assert run(sessions.find(hash_key("s1"))).key.revoked is True  # type: ignore[union-attr]
    run(sessions.delete(hash_key("s1")))
    assert run(sessions.find(hash_key("s1"))) is None


@pytest.mark.conformance
def test_expired_sessions_are_swept(services: Services) -> None:
    key, _ = run(keys.create_key(services.meta, "web", None, None))
    sessions = services.meta.sessions
    run(sessions.create("old", key.id, "c", "2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000Z"))
    run(sessions.create("new", key.id, "c", "2026-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"))
    assert run(sessions.delete_expired("2026-06-01T00:00:00.000Z")) == 1
    assert run(sessions.find("old")) is None
    assert run(sessions.find("new")) is not None


def _fill(api: Api) -> tuple[str, str]:
    ws = api.create_workspace("usage")
    other = api.create_workspace("usage-other")
    api.add_integration(ws, "storage", "files")  # end_user scope
    api.add_integration(ws, "kv-store", "state")
    api.add_integration(ws, "storage", "shared", {"persistence": {"scope": "workspace"}})
    for user in ("alice", "bob", "carol"):
        for i in range(3):
            api.output(
                "storage",
                "write_file",
                ws,
                {"path": f"d/{i}.txt", "content": "x" * 10},
                integrationAlias="files",
                endUserId=user,
            )
    api.output(
        "kv-store", "put", ws, {"key": "k", "value": 1}, integrationAlias="state", endUserId="dave"
    )
    api.output(
        "storage",
        "write_file",
        ws,
        {"path": "a/b/c.txt", "content": "12345"},
        integrationAlias="shared",
    )
    api.output(
        "storage", "write_file", ws, {"path": "a/d.txt", "content": "1"}, integrationAlias="shared"
    )
    api.output(
        "storage", "write_file", ws, {"path": "ab.txt", "content": "1"}, integrationAlias="shared"
    )
    api.output("storage", "write_file", other, {"path": "x", "content": "1"}, endUserId="zed")
    return ws, other


@pytest.mark.conformance
def test_usage_per_namespace_and_scope(api: Api, services: Services) -> None:
    ws, _ = _fill(api)
    usage = services.meta.usage
    every_user = run(usage.usage("files", ws, "u:", True))
    assert (every_user.files, every_user.bytes) == (9, 90)
    alice = run(usage.usage("files", ws, "u:alice", False))
    assert (alice.files, alice.bytes) == (3, 30)
    assert run(usage.usage("files", ws, "u:ali", False)).files == 0  # exact, not a prefix
    shared = run(usage.usage("files", ws, "w", False))
    assert (shared.files, shared.bytes) == (3, 7)
    assert run(usage.usage("kv", ws, "u:", True)).keys == 1
    assert run(usage.usage("kv", ws, "w", False)).keys == 0


@pytest.mark.conformance
def test_folder_usage_counts_only_under_the_prefix(api: Api, services: Services) -> None:
    ws, _ = _fill(api)
    folder = run(services.meta.usage.folder_usage(Namespace(ws, "w"), "a/"))
    assert (folder.files, folder.bytes) == (2, 6)  # not ab.txt
    assert run(services.meta.usage.folder_usage(Namespace(ws, "u:bob"), "d/")).files == 3


@pytest.mark.conformance
def test_end_users_with_data_by_kind_paged(api: Api, services: Services) -> None:
    ws, other = _fill(api)
    usage = services.meta.usage
    assert run(usage.namespaces("files", ws, "u:", None, 100)) == ["u:alice", "u:bob", "u:carol"]
    assert run(usage.namespaces("kv", ws, "u:", None, 100)) == ["u:dave"]
    assert run(usage.namespaces("files", ws, "u:", None, 2)) == ["u:alice", "u:bob"]
    assert run(usage.namespaces("files", ws, "u:", "u:bob", 2)) == ["u:carol"]
    assert run(usage.namespaces("files", other, "u:", None, 10)) == ["u:zed"]


def _fill_agent_tools(api: Api) -> str:
    ws = api.create_workspace("owners")
    writes = [
        ("agent-memory", "memory", "create_entities",
         {"entities": [{"name": "Ada", "type": "person"}]}, ("erin", "frank")),
        ("agent-scratchpad", "pad", "write_page", {"pageName": "p", "content": "x"}, ("gail",)),
        ("sequential-thinking", "think", "add_thought", {"chainId": "c", "content": "t"},
         ("hal", "erin")),
    ]  # fmt: skip
    for integration, alias, action, params, users in writes:
        api.add_integration(ws, integration, alias)  # end_user scope (the default)
        for user in users:
            api.output(integration, action, ws, params, integrationAlias=alias, endUserId=user)
    return ws


@pytest.mark.conformance
def test_end_users_with_agent_tool_data(api: Api, services: Services) -> None:
    ws = _fill_agent_tools(api)
    usage = services.meta.usage
    assert run(usage.namespaces("memory", ws, "u:", None, 100)) == ["u:erin", "u:frank"]
    assert run(usage.namespaces("memory", ws, "u:", "u:erin", 100)) == ["u:frank"]
    assert run(usage.namespaces("scratchpad", ws, "u:", None, 100)) == ["u:gail"]
    assert run(usage.namespaces("thinking", ws, "u:", None, 1)) == ["u:erin"]
    assert run(usage.namespaces("thinking", ws, "u:", None, 100)) == ["u:erin", "u:hal"]
    assert run(usage.namespaces("kv", ws, "u:", None, 100)) == []


@pytest.mark.conformance
def test_names_are_counted_by_prefix_up_to_a_cap(api: Api, services: Services) -> None:
    ws, _ = _fill(api)
    owners = _fill_agent_tools(api)
    usage = services.meta.usage
    now = clock.now()
    assert run(usage.count_names("files", Namespace(ws, "u:bob"), "d/", now, 100)) == 3
    assert run(usage.count_names("files", Namespace(ws, "u:bob"), "d/", now, 2)) == 2  # capped
    assert run(usage.count_names("files", Namespace(ws, "w"), "a", now, 100)) == 3
    assert run(usage.count_names("files", Namespace(ws, "w"), "a/", now, 100)) == 2
    assert run(usage.count_names("kv", Namespace(ws, "u:dave"), "", now, 100)) == 1
    assert run(usage.count_names("kv", Namespace(ws, "u:dave"), "x", now, 100)) == 0
    assert run(usage.count_names("memory", Namespace(owners, "u:erin"), "A", now, 100)) == 1
    assert run(usage.count_names("scratchpad", Namespace(owners, "u:gail"), "", now, 9)) == 1
    assert run(usage.count_names("thinking", Namespace(owners, "u:hal"), "c", now, 9)) == 1
    # an expired key or file is not counted (it is gone for every read too)
    assert run(usage.count_names("kv", Namespace(ws, "u:dave"), "", now + 10**10, 9)) == 1
    api.output(
        "kv-store", "put", ws, {"key": "short", "value": 1, "expiresInSeconds": 60},
        integrationAlias="state", endUserId="dave",
    )  # fmt: skip
    assert run(usage.count_names("kv", Namespace(ws, "u:dave"), "", now, 9)) == 2
    assert run(usage.count_names("kv", Namespace(ws, "u:dave"), "", now + 3600, 9)) == 1


def test_sqlite_plans_are_index_searches(api: Api, services: Services) -> None:
    """The counting and end-user queries seek the (workspace_id, ns, ...) indexes; none scans
    a table (SQLite's plan says SEARCH, never a bare SCAN of files or kv_entries)."""
    ws, _ = _fill(api)
    db: Any = services.meta.usage.db  # type: ignore[attr-defined]
    statements: list[str] = []
    db._reader.set_trace_callback(statements.append)
    try:
        run(services.meta.usage.namespaces("files", ws, "u:", None, 10))
        run(services.meta.usage.namespaces("kv", ws, "u:", None, 10))
        run(services.meta.usage.usage("files", ws, "u:", True))
        run(services.meta.usage.usage("kv", ws, "w", False))
        run(services.meta.usage.folder_usage(Namespace(ws, "w"), "a/"))
        for kind in ("memory", "scratchpad", "thinking"):
            run(services.meta.usage.namespaces(kind, ws, "u:", None, 10))
        for kind in ("kv", "files", "memory", "scratchpad", "thinking"):
            run(services.meta.usage.count_names(kind, Namespace(ws, "w"), "a", 0.0, 10))
    finally:
        db._reader.set_trace_callback(None)
    assert len(statements) == 13
    for sql in statements:
        plan = " | ".join(row[3] for row in db._reader.execute("EXPLAIN QUERY PLAN " + sql))
        assert "SEARCH" in plan, (sql, plan)
        for table in ("files", "kv_entries", "memory_entities", "scratch_pages", "thinking_chains"):
            assert f"SCAN {table}" not in plan.replace(f"SCAN {table} USING", "_"), (sql, plan)
