"""Schema migrations for PostgreSQL: ``migrations/NNNN_name.sql``, applied in order.

All pending files run in one transaction that first takes a transaction-scoped advisory lock,
so processes starting together apply each migration exactly once (the others wait, then find
the versions recorded). DDL is transactional in PostgreSQL: a failing migration leaves nothing.
The lock and the tables live in the connection's current schema (``search_path``), so several
cubby deployments (or test runs) can share one database in separate schemas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from cubby.backends.postgres.list_rehash import rehash_list_items
from cubby.core.models import new_id, utc_now

LOCK_NAMESPACE = "cubby.migrations."

# Migrations whose work is code (what SQL cannot compute here), run in the migration's
# transaction right after its file.
MIGRATION_STEPS: dict[int, Callable[[Any], Awaitable[object]]] = {22: rehash_list_items}


def migration_files() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every migration shipped with cubby, in order."""
    folder = resources.files("cubby.backends.postgres") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def apply_migrations(conn: Any) -> list[int]:
    """Apply pending migrations; returns the versions this call applied."""
    done: list[int] = []
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1 || current_schema()))", LOCK_NAMESPACE
        )
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, sql in migration_files():
            if version in applied:
                continue
            await conn.execute(sql)
            step = MIGRATION_STEPS.get(version)
            if step is not None:
                await step(conn)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
            done.append(version)
    return done


async def ensure_org(conn: Any) -> str:
    """The organisation id, created on first start (the same singleton SQLite keeps)."""
    await conn.execute(
        "INSERT INTO org (singleton, id, created_at) VALUES (TRUE, $1, $2) "
        "ON CONFLICT (singleton) DO NOTHING",
        new_id(),
        utc_now(),
    )
    return str(await conn.fetchval("SELECT id FROM org"))
