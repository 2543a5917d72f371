"""Usage counters, limits and rate-limit leases on PostgreSQL (migrations/0018_usage_limits.sql).

The counters are kept by triggers inside each write's transaction; this module reads them,
stores limits, rebuilds the counters from the data and leases rate-limit tokens (one upsert;
the row lock serialises leases of one workspace across processes).
"""

from __future__ import annotations

from cubby.backends.postgres.db import PgDatabase
from cubby.core.limit_values import Limits, UsageFigures, flat, from_flat

_LIMIT_COLS = (
    "max_bytes, max_files, max_keys, max_items, eu_max_bytes, eu_max_files, eu_max_keys, "
    "eu_max_items, requests_per_second, burst"
)
_USAGE_COLS = "bytes, files, keys, items, end_users"

RECOUNT = """
INSERT INTO usage_counters (workspace_id, owner, bytes, files, keys, items, end_users)
SELECT workspace_id, owner, sum(bytes), sum(files), sum(keys), sum(items),
    sum(end_users) FROM (
    SELECT workspace_id, ''::text COLLATE "C" AS owner, size AS bytes, 0 AS files, 1 AS keys,
        0 AS items, 0 AS end_users FROM kv_entries
    UNION ALL
    SELECT workspace_id, ns, size, 0, 1, 0, 0 FROM kv_entries WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', size, 1, 0, 0, 0 FROM files
    UNION ALL
    SELECT workspace_id, ns, size, 1, 0, 0, 0 FROM files WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM memory_entities
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM memory_entities WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM scratch_pages
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM scratch_pages WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM thoughts
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM thoughts WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 0, 1 FROM end_users
    UNION ALL
    SELECT id, '', 0, 0, 0, 0, 0 FROM workspaces
) x GROUP BY workspace_id, owner
"""

# The SQLite twin (backends/sqlite/usage.py) explains it. $1 workspace, $2 want, $3 rate,
# $4 burst, $5 now.
_REFILLED = "least($4::float8, b.tokens + greatest(0, $5::float8 - b.updated) * $3::float8)"
_LEASE = (
    "INSERT INTO rate_buckets AS b (workspace_id, tokens, updated, granted) "
    "VALUES ($1, $4::float8 - least($2::bigint, $4::float8), $5, least($2::bigint, $4::bigint)) "
    "ON CONFLICT (workspace_id) DO UPDATE SET "
    f"granted = least($2::bigint, floor({_REFILLED} + 1e-9)::bigint), "
    f"tokens = {_REFILLED} - least($2::bigint, floor({_REFILLED} + 1e-9)::bigint), "
    "updated = greatest(b.updated, $5::float8) "
    "RETURNING granted, tokens"
)


class PgLimits:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def usage(self, workspace_id: str, owner: str = "") -> UsageFigures:
        row = await self.db.fetchrow(
            f"SELECT {_USAGE_COLS} FROM usage_counters WHERE workspace_id = $1 AND owner = $2",
            workspace_id,
            owner,
        )
        return UsageFigures(*(int(v) for v in row)) if row else UsageFigures()

    async def top_usage(self, limit: int) -> list[tuple[str, UsageFigures]]:
        rows = await self.db.fetch(
            f"SELECT workspace_id, {_USAGE_COLS} FROM usage_counters WHERE owner = '' "
            "ORDER BY bytes DESC, workspace_id LIMIT $1",
            limit,
        )
        return [(r[0], UsageFigures(*(int(v) for v in list(r)[1:]))) for r in rows]

    async def get_limits(self, workspace_id: str) -> Limits:
        row = await self.db.fetchrow(
            f"SELECT {_LIMIT_COLS} FROM usage_limits WHERE workspace_id = $1", workspace_id
        )
        return from_flat(tuple(row) if row is not None else None)

    async def set_limits(self, workspace_id: str, limits: Limits) -> None:
        values = (workspace_id, *flat(limits))
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in _LIMIT_COLS.split(", "))
        await self.db.execute(
            f"INSERT INTO usage_limits (workspace_id, {_LIMIT_COLS}) VALUES ({marks}) "
            f"ON CONFLICT (workspace_id) DO UPDATE SET {sets}",
            *values,
        )

    async def recount(self) -> int:
        # The lock waits for writers that have moved a counter and not committed yet, and
        # holds new ones at their trigger until the recount commits: each write is then either
        # in the recounted data or applies its delta after (0018's notes).
        async with self.db.connection() as conn, conn.transaction():
            await conn.execute("LOCK TABLE usage_counters IN EXCLUSIVE MODE")
            await conn.execute("DELETE FROM usage_counters")
            status = await conn.execute(RECOUNT)
        return int(str(status).rsplit(" ", 1)[-1])

    async def lease(
        self, workspace_id: str, want: int, rate: float, burst: int, now: float
    ) -> tuple[int, float]:
        row = await self.db.fetchrow(_LEASE, workspace_id, want, rate, burst, now)
        return int(row[0]), float(row[1])
