"""Dashboard sessions and usage counts on SQLite."""

from __future__ import annotations

import sqlite3

from cubby.backends.base import DashboardSession, DataKind, OwnerKind, StoredKey, Usage
from cubby.backends.rows import KEY_COLS, key_row
from cubby.backends.sqlite.db import SqliteDatabase
from cubby.backends.sqlite.files import prefix_upper_bound
from cubby.core.scopes import Namespace

# Each with a (workspace_id, ns, ...) index for namespaces()' loose index scan.
TABLES: dict[OwnerKind, str] = {
    "kv": "kv_entries",
    "files": "files",
    "memory": "memory_entities",
    "scratchpad": "scratch_pages",
    "thinking": "thinking_chains",
}
# The column each kind's rows are named and listed by, and the kinds whose rows expire.
NAMES: dict[OwnerKind, str] = {
    "kv": "key",
    "files": "path",
    "memory": "name",
    "scratchpad": "name",
    "thinking": "chain_id",
}
EXPIRING: frozenset[OwnerKind] = frozenset({"kv", "files"})
_KEY_COLS = ", ".join("k." + col for col in KEY_COLS.split(", "))


def ns_where(ns: str, prefix: bool) -> tuple[str, list[str]]:
    """The ``ns`` condition: one value, or the range of every value it prefixes."""
    if not prefix:
        return "ns = ?", [ns]
    high = prefix_upper_bound(ns) if ns else None
    if high is None:
        return "ns >= ?", [ns]
    return "ns >= ? AND ns < ?", [ns, high]


class SqliteSessions:
    def __init__(self, db: SqliteDatabase, org_id: str) -> None:
        self.db = db
        self.org_id = org_id

    async def create(
        self, id_hash: str, key_id: str, csrf_token: str, created_at: str, expires_at: str
    ) -> None:
        await self.db.write(
            lambda c: c.execute(
                "INSERT INTO dashboard_sessions (id_hash, key_id, csrf_token, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                (id_hash, key_id, csrf_token, created_at, expires_at),
            )
        )

    async def find(self, id_hash: str) -> DashboardSession | None:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT {_KEY_COLS}, k.key_hash, k.revoked_at, s.csrf_token, s.expires_at "
                "FROM dashboard_sessions s JOIN api_keys k ON k.id = s.key_id "
                "WHERE s.id_hash = ?",
                (id_hash,),
            ).fetchone()
        )
        if row is None:
            return None
        key = StoredKey(key=key_row(row, self.org_id), key_hash=row[7], revoked=row[8] is not None)
        return DashboardSession(key=key, csrf_token=row[9], expires_at=row[10])

    async def delete(self, id_hash: str) -> None:
        await self.db.write(
            lambda c: c.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", (id_hash,))
        )

    async def delete_expired(self, now: str) -> int:
        cur = await self.db.write(
            lambda c: c.execute("DELETE FROM dashboard_sessions WHERE expires_at <= ?", (now,))
        )
        return int(cur.rowcount)

    async def count_open(self, now: str) -> int:
        return int(
            self.db.read(
                lambda c: c.execute(
                    "SELECT count(*) FROM dashboard_sessions WHERE expires_at > ?", (now,)
                ).fetchone()[0]
            )
        )


class SqliteUsage:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def usage(self, kind: DataKind, workspace_id: str, ns: str, prefix: bool) -> Usage:
        cond, ns_args = ns_where(ns, prefix)
        where = f"workspace_id = ? AND {cond}"
        args = [workspace_id, *ns_args]
        if kind == "kv":
            row = self.db.read(
                lambda c: c.execute(
                    f"SELECT count(*) FROM kv_entries WHERE {where}", args
                ).fetchone()
            )
            return Usage(keys=int(row[0]))
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT count(*), coalesce(sum(size), 0) FROM files WHERE {where}", args
            ).fetchone()
        )
        return Usage(files=int(row[0]), bytes=int(row[1]))

    async def folder_usage(self, ns: Namespace, path_prefix: str) -> Usage:
        sql = (
            "SELECT count(*), coalesce(sum(size), 0) FROM files "
            "WHERE workspace_id = ? AND ns = ? AND path >= ?"
        )
        args = [ns.workspace_id, ns.ns, path_prefix]
        upper = prefix_upper_bound(path_prefix) if path_prefix else None
        if upper is not None:
            sql += " AND path < ?"
            args.append(upper)
        row = self.db.read(lambda c: c.execute(sql, args).fetchone())
        return Usage(files=int(row[0]), bytes=int(row[1]))

    async def count_names(
        self, kind: OwnerKind, ns: Namespace, prefix: str, now: float, cap: int
    ) -> int:
        column = NAMES[kind]
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM {TABLES[kind]} "
            f"WHERE workspace_id = ? AND ns = ? AND {column} >= ?"
        )
        args: list[object] = [ns.workspace_id, ns.ns, prefix]
        upper = prefix_upper_bound(prefix) if prefix else None
        if upper is not None:
            sql += f" AND {column} < ?"
            args.append(upper)
        if kind in EXPIRING:
            sql += " AND (expires_at IS NULL OR expires_at > ?)"
            args.append(now)
        sql += " LIMIT ?)"
        args.append(cap)
        row = self.db.read(lambda c: c.execute(sql, args).fetchone())
        return int(row[0])

    async def namespaces(
        self, kind: OwnerKind, workspace_id: str, ns_prefix: str, after: str | None, limit: int
    ) -> list[str]:
        table = TABLES[kind]
        high = prefix_upper_bound(ns_prefix) if ns_prefix else None
        # A recursive CTE that seeks to the next distinct ns each step (a "loose index scan"
        # on the (workspace_id, ns, ...) primary key): cost grows with the values returned,
        # not with the rows behind them.
        bound = " AND ns < :high" if high is not None else ""
        sql = (
            "WITH RECURSIVE o(ns, n) AS ("
            f" SELECT (SELECT min(ns) FROM {table} WHERE workspace_id = :ws AND ns > :start"
            f"{bound}), 1"
            " UNION ALL"
            f" SELECT (SELECT min(ns) FROM {table} WHERE workspace_id = :ws AND ns > o.ns{bound}),"
            " o.n + 1 FROM o WHERE o.ns IS NOT NULL AND o.n < :limit"
            ") SELECT ns FROM o WHERE ns IS NOT NULL"
        )
        start = after if after is not None and after > ns_prefix else ns_prefix
        params = {"ws": workspace_id, "start": start, "high": high, "limit": limit}

        def query(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute(sql, params).fetchall()]

        return self.db.read(query)
