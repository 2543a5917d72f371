"""Dashboard sessions and usage counts on PostgreSQL."""

from __future__ import annotations

from cubby.backends.base import DashboardSession, DataKind, OwnerKind, StoredKey, Usage
from cubby.backends.postgres.db import PgDatabase
from cubby.backends.rows import KEY_COLS, key_row
from cubby.backends.sqlite.dashboard import EXPIRING, NAMES, TABLES
from cubby.backends.sqlite.files import prefix_upper_bound
from cubby.core.scopes import Namespace

_KEY_COLS = ", ".join("k." + col for col in KEY_COLS.split(", "))


class PgSessions:
    def __init__(self, db: PgDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    async def create(
        self, id_hash: str, key_id: str, csrf_token: str, created_at: str, expires_at: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO dashboard_sessions (id_hash, key_id, csrf_token, created_at, "
            "expires_at) VALUES ($1, $2, $3, $4, $5)",
            id_hash,
            key_id,
            csrf_token,
            created_at,
            expires_at,
        )

    async def find(self, id_hash: str) -> DashboardSession | None:
        row = await self.db.fetchrow(
            f"SELECT {_KEY_COLS}, k.key_hash, k.revoked_at, s.csrf_token, s.expires_at "
            "FROM dashboard_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.id_hash = $1",
            id_hash,
        )
        if row is None:
            return None
        key = StoredKey(key=key_row(row, self.org_id), key_hash=row[7], revoked=row[8] is not None)
        return DashboardSession(key=key, csrf_token=row[9], expires_at=row[10])

    async def delete(self, id_hash: str) -> None:
        await self.db.execute("DELETE FROM dashboard_sessions WHERE id_hash = $1", id_hash)

    async def delete_expired(self, now: str) -> int:
        return await self.db.execute("DELETE FROM dashboard_sessions WHERE expires_at <= $1", now)

    async def count_open(self, now: str) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM dashboard_sessions WHERE expires_at > $1", now
            )
        )


class PgUsage:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def usage(self, kind: DataKind, workspace_id: str, ns: str, prefix: bool) -> Usage:
        # Conditions are spelled out per case (no "$3 IS NULL OR ..."), so each one is an
        # index range condition in every plan, generic ones included.
        high = prefix_upper_bound(ns) if prefix and ns else None
        if not prefix:
            cond, args = "ns = $2", [ns]
        elif high is None:
            cond, args = "ns >= $2", [ns]
        else:
            cond, args = "ns >= $2 AND ns < $3", [ns, high]
        if kind == "kv":
            count = await self.db.fetchval(
                f"SELECT count(*) FROM kv_entries WHERE workspace_id = $1 AND {cond}",
                workspace_id,
                *args,
            )
            return Usage(keys=int(count))
        row = await self.db.fetchrow(
            "SELECT count(*), coalesce(sum(size), 0) FROM files "
            f"WHERE workspace_id = $1 AND {cond}",
            workspace_id,
            *args,
        )
        return Usage(files=int(row[0]), bytes=int(row[1]))

    async def folder_usage(self, ns: Namespace, path_prefix: str) -> Usage:
        upper = prefix_upper_bound(path_prefix) if path_prefix else None
        sql = (
            "SELECT count(*), coalesce(sum(size), 0) FROM files "
            "WHERE workspace_id = $1 AND ns = $2 AND path >= $3"
        )
        args = [ns.workspace_id, ns.ns, path_prefix]
        if upper is not None:
            sql += " AND path < $4"
            args.append(upper)
        row = await self.db.fetchrow(sql, *args)
        return Usage(files=int(row[0]), bytes=int(row[1]))

    async def count_names(
        self, kind: OwnerKind, ns: Namespace, prefix: str, now: float, cap: int
    ) -> int:
        column = NAMES[kind]
        conditions = [f"workspace_id = $1 AND ns = $2 AND {column} >= $3"]
        args: list[object] = [ns.workspace_id, ns.ns, prefix]
        upper = prefix_upper_bound(prefix) if prefix else None
        if upper is not None:
            args.append(upper)
            conditions.append(f"{column} < ${len(args)}")
        if kind in EXPIRING:
            args.append(now)
            conditions.append(f"(expires_at IS NULL OR expires_at > ${len(args)})")
        args.append(cap)
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLES[kind]} "
            f"WHERE {' AND '.join(conditions)} LIMIT ${len(args)}) AS capped"
        )
        return int(await self.db.fetchval(sql, *args))

    async def namespaces(
        self, kind: OwnerKind, workspace_id: str, ns_prefix: str, after: str | None, limit: int
    ) -> list[str]:
        table = TABLES[kind]
        high = prefix_upper_bound(ns_prefix) if ns_prefix else None
        start = after if after is not None and after > ns_prefix else ns_prefix
        # A loose index scan: each step seeks the next distinct ns on the primary key.
        bound = " AND ns < $4" if high is not None else ""
        args: list[object] = [workspace_id, start, limit]
        if high is not None:
            args.append(high)
        rows = await self.db.fetch(
            "WITH RECURSIVE o(ns, n) AS ("
            f" SELECT (SELECT min(ns) FROM {table} WHERE workspace_id = $1 AND ns > $2{bound}),"
            " 1"
            " UNION ALL"
            f" SELECT (SELECT min(ns) FROM {table} WHERE workspace_id = $1 AND ns > o.ns{bound}),"
            " o.n + 1 FROM o WHERE o.ns IS NOT NULL AND o.n < $3"
            ") SELECT ns FROM o WHERE ns IS NOT NULL",
            *args,
        )
        return [r[0] for r in rows]
