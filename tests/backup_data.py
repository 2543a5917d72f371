"""A seeded installation for the backup, restore and copy tests, and exact dumps to compare.

:func:`seed` fills an installation through the API: workspaces, end users, every persistence
scope, KV keys (plain, lists, expiring), files (inline, in the blob store, binary, one large),
API keys (one workspace-scoped), MCP servers with tokens, idempotency records.
:func:`dump_sqlite` reads a SQLite database with plain SQL (not cubby's code), so comparing two
dumps checks the copy independently of the code that made it.
"""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from cubby.app import create_app
from cubby.core import keys
from cubby.settings import Settings
from cubby.wiring import build_services
from tests.helpers import Api

FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")  # FTS5's own tables
# Not compared: the machinery's own tables, and derived counters (usage_counters are counted
# by the target's triggers as rows load; rate_buckets hold a second's worth of state).
SKIP_TABLES = {
    "schema_migrations", "copy_progress", "sqlite_sequence", "rate_buckets", "usage_counters",
}  # fmt: skip


@dataclass
class Seeded:
    org_key: str
    ws_key: str
    workspaces: list[str]


def seed(settings: Settings, n_keys: int, n_files: int, big_bytes: int) -> Seeded:
    services = build_services(settings)
    try:
        _, org_key = asyncio.run(keys.create_key(services.meta, "tests", None, None))
        with TestClient(create_app(settings, services)) as client:
            api = Api(client, org_key)
            return _fill(api, org_key, n_keys, n_files, big_bytes)
    finally:
        services.close()


def _fill(api: Api, org_key: str, n_keys: int, n_files: int, big_bytes: int) -> Seeded:
    workspaces = [api.create_workspace(f"seed-{i}") for i in range(3)]
    ws_key = api.ok(
        "POST", "/api/v1/api-keys",
        {"name": "ws0", "permissions": {"scope": "workspace", "workspaceIds": [workspaces[0]]}},
        status=201,
    )["plainKey"]  # fmt: skip
    cells: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for ws in workspaces:
        api.add_integration(ws, "kv-store", "state")
        api.add_integration(ws, "storage", "files")
        api.add_integration(ws, "kv-store", "shared", {"persistence": {"scope": "workspace"}})
        api.add_integration(ws, "storage", "shared_files", {"persistence": {"scope": "workspace"}})
        api.add_integration(
            ws, "kv-store", "tenant", {"persistence": {"scope": "external", "externalId": "t1"}}
        )
        for user in ("alice", "bob"):
            api.ok("POST", "/api/v1/end-users", {"workspaceId": ws, "externalId": user}, 201)
        server = api.ok("POST", "/api/v1/mcp/servers", {"name": "m", "workspaceId": ws}, 201)
        api.ok("POST", f"/api/v1/mcp/servers/{server['server']['id']}/access-tokens",
               {"endUserId": "alice"}, 201)  # fmt: skip
        cells += [
            (ws, {"integrationAlias": "state", "endUserId": "alice"},
             {"integrationAlias": "files", "endUserId": "alice"}),
            (ws, {"integrationAlias": "state", "endUserId": "bob"},
             {"integrationAlias": "files", "endUserId": "bob"}),
            (ws, {"integrationAlias": "shared"}, {"integrationAlias": "shared_files"}),
            (ws, {"integrationAlias": "tenant"}, {"integrationAlias": "shared_files"}),
        ]  # fmt: skip
    for i in range(n_keys):
        ws, kv, _ = cells[i % len(cells)]
        key = f"k/{i:05d}"
        if i % 7 == 0:
            for item in (i, {"n": i, "s": "é\u2603"}, [1, 2], "x" * (i % 30)):
                api.output("kv-store", "add_to_list", ws, {"key": key, "value": item}, **kv)
        elif i % 5 == 0:
            api.output("kv-store", "put", ws,
                       {"key": key, "value": {"i": i, "f": 0.1 * i}, "expiresInSeconds": 3600 + i},
                       **kv)  # fmt: skip
        else:
            api.output("kv-store", "put", ws, {"key": key, "value": {"i": i, "b": [True, None]}},
                       **kv)  # fmt: skip
    for ws in workspaces:
        _agent_tools(api, ws)
    api.output("kv-store", "put", workspaces[0], {"key": "idem", "value": 1},
               integrationAlias="shared", idempotencyKey="seed-once")  # fmt: skip
    for i in range(n_files):
        ws, _, files = cells[i % len(cells)]
        size = big_bytes if i == 0 else (100_000 + i if i % 3 == 0 else 50 + i)
        body = bytes((i * 7 + j) % 256 for j in range(size)) if i else _big(size)
        api.output(
            "storage", "write_file", ws,
            {"path": f"d{i % 4}/f-{i}.bin", "content": base64.b64encode(body).decode(),
             "contentEncoding": "base64", "contentType": "application/octet-stream",
             **({"expiresInSeconds": 7200} if i % 11 == 0 else {})},
            **files,
        )  # fmt: skip
    return Seeded(org_key, ws_key, workspaces)


def _agent_tools(api: Api, ws: str) -> None:
    """A memory graph, scratchpad pages and a thinking chain with a branch and a revision."""
    api.add_integration(ws, "agent-memory", "memory")
    api.add_integration(ws, "agent-scratchpad", "pad")
    api.add_integration(ws, "sequential-thinking", "thinking")
    who = {"endUserId": "alice"}
    api.output("agent-memory", "create_entities", ws, {"entities": [
        {"name": "Alice", "type": "person", "observations": ["likes café", "lives in Zürich"]},
        {"name": "Bob", "type": "person", "observations": ["plays chess"]},
    ]}, integrationAlias="memory", **who)  # fmt: skip
    api.output("agent-memory", "add_observations", ws, {"observations": [
        {"entityName": "Bob", "contents": ["owns a cat", "speaks 3 languages"]}]},
        integrationAlias="memory", **who)  # fmt: skip
    api.output("agent-memory", "create_relations", ws,
               {"relations": [{"from": "Alice", "to": "Bob", "type": "knows"}]},
               integrationAlias="memory", **who)  # fmt: skip
    for i in range(3):
        api.output("agent-scratchpad", "write_page", ws,
                   {"pageName": f"notes/{i}", "content": f"page {i} über résumé"},
                   integrationAlias="pad", **who)  # fmt: skip
    for text in ("first", "second", "third"):
        api.output("sequential-thinking", "add_thought", ws, {"chainId": "c1", "content": text},
                   integrationAlias="thinking", **who)  # fmt: skip
    api.output("sequential-thinking", "branch_thought", ws,
               {"chainId": "c1", "thoughtId": 2, "branchName": "alt", "content": "other"},
               integrationAlias="thinking", **who)  # fmt: skip
    api.output("sequential-thinking", "revise_thought", ws,
               {"chainId": "c1", "thoughtId": 1, "content": "first, revised"},
               integrationAlias="thinking", **who)  # fmt: skip


def _big(size: int) -> bytes:
    block = bytes(range(256)) * 4096
    return (block * (size // len(block) + 1))[:size]


def dump_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: an exact picture of the metadata."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] not in SKIP_TABLES and not r[0].endswith(FTS_SHADOWS)
        ]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }
    finally:
        conn.close()


def dump_folder(root: Path) -> dict[str, bytes]:
    """Every body of a files folder by key (staging and hold objects left out)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "#" not in p.name and "cubby-backup-hold" not in str(p)
    }
