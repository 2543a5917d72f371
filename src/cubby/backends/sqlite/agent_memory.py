"""Agent Memory on SQLite: one row per entity, observation and relation (migration 0017).

Each write is one job of the writer thread, so a batch is one transaction: a missing entity
raises before the job returns and the job's SAVEPOINT rolls back everything it wrote. SQLite
serialises writers (across processes too), and each observation is its own row under a unique
``(entity_id, digest)``, so concurrent calls adding to one entity all land, none twice. Search
runs on ``memory_fts`` (FTS5), whose rows are written in the same job as the rows they index.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.sqlite.db import SqliteDatabase
from cubby.core.agent_records import Entity, NewEntity, Relation, RelationKey, ScoredEntity
from cubby.core.agent_text import digest, entity_not_found, fts5_query, index_words, scope_token
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace

_NS = "workspace_id = ? AND ns = ?"
_INSERT_OBS = (
    "INSERT INTO memory_observations (entity_id, workspace_id, ns, text, digest, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_FTS = "INSERT INTO memory_fts (rowid, entity, name, type, body) VALUES (?, ?, ?, ?, ?)"
_ENTITY_COLS = "id, name, type, created_at, updated_at"


def _add_texts(
    conn: sqlite3.Connection, ns: Namespace, row: tuple[Any, ...], texts: list[str], now: str
) -> list[str]:
    """Insert the texts the entity lacks (one row each) and index them; returns those added."""
    entity_id, name, type_ = row[0], row[1], row[2]
    scope = scope_token(ns.workspace_id, ns.ns)
    name_words, type_words = index_words(scope, name), index_words(scope, type_)
    added: list[str] = []
    for text in dict.fromkeys(texts):
        got = conn.execute(
            _INSERT_OBS, (entity_id, ns.workspace_id, ns.ns, text, digest(text), now)
        ).fetchone()
        if got is None:
            continue
        conn.execute(
            _INSERT_FTS, (got[0], entity_id, name_words, type_words, index_words(scope, text))
        )
        added.append(text)
    return added


def _entity_row(conn: sqlite3.Connection, ns: Namespace, name: str) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = conn.execute(
        f"SELECT {_ENTITY_COLS} FROM memory_entities WHERE {_NS} AND name = ?",
        (ns.workspace_id, ns.ns, name),
    ).fetchone()
    return row


def _with_observations(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> list[Entity]:
    """Entities for ``rows`` (id, name, type, created, updated), with their observations in
    the order they were added: one indexed query for the whole page."""
    if not rows:
        return []
    texts: dict[int, list[str]] = {int(r[0]): [] for r in rows}
    marks = ",".join("?" * len(rows))
    for entity_id, text in conn.execute(
        f"SELECT entity_id, text FROM memory_observations WHERE entity_id IN ({marks}) "
        "ORDER BY entity_id, id",
        list(texts),
    ):
        texts[int(entity_id)].append(text)
    return [Entity(r[1], r[2], texts[int(r[0])], r[3], r[4]) for r in rows]


class SqliteMemory:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def create_entities(
        self, ns: Namespace, entities: list[NewEntity]
    ) -> tuple[list[Entity], list[str]]:
        def write(conn: sqlite3.Connection) -> tuple[list[Entity], list[str]]:
            now = utc_now()
            scope = scope_token(ns.workspace_id, ns.ns)
            created: list[Entity] = []
            existing: list[str] = []
            for new in entities:
                got = conn.execute(
                    "INSERT INTO memory_entities (workspace_id, ns, name, type, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                    (ns.workspace_id, ns.ns, new.name, new.type, now, now),
                ).fetchone()
                if got is None:
                    existing.append(new.name)
                    continue
                conn.execute(
                    _INSERT_FTS,
                    (
                        -got[0],
                        got[0],
                        index_words(scope, new.name),
                        index_words(scope, new.type),
                        "",
                    ),
                )
                row = (got[0], new.name, new.type)
                added = _add_texts(conn, ns, row, new.observations, now)
                created.append(Entity(new.name, new.type, added, now, now))
            return created, existing

        weight = len(entities) + sum(len(e.observations) for e in entities)
        return await self.db.write(write, weight=weight)

    async def add_observations(
        self, ns: Namespace, batches: list[tuple[str, list[str]]]
    ) -> list[list[str]]:
        def write(conn: sqlite3.Connection) -> list[list[str]]:
            now = utc_now()
            results: list[list[str]] = []
            for name, texts in batches:
                row = _entity_row(conn, ns, name)
                if row is None:
                    raise entity_not_found(name)
                added = _add_texts(conn, ns, row, texts, now)
                if added:
                    conn.execute(
                        "UPDATE memory_entities SET updated_at = ? WHERE id = ?", (now, row[0])
                    )
                results.append(added)
            return results

        return await self.db.write(write, weight=sum(len(t) for _, t in batches))

    async def create_relations(
        self, ns: Namespace, relations: list[RelationKey]
    ) -> tuple[list[Relation], int]:
        def write(conn: sqlite3.Connection) -> tuple[list[Relation], int]:
            now = utc_now()
            ids: dict[str, int] = {}
            for rel in relations:
                for name in (rel.from_, rel.to):
                    if name not in ids:
                        row = _entity_row(conn, ns, name)
                        if row is None:
                            raise entity_not_found(name)
                        ids[name] = int(row[0])
            created: list[Relation] = []
            existing = 0
            for rel in relations:
                cur = conn.execute(
                    "INSERT INTO memory_relations (from_id, to_id, type, workspace_id, ns, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (ids[rel.from_], ids[rel.to], rel.type, ns.workspace_id, ns.ns, now),
                )
                if cur.rowcount:
                    created.append(Relation(rel.from_, rel.to, rel.type, now))
                else:
                    existing += 1
            return created, existing

        return await self.db.write(write, weight=len(relations))

    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[ScoredEntity]:
        # bm25 weights: entity 0, name 10, type 5, body 1. An entity scores by its best row;
        # FTS5's bm25 is lower-is-better, so the score is its negation.
        match = fts5_query(scope_token(ns.workspace_id, ns.ns), terms)
        cond, args = "", list[Any]([match, ns.workspace_id, ns.ns])
        if after is not None:
            cond = "AND (b.score < ? OR (b.score = ? AND e.name > ?))"
            args += [after[0], after[0], after[1]]

        def query(conn: sqlite3.Connection) -> list[ScoredEntity]:
            rows = conn.execute(
                "WITH h AS MATERIALIZED (SELECT entity, -bm25(memory_fts, 0, 10, 5, 1) AS r "
                "FROM memory_fts WHERE memory_fts MATCH ?), "
                "b AS (SELECT entity AS id, max(r) AS score FROM h GROUP BY entity) "
                "SELECT e.id, e.name, e.type, e.created_at, e.updated_at, b.score "
                "FROM b JOIN memory_entities e ON e.id = b.id "
                f"WHERE e.workspace_id = ? AND e.ns = ? {cond} "
                "ORDER BY b.score DESC, e.name LIMIT ?",
                (*args, limit),
            ).fetchall()
            entities = _with_observations(conn, [r[:5] for r in rows])
            return [ScoredEntity(float(r[5]), e) for r, e in zip(rows, entities, strict=True)]

        return self.db.read_snapshot(query)

    async def page(self, ns: Namespace, after: str | None, limit: int) -> list[Entity]:
        def query(conn: sqlite3.Connection) -> list[Entity]:
            rows = conn.execute(
                f"SELECT {_ENTITY_COLS} FROM memory_entities WHERE {_NS} AND name > ? "
                "ORDER BY name LIMIT ?",
                (ns.workspace_id, ns.ns, after if after is not None else "", limit),
            ).fetchall()
            return _with_observations(conn, rows)

        return self.db.read_snapshot(query)

    async def get(self, ns: Namespace, name: str) -> Entity | None:
        def query(conn: sqlite3.Connection) -> Entity | None:
            row = _entity_row(conn, ns, name)
            return _with_observations(conn, [row])[0] if row is not None else None

        return self.db.read_snapshot(query)

    async def relations(self, ns: Namespace, names: list[str], mode: str) -> list[Relation]:
        """Each side is found through the entities' (workspace_id, ns, name) index."""
        if not names:
            return []
        marks = ",".join("?" * len(names))
        select = (
            "SELECT f.name, t.name, r.type, r.created_at FROM memory_entities {a} "
            "JOIN memory_relations r ON r.{a_id} = {a}.id "
            "JOIN memory_entities {b} ON {b}.id = r.{b_id} "
            f"WHERE {{a}}.workspace_id = ? AND {{a}}.ns = ? AND {{a}}.name IN ({marks})"
        )
        leaving = select.format(a="f", a_id="from_id", b="t", b_id="to_id")
        arriving = select.format(a="t", a_id="to_id", b="f", b_id="from_id")
        args: list[str] = [ns.workspace_id, ns.ns, *names]
        if mode == "from":
            sql = leaving
        elif mode == "among":
            sql = f"{leaving} AND t.name IN ({marks})"
            args += names
        else:
            sql = f"{leaving} UNION {arriving}"
            args += args
        rows = self.db.read(lambda c: c.execute(f"{sql} ORDER BY 1, 2, 3", args).fetchall())
        return [Relation(r[0], r[1], r[2], r[3]) for r in rows]

    async def delete_entities(self, ns: Namespace, names: list[str]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            deleted = 0
            for name in dict.fromkeys(names):
                cur = conn.execute(
                    f"DELETE FROM memory_entities WHERE {_NS} AND name = ?",
                    (ns.workspace_id, ns.ns, name),
                )
                deleted += cur.rowcount
            return deleted

        return await self.db.write(write, weight=len(names))

    async def delete_observations(self, ns: Namespace, name: str, texts: list[str]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            row = _entity_row(conn, ns, name)
            if row is None:
                raise entity_not_found(name)
            deleted = 0
            for text in dict.fromkeys(texts):
                cur = conn.execute(
                    "DELETE FROM memory_observations WHERE entity_id = ? AND digest = ?",
                    (row[0], digest(text)),
                )
                deleted += cur.rowcount
            if deleted:
                conn.execute(
                    "UPDATE memory_entities SET updated_at = ? WHERE id = ?", (utc_now(), row[0])
                )
            return deleted

        return await self.db.write(write, weight=len(texts))

    async def delete_relations(self, ns: Namespace, relations: list[RelationKey]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            deleted = 0
            for rel in dict.fromkeys(relations):
                cur = conn.execute(
                    "DELETE FROM memory_relations WHERE type = ? "
                    f"AND from_id = (SELECT id FROM memory_entities WHERE {_NS} AND name = ?) "
                    f"AND to_id = (SELECT id FROM memory_entities WHERE {_NS} AND name = ?)",
                    (rel.type, ns.workspace_id, ns.ns, rel.from_, ns.workspace_id, ns.ns, rel.to),
                )
                deleted += cur.rowcount
            return deleted

        return await self.db.write(write, weight=len(relations))

    async def count(self, workspace_id: str, ns: str) -> int:
        row = self.db.read(
            lambda c: c.execute(
                f"SELECT count(*) FROM memory_entities WHERE {_NS}", (workspace_id, ns)
            ).fetchone()
        )
        return int(row[0])
