"""Rebuild the agent tools' search documents (the ``doc`` tsvector of memory entities,
observations and scratchpad pages) after rows were loaded without them (restore, copy).

The documents are built with the same expressions the agent tools' writes use (imported from
their modules, so the index has one definition) from the words :mod:`cubby.core.agent_text`
cuts, one statement per table over unnest()ed arrays.
"""

from __future__ import annotations

from typing import Any

from cubby.backends.postgres.agent_memory import _NAME_TYPE
from cubby.backends.postgres.agent_scratchpad import _DOC
from cubby.core.agent_text import index_words, scope_token

_ENTITIES = (
    f"UPDATE memory_entities e SET doc = {_NAME_TYPE} "
    "FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, nw, tw) "
    "WHERE e.id = u.id"
)
_OBSERVATIONS = (
    f"UPDATE memory_observations o SET doc = {_NAME_TYPE} || "
    "array_to_tsvector(string_to_array(u.bw, ' ')) "
    "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) "
    "AS u(id, nw, tw, bw) WHERE o.id = u.id"
)
_PAGES = (
    f"UPDATE scratch_pages p SET doc = {_DOC.format(name='u.nw', body='u.bw')} "
    "FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, nw, bw) "
    "WHERE p.id = u.id"
)


async def rebuild_search(conn: Any, where: str = "TRUE", args: tuple[Any, ...] = ()) -> None:
    """The documents of the agent rows matching ``where`` (on workspace_id and ns)."""
    entities = await conn.fetch(
        f"SELECT id, workspace_id, ns, name, type FROM memory_entities WHERE {where}", *args
    )
    if entities:
        await conn.execute(
            _ENTITIES,
            [r[0] for r in entities],
            [index_words(scope_token(r[1], r[2]), r[3]) for r in entities],
            [index_words(scope_token(r[1], r[2]), r[4]) for r in entities],
        )
    observations = await conn.fetch(
        "SELECT o.id, o.workspace_id, o.ns, e.name, e.type, o.text "
        f"FROM (SELECT * FROM memory_observations WHERE {where}) o "
        "JOIN memory_entities e ON e.id = o.entity_id",
        *args,
    )
    if observations:
        await conn.execute(
            _OBSERVATIONS,
            [r[0] for r in observations],
            [index_words(scope_token(r[1], r[2]), r[3]) for r in observations],
            [index_words(scope_token(r[1], r[2]), r[4]) for r in observations],
            [index_words(scope_token(r[1], r[2]), r[5]) for r in observations],
        )
    pages = await conn.fetch(
        f"SELECT id, workspace_id, ns, name, content FROM scratch_pages WHERE {where}", *args
    )
    if pages:
        await conn.execute(
            _PAGES,
            [r[0] for r in pages],
            [index_words(scope_token(r[1], r[2]), r[3]) for r in pages],
            [index_words(scope_token(r[1], r[2]), r[4]) for r in pages],
        )
