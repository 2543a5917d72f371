"""Agent Memory on PostgreSQL: one row per entity, observation and relation (migration 0017).

A write of several statements is one transaction (agent_tx.py): a missing entity raises and
nothing is written. Writers that touch existing entities lock those rows first, in id order
(``ORDER BY id FOR UPDATE``), so two batches over the same entities queue instead of
deadlocking; each observation is its own row under a unique ``(entity_id, digest)``, so
concurrent calls adding to one entity all land, none twice, from any number of processes.
Reads are single statements (one snapshot): an entity comes with its observations.
"""

from __future__ import annotations

from typing import Any

from cubby.backends.postgres.agent_tx import transaction
from cubby.backends.postgres.db import PgDatabase
from cubby.core.agent_records import Entity, NewEntity, Relation, RelationKey, ScoredEntity
from cubby.core.agent_text import (
    digest,
    entity_not_found,
    index_words,
    scope_token,
    tsquery,
)
from cubby.core.models import utc_now
from cubby.core.scopes import Namespace

_VEC = "setweight(array_to_tsvector(string_to_array({}, ' ')), '{}')"
_NAME_TYPE = _VEC.format("nw", "A") + " || " + _VEC.format("tw", "B")
_INSERT_ENTITIES = (
    "INSERT INTO memory_entities (workspace_id, ns, name, type, doc, created_at, updated_at) "
    f"SELECT $1, $2, n, t, {_NAME_TYPE}, $7, $7 "
    "FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY "
    "AS u(n, t, nw, tw, ord) ORDER BY ord ON CONFLICT DO NOTHING RETURNING id, name"
)
_INSERT_OBS = (
    "INSERT INTO memory_observations (entity_id, workspace_id, ns, text, digest, doc, "
    f"created_at) SELECT e, $1, $2, x, d, {_NAME_TYPE} || "
    "array_to_tsvector(string_to_array(bw, ' ')), $3 "
    "FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) "
    "WITH ORDINALITY AS u(e, x, d, nw, tw, bw, ord) ORDER BY ord "
    "ON CONFLICT DO NOTHING RETURNING id, entity_id, text"
)
_LOCK = (
    "SELECT id, name, type FROM memory_entities WHERE workspace_id = $1 AND ns = $2 "
    "AND name = ANY($3::text[]) ORDER BY id FOR UPDATE"
)
_ENTITY = (
    "e.id, e.name, e.type, e.created_at, e.updated_at, ARRAY(SELECT o.text FROM "
    "memory_observations o WHERE o.entity_id = e.id ORDER BY o.id)"
)


def _entity(row: Any) -> Entity:
    return Entity(row[1], row[2], list(row[5]), row[3], row[4])


async def _add_texts(
    conn: Any, ns: Namespace, targets: list[tuple[int, str, str, list[str]]], now: str
) -> dict[int, list[str]]:
    """Insert each (entity id, name, type, texts)'s texts the entity lacks; returns the texts
    added per entity id, in the order given."""
    cols: list[list[Any]] = [[], [], [], [], [], []]
    scope = scope_token(ns.workspace_id, ns.ns)
    for entity_id, name, type_, texts in targets:
        name_words, type_words = index_words(scope, name), index_words(scope, type_)
        for text in dict.fromkeys(texts):
            for col, value in zip(
                cols,
                (entity_id, text, digest(text), name_words, type_words, index_words(scope, text)),
                strict=True,
            ):
                col.append(value)
    added: dict[int, list[str]] = {t[0]: [] for t in targets}
    if not cols[0]:
        return added
    rows = await conn.fetch(_INSERT_OBS, ns.workspace_id, ns.ns, now, *cols)
    for row in sorted(rows, key=lambda r: r[0]):
        added[int(row[1])].append(row[2])
    return added


