"""Migration 0022 and loads (restore, copy, import) recompute list items' canonical hashes:
items stored before numbers compared by value (issue 28 item 8: ``1.0`` is ``1``) carry the
hash of their old canonical form, and a remove by value must still find them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg

from cubby.backends.postgres.db import PgDatabase
from cubby.backends.postgres.kv import PgKv
from cubby.backends.postgres.migrate import apply_migrations
from cubby.backends.postgres.store import parse_url
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.backends.sqlite.kv import SqliteKv
from cubby.core.kv_values import list_item, value_hash
from cubby.core.scopes import Namespace
from cubby.settings import Settings
from tests.backends import postgres_url
from tests.backup_data import seed
from tests.helpers import cubby_cli

NS = Namespace("w1", "w")
# (item as sent, its canonical form before issue 28 item 8, a value equal to it now)
OLD_FORMS = [
    (b"1.0", b"1.0", b"1"),
    (b'{"b":1e2,"a":[2.0]}', b'{"a":[2.0],"b":100.0}', b'{"a":[2],"b":100}'),
]
UNTOUCHED = [b'"hello e"', b"1.5", b"7"]  # canonical before and after


def stale_rows() -> list[tuple[str, str, int]]:
    """(text, old canon or None, old hash) for every item, as the old code stored them."""
    rows = [(t.decode(), None if old == t else old.decode(), value_hash(old))
            for t, old, _ in OLD_FORMS]  # fmt: skip
    return rows + [(t.decode(), None, list_item(t).hash) for t in UNTOUCHED]


async def removes_find_every_item(kv: SqliteKv | PgKv) -> None:
    for _, _, equal in OLD_FORMS:
        removed, _ = await kv.remove(NS, "list", list_item(equal))
        assert removed == 1, equal
    assert (await kv.get(NS, "list")).value == b'["hello e",1.5,7]'


async def seeded(kv: SqliteKv | PgKv) -> None:
    for text, _, _ in OLD_FORMS:
        await kv.append(NS, "list", list_item(text), max_items=100)
    for text in UNTOUCHED:
        await kv.append(NS, "list", list_item(text), max_items=100)


def seed_stale_sqlite(path: Path) -> None:
    db = SqliteDatabase(path)
    try:
        asyncio.run(seeded(SqliteKv(db)))
    finally:
        db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for text, canon, old_hash in stale_rows():
        conn.execute(
            "UPDATE kv_list_items SET canon = ?, value_hash = ? WHERE value = ?",
            (canon, old_hash, text),
        )
    conn.close()


def test_sqlite_migration_rehashes_old_list_items(tmp_path: Path) -> None:
    path = tmp_path / "cubby.db"
    seed_stale_sqlite(path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM schema_migrations WHERE version = 22")
    conn.close()
    db = SqliteDatabase(path)  # applies 0022 again
    try:
        asyncio.run(removes_find_every_item(SqliteKv(db)))
    finally:
        db.close()


def test_postgres_migration_rehashes_old_list_items() -> None:
    dsn, _ = parse_url(postgres_url(fresh=True))

    async def scenario() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await apply_migrations(conn)
            await seeded(PgKv(PgDatabase(dsn)))
            for text, canon, old_hash in stale_rows():
                await conn.execute(
                    "UPDATE kv_list_items SET canon = $1, value_hash = $2 WHERE value = $3",
                    canon, old_hash, text,
                )  # fmt: skip
            await conn.execute("DELETE FROM schema_migrations WHERE version = 22")
            assert await apply_migrations(conn) == [22]
        finally:
            await conn.close()
        await removes_find_every_item(PgKv(PgDatabase(dsn)))

    asyncio.run(scenario())


def test_a_restore_rehashes_the_list_items_of_an_old_backup(tmp_path: Path) -> None:
    source = Settings(data_dir=tmp_path / "source")
    seed(source, n_keys=1, n_files=1, big_bytes=10)
    seed_stale_sqlite(source.data_dir / "cubby.db")  # as a backup made before 0022 holds them
    archive = tmp_path / "backup.tar"
    done = cubby_cli("backup", str(archive), "--data-dir", str(source.data_dir))
    assert done.returncode == 0, done.stderr
    target = tmp_path / "restored"
    done = cubby_cli("restore", str(archive), "--data-dir", str(target))
    assert done.returncode == 0, done.stderr
    db = SqliteDatabase(target / "cubby.db")
    try:
        asyncio.run(removes_find_every_item(SqliteKv(db)))
    finally:
        db.close()
