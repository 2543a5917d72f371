"""Migration 0005 on data written before it (SQLite and PostgreSQL): existing keys get version 1,
no expiry and the right size, existing list items (stored canonical) still match removes, and
writes carry on from there."""

from __future__ import annotations

import asyncio
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg

from cubby.backends.postgres.db import PgDatabase
from cubby.backends.postgres.kv import PgKv
from cubby.backends.postgres.migrate import apply_migrations, migration_files
from cubby.backends.postgres.store import parse_url
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.backends.sqlite.kv import SqliteKv
from cubby.core.kv_values import list_item
from cubby.core.scopes import Namespace
from tests.backends import postgres_url

NS = Namespace("w1", "w")
BEFORE = 5  # the first migration of issue 14's KV part
LEGACY_ROWS = [
    ("w1", "w", "doc", 0, '{"b":[1,2],"a":"é"}', 0),
    ("w1", "w", "list", 1, None, 3),
    ("w1", "w", "empty", 1, None, 0),
]
LEGACY_ITEMS = [
    ("w1", "w", "list", '"x"'),
    ("w1", "w", "list", '{"a":1,"b":2}'),
    ("w1", "w", "list", "1.5"),
]


def expected_sizes() -> dict[str, int]:
    return {
        "doc": len('{"b":[1,2],"a":"é"}'.encode()),
        "list": len('["x",{"a":1,"b":2},1.5]'),
        "empty": 2,
    }


async def check(kv: Any) -> None:
    page = await kv.page(NS, "", None, 10)
    assert {i.key: i.size for i in page} == expected_sizes()
    assert {(i.version, i.expires_at) for i in page} == {(1, None)}
    found = await kv.get(NS, "list")
    assert found.value == b'["x",{"a":1,"b":2},1.5]' and found.version == 1
    # An item stored canonical before the migration matches a remove in any member order.
    assert await kv.remove(NS, "list", list_item(b'{"b":2,"a":1}')) == (1, 2)
    assert await kv.append(NS, "list", list_item(b"2.50"), max_items=10) == (3, 3)
    assert (await kv.get(NS, "list")).value == b'["x",1.5,2.50]'
    assert {i.key: i.size for i in await kv.page(NS, "list", None, 10)} == {
        "list": len('["x",1.5,2.50]')
    }
    assert await kv.put(NS, "doc", b"1", None, if_version=1) == 2


def test_sqlite_migration_keeps_existing_keys(tmp_path: Path) -> None:
    path = tmp_path / "cubby.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    folder = resources.files("cubby.backends.sqlite") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        version = int(entry.name.split("_", 1)[0]) if entry.name.endswith(".sql") else BEFORE
        if version < BEFORE:
            conn.executescript(entry.read_text(encoding="utf-8"))
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, entry.name)
            )
    conn.executemany(
        "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z')",
        LEGACY_ROWS,
    )
    conn.executemany(
        "INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash) "
        "VALUES (?, ?, ?, ?, ?)",
        [(*row, list_item(row[3].encode()).hash) for row in LEGACY_ITEMS],
    )
    conn.close()
    db = SqliteDatabase(path)  # applies 0005 and later
    try:
        asyncio.run(check(SqliteKv(db)))
    finally:
        db.close()


def test_postgres_migration_keeps_existing_keys() -> None:
    dsn, _ = parse_url(postgres_url(fresh=True))  # an empty schema, not a migrated one

    async def scenario() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL "
                "DEFAULT now())"
            )
            for version, name, sql in migration_files():
                if version < BEFORE:
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations VALUES ($1, $2)", version, name
                    )
            await conn.executemany(
                "INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, "
                "updated_at) VALUES ($1, $2, $3, $4::int::boolean, $5, $6, "
                "'2026-01-01T00:00:00.000Z')",
                LEGACY_ROWS,
            )
            await conn.executemany(
                "INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(*row, list_item(row[3].encode()).hash) for row in LEGACY_ITEMS],
            )
            assert BEFORE in await apply_migrations(conn)
        finally:
            await conn.close()
        await check(PgKv(PgDatabase(dsn)))

    asyncio.run(scenario())