class PgMemory:
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def create_entities(
        self, ns: Namespace, entities: list[NewEntity]
    ) -> tuple[list[Entity], list[str]]:
        first: dict[str, NewEntity] = {}
        for new in entities:
            first.setdefault(new.name, new)
        unique = list(first.values())
        now = utc_now()
        scope = scope_token(ns.workspace_id, ns.ns)
        async with transaction(self.db) as conn:
            rows = await conn.fetch(
                _INSERT_ENTITIES,
                ns.workspace_id,
                ns.ns,
                [e.name for e in unique],
                [e.type for e in unique],
                [index_words(scope, e.name) for e in unique],
                [index_words(scope, e.type) for e in unique],
                now,
            )
            ids = {r[1]: int(r[0]) for r in rows}
            targets = [
                (ids[e.name], e.name, e.type, e.observations) for e in unique if e.name in ids
            ]
            added = await _add_texts(conn, ns, targets, now)
        created = [
            Entity(e.name, e.type, added[ids[e.name]], now, now) for e in unique if e.name in ids
        ]
        # a name given twice: the first is created, the others found existing (as on SQLite)
        existing = [e.name for e in entities if first[e.name] is not e or e.name not in ids]
        return created, existing

    async def add_observations(
        self, ns: Namespace, batches: list[tuple[str, list[str]]]
    ) -> list[list[str]]:
        names = list(dict.fromkeys(name for name, _ in batches))
        now = utc_now()
        async with transaction(self.db) as conn:
            rows = await conn.fetch(_LOCK, ns.workspace_id, ns.ns, names)
            found = {r[1]: r for r in rows}
            for name in names:
                if name not in found:
                    raise entity_not_found(name)
            # One entity may appear in several batches: each batch sees what the ones before
            # it added (inserted one statement per batch, in order).
            results: list[list[str]] = []
            touched: set[int] = set()
            for name, texts in batches:
                row = found[name]
                added = await _add_texts(conn, ns, [(int(row[0]), name, row[2], texts)], now)
                results.append(added[int(row[0])])
                if results[-1]:
                    touched.add(int(row[0]))
            if touched:
                await conn.execute(
                    "UPDATE memory_entities SET updated_at = $1 WHERE id = ANY($2::bigint[])",
                    now,
                    sorted(touched),
                )
        return results

    async def create_relations(
        self, ns: Namespace, relations: list[RelationKey]
    ) -> tuple[list[Relation], int]:
        unique = list(dict.fromkeys(relations))
        names = list(dict.fromkeys(n for r in unique for n in (r.from_, r.to)))
        now = utc_now()
        async with transaction(self.db) as conn:
            rows = await conn.fetch(
                "SELECT name, id FROM memory_entities WHERE workspace_id = $1 AND ns = $2 "
                "AND name = ANY($3::text[]) FOR KEY SHARE",
                ns.workspace_id,
                ns.ns,
                names,
            )
            ids = {r[0]: int(r[1]) for r in rows}
            for name in names:
                if name not in ids:
                    raise entity_not_found(name)
            inserted = await conn.fetch(
                "INSERT INTO memory_relations (from_id, to_id, type, workspace_id, ns, created_at) "
                "SELECT f, t, ty, $1, $2, $3 FROM unnest($4::bigint[], $5::bigint[], $6::text[]) "
                "WITH ORDINALITY AS u(f, t, ty, ord) ORDER BY ord "
                "ON CONFLICT DO NOTHING RETURNING from_id, to_id, type",
                ns.workspace_id,
                ns.ns,
                now,
                [ids[r.from_] for r in unique],
                [ids[r.to] for r in unique],
                [r.type for r in unique],
            )
        made = {(int(r[0]), int(r[1]), r[2]) for r in inserted}
        created = [
            Relation(r.from_, r.to, r.type, now)
            for r in unique
            if (ids[r.from_], ids[r.to], r.type) in made
        ]
        return created, len(relations) - len(created)

    async def search(
        self, ns: Namespace, terms: list[str], after: tuple[float, str] | None, limit: int
    ) -> list[ScoredEntity]:
        # An entity scores by its best row (its own name/type row or one observation row).
        cond = "WHERE b.score < $4 OR (b.score = $4 AND e.name > $5)" if after else ""
        rows = await self.db.fetch(
            "WITH q AS (SELECT $3::tsquery AS q), h AS ("
            " SELECT o.entity_id AS id, ts_rank(o.doc, q.q) AS r FROM memory_observations o, q"
            " WHERE o.workspace_id = $1 AND o.ns = $2 AND o.doc @@ q.q"
            " UNION ALL"
            " SELECT e.id, ts_rank(e.doc, q.q) FROM memory_entities e, q"
            " WHERE e.workspace_id = $1 AND e.ns = $2 AND e.doc @@ q.q),"
            " b AS (SELECT id, max(r)::float8 AS score FROM h GROUP BY id) "
            # one primary-key lookup per matching entity (the planner, guessing 200 groups,
            # preferred hashing a scan of every entity of the table: 10x the time of a
            # rare word at 100,000 observations; bench/agent_search.py)
            f"SELECT {_ENTITY}, b.score FROM b, LATERAL (SELECT x.id, x.name, x.type, "
            "x.created_at, x.updated_at FROM memory_entities x WHERE x.id = b.id "
            f"AND x.workspace_id = $1 AND x.ns = $2 OFFSET 0) e {cond} "
            f"ORDER BY b.score DESC, e.name LIMIT {int(limit)}",
            ns.workspace_id,
            ns.ns,
            tsquery(scope_token(ns.workspace_id, ns.ns), terms),
            *(after or ()),
        )
        return [ScoredEntity(float(r[6]), _entity(r)) for r in rows]

    async def page(self, ns: Namespace, after: str | None, limit: int) -> list[Entity]:
        rows = await self.db.fetch(
            f"SELECT {_ENTITY} FROM memory_entities e WHERE e.workspace_id = $1 AND e.ns = $2 "
            "AND e.name > $3 ORDER BY e.name LIMIT $4",
            ns.workspace_id,
            ns.ns,
            after if after is not None else "",
            limit,
        )
        return [_entity(r) for r in rows]

    async def get(self, ns: Namespace, name: str) -> Entity | None:
        row = await self.db.fetchrow(
            f"SELECT {_ENTITY} FROM memory_entities e WHERE e.workspace_id = $1 AND e.ns = $2 "
            "AND e.name = $3",
            ns.workspace_id,
            ns.ns,
            name,
        )
        return _entity(row) if row is not None else None

    async def relations(self, ns: Namespace, names: list[str], mode: str) -> list[Relation]:
        """Each side is found through the entities' (workspace_id, ns, name) index."""
        if not names:
            return []
        select = (
            "SELECT f.name, t.name, r.type, r.created_at FROM memory_entities {a} "
            "JOIN memory_relations r ON r.{a_id} = {a}.id "
            "JOIN memory_entities {b} ON {b}.id = r.{b_id} "
            "WHERE {a}.workspace_id = $1 AND {a}.ns = $2 AND {a}.name = ANY($3::text[])"
        )
        leaving = select.format(a="f", a_id="from_id", b="t", b_id="to_id")
        arriving = select.format(a="t", a_id="to_id", b="f", b_id="from_id")
        if mode == "from":
            sql = leaving
        elif mode == "among":
            sql = f"{leaving} AND t.name = ANY($3::text[])"
        else:
            sql = f"{leaving} UNION {arriving}"
        rows = await self.db.fetch(f"{sql} ORDER BY 1, 2, 3", ns.workspace_id, ns.ns, names)
        return [Relation(r[0], r[1], r[2], r[3]) for r in rows]

    async def delete_entities(self, ns: Namespace, names: list[str]) -> int:
        return await self.db.execute(
            "DELETE FROM memory_entities WHERE workspace_id = $1 AND ns = $2 "
            "AND name = ANY($3::text[])",
            ns.workspace_id,
            ns.ns,
            list(dict.fromkeys(names)),
        )

    async def delete_observations(self, ns: Namespace, name: str, texts: list[str]) -> int:
        async with transaction(self.db) as conn:
            rows = await conn.fetch(_LOCK, ns.workspace_id, ns.ns, [name])
            if not rows:
                raise entity_not_found(name)
            entity_id = int(rows[0][0])
            status = await conn.execute(
                "DELETE FROM memory_observations WHERE entity_id = $1 AND digest = ANY($2)",
                entity_id,
                list({digest(t) for t in texts}),
            )
            deleted = int(status.rsplit(" ", 1)[-1])
            if deleted:
                await conn.execute(
                    "UPDATE memory_entities SET updated_at = $1 WHERE id = $2",
                    utc_now(),
                    entity_id,
                )
        return deleted

    async def delete_relations(self, ns: Namespace, relations: list[RelationKey]) -> int:
        if not relations:
            return 0
        return await self.db.execute(
            "DELETE FROM memory_relations r "
            "USING unnest($3::text[], $4::text[], $5::text[]) AS u(f, t, ty), "
            "memory_entities fe, memory_entities te "
            "WHERE fe.workspace_id = $1 AND fe.ns = $2 AND fe.name = u.f "
            "AND te.workspace_id = $1 AND te.ns = $2 AND te.name = u.t "
            "AND r.from_id = fe.id AND r.to_id = te.id AND r.type = u.ty",
            ns.workspace_id,
            ns.ns,
            [r.from_ for r in relations],
            [r.to for r in relations],
            [r.type for r in relations],
        )

    async def count(self, workspace_id: str, ns: str) -> int:
        value = await self.db.fetchval(
            "SELECT count(*) FROM memory_entities WHERE workspace_id = $1 AND ns = $2",
            workspace_id,
            ns,
        )
        return int(value)
