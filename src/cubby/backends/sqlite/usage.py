"""Usage counters, limits and rate-limit leases on SQLite (migrations/0018_usage_limits.sql).

The counters are kept by triggers inside each write's transaction; this module only reads
them, stores limits, rebuilds the counters from the data (``cubby usage --recount``) and leases
rate-limit tokens. A lease is one upsert on the writer thread (see :func:`lease_sql`).
"""

from __future__ import annotations

import sqlite3

from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.limit_values import Limits, UsageFigures, flat, from_flat

_LIMIT_COLS = (
    "max_bytes, max_files, max_keys, max_items, eu_max_bytes, eu_max_files, eu_max_keys, "
    "eu_max_items, requests_per_second, burst"
)
_USAGE_COLS = "bytes, files, keys, items, end_users"

# Every counter from the data (the migration runs the same once).
RECOUNT = """
INSERT INTO usage_counters (workspace_id, owner, bytes, files, keys, items, end_users)
SELECT workspace_id, owner, sum(bytes), sum(files), sum(keys), sum(items),
    sum(end_users) FROM (
    SELECT workspace_id, '' AS owner, size AS bytes, 0 AS files, 1 AS keys, 0 AS items,
        0 AS end_users FROM kv_entries
    UNION ALL
    SELECT workspace_id, ns, size, 0, 1, 0, 0 FROM kv_entries WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', size, 1, 0, 0, 0 FROM files
    UNION ALL
    SELECT workspace_id, ns, size, 1, 0, 0, 0 FROM files WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM memory_entities
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM memory_entities WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM scratch_pages
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM scratch_pages WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM thoughts
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM thoughts WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 0, 1 FROM end_users
    UNION ALL
    SELECT id, '', 0, 0, 0, 0, 0 FROM workspaces
) GROUP BY workspace_id, owner
"""


# One upsert refills the shared bucket for the time since the last lease, takes up to ``want``
# whole tokens and returns (granted, left); SET reads the old row in every expression.
# Parameters: workspace, want, rate, burst, now.
_REFILLED = "min(?4, b.tokens + max(0, ?5 - b.updated) * ?3)"
_LEASE = (
    "INSERT INTO rate_buckets AS b (workspace_id, tokens, updated, granted) "
    "VALUES (?1, ?4 - min(?2, ?4), ?5, min(?2, ?4)) "
    "ON CONFLICT (workspace_id) DO UPDATE SET "
    f"granted = min(?2, CAST({_REFILLED} + 1e-9 AS INTEGER)), "
    f"tokens = {_REFILLED} - min(?2, CAST({_REFILLED} + 1e-9 AS INTEGER)), "
    "updated = max(b.updated, ?5) "
    "RETURNING granted, tokens"
)


class SqliteLimits:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def usage(self, workspace_id: str, owner: str = "") -> UsageFigures:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {_USAGE_COLS} FROM usage_counters WHERE workspace_id = ? AND owner = ?",
                (workspace_id, owner),
            ).fetchone()
        )
        return UsageFigures(*(int(v) for v in row)) if row else UsageFigures()

    async def top_usage(self, limit: int) -> list[tuple[str, UsageFigures]]:
        rows = self.db.read(
            lambda c: c.execute(
                f"SELECT workspace_id, {_USAGE_COLS} FROM usage_counters WHERE owner = '' "
                "ORDER BY bytes DESC, workspace_id LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [(r[0], UsageFigures(*(int(v) for v in r[1:]))) for r in rows]

    async def get_limits(self, workspace_id: str) -> Limits:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {_LIMIT_COLS} FROM usage_limits WHERE workspace_id = ?", (workspace_id,)
            ).fetchone()
        )
        return from_flat(row)

    async def set_limits(self, workspace_id: str, limits: Limits) -> None:
        values = (workspace_id, *flat(limits))
        marks = ", ".join("?" * len(values))
        sets = ", ".join(f"{c} = excluded.{c}" for c in _LIMIT_COLS.split(", "))
        sql = (
            f"INSERT INTO usage_limits (workspace_id, {_LIMIT_COLS}) VALUES ({marks}) "
            f"ON CONFLICT (workspace_id) DO UPDATE SET {sets}"
        )
        await self.db.write(lambda c: c.execute(sql, values))

    async def recount(self) -> int:
        def write(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM usage_counters")
            return int(conn.execute(RECOUNT).rowcount)

        return await self.db.write(write)

    async def lease(
        self, workspace_id: str, want: int, rate: float, burst: int, now: float
    ) -> tuple[int, float]:
        row = await self.db.write(
            lambda c: c.execute(_LEASE, (workspace_id, want, rate, burst, now)).fetchone()
        )
        return int(row[0]), float(row[1])
