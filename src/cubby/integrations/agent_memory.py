"""The ``agent-memory`` integration ("Agent Memory"): a knowledge graph per namespace.

Entities (unique name, a type, observation strings) and typed directed relations between them,
stored one row each (backends/*/agent_memory.py), searched by words (core/agent_text.py) and
read a page at a time. Every call is all-or-nothing.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.core.agent_records import Entity, NewEntity, Relation, RelationKey
from cubby.core.agent_text import (
    MAX_ITEMS,
    MAX_NAME_CHARS,
    MAX_OBSERVATION_BYTES,
    check_count,
    check_name,
    check_text,
    clamp,
    decode_rank_cursor,
    encode_rank_cursor,
    entity_not_found,
    query_words,
)
from cubby.core.fields import NO_CONTROL, NO_NUL
from cubby.core.paging import decode_cursor, encode_cursor
from cubby.core.registry import ActionContext, Integration
from cubby.integrations.assets import logo

DEFAULT_SEARCH_LIMIT = 20
MAX_SEARCH_LIMIT = 100
DEFAULT_GRAPH_LIMIT = 100
MAX_GRAPH_LIMIT = 1000

agent_memory = Integration(
    name="agent-memory",
    display_name="Agent Memory",
    description="A knowledge graph an agent keeps between runs: entities with observations "
    "and typed relations, searchable by words, isolated per end user, workspace or namespace "
    "key.",
    categories=["AI"],
    logo_svg=logo("agent-memory"),
)

Name = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Name",
        description=f"Entity name, unique in the graph (1 to {MAX_NAME_CHARS} characters)",
    ),
]
Type = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Type",
        description="Entity type, e.g. person, project (1 to 256 characters)",
    ),
]
RelationType = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Relation type",
        description="What the relation says, in active voice, e.g. works_at",
    ),
]
Text = Annotated[str, msgspec.Meta(pattern=NO_NUL)]
Texts = Annotated[
    list[Text],
    msgspec.Meta(
        max_length=MAX_ITEMS,
        title="Observations",
        description=f"Observation strings (each up to {MAX_OBSERVATION_BYTES} bytes)",
    ),
]
Query = Annotated[
    str,
    msgspec.Meta(
        max_length=1000,
        pattern=NO_NUL,
        title="Query",
        description="Words to find in entity names, types and observations; every word must "
        "match (case-insensitive; a word also matches the start of a longer one)",
    ),
]
Cursor = Annotated[str, msgspec.Meta(title="Cursor", description="nextCursor of the previous page")]
SearchLimit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Entities per page (default {DEFAULT_SEARCH_LIMIT}, at most "
        f"{MAX_SEARCH_LIMIT}; larger values are clamped)",
    ),
]
GraphLimit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Entities per page (default {DEFAULT_GRAPH_LIMIT}, at most "
        f"{MAX_GRAPH_LIMIT}; larger values are clamped)",
    ),
]


class EntityIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    type: Type
    observations: Texts | None = None


class ObservationsIn(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    entity_name: Name
    contents: Texts


class RelationIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    from_: Name = msgspec.field(name="from")
    to: Name
    type: RelationType


class CreateEntitiesInput(msgspec.Struct, forbid_unknown_fields=True):
    entities: Annotated[
        list[EntityIn],
        msgspec.Meta(
            max_length=MAX_ITEMS,
            title="Entities",
            description="Entities to create: {name, type, observations?}; a name that exists "
            "already is left unchanged and reported in existing",
        ),
    ]


class AddObservationsInput(msgspec.Struct, forbid_unknown_fields=True):
    observations: Annotated[
        list[ObservationsIn],
        msgspec.Meta(
            max_length=MAX_ITEMS,
            title="Observations",
            description="Per entity: {entityName, contents: [str]}; texts the entity has "
            "already are not added twice",
        ),
    ]


class RelationsInput(msgspec.Struct, forbid_unknown_fields=True):
    relations: Annotated[
        list[RelationIn],
        msgspec.Meta(
            max_length=MAX_ITEMS,
            title="Relations",
            description="Relations {from, to, type} between existing entities",
        ),
    ]


class SearchInput(msgspec.Struct, forbid_unknown_fields=True):
    query: Query
    limit: SearchLimit | None = DEFAULT_SEARCH_LIMIT
    cursor: Cursor | None = None


class ReadGraphInput(msgspec.Struct, forbid_unknown_fields=True):
    limit: GraphLimit | None = DEFAULT_GRAPH_LIMIT
    cursor: Cursor | None = None


class GetEntityInput(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class DeleteEntitiesInput(msgspec.Struct, forbid_unknown_fields=True):
    names: Annotated[
        list[Name],
        msgspec.Meta(
            max_length=MAX_ITEMS,
            title="Names",
            description="Entity names to delete with their observations and relations "
            "(unknown names are skipped)",
        ),
    ]


class DeleteObservationsInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    entity_name: Name
    observations: Texts


class Created(msgspec.Struct):
    entities: list[Entity]
    existing: list[str]


class ObservationsAdded(msgspec.Struct, rename="camel"):
    entity_name: str
    added: list[str]


class AddedList(msgspec.Struct):
    results: list[ObservationsAdded]


class RelationsCreated(msgspec.Struct):
    relations: list[Relation]
    existing: int


class Graph(msgspec.Struct, rename="camel"):
    entities: list[Entity]
    relations: list[Relation]
    next_cursor: str | None


class EntityWithRelations(msgspec.Struct):
    entity: Entity
    relations: list[Relation]


class DeletedCount(msgspec.Struct):
    deleted: int


class ObservationsDeleted(msgspec.Struct, rename="camel"):
    entity_name: str
    deleted: int


def _texts(texts: list[str] | None, field: str) -> list[str]:
    for i, text in enumerate(texts or ()):
        check_text(text, f"{field}.{i}", MAX_OBSERVATION_BYTES)
    return list(texts or ())


def _relations(relations: list[RelationIn]) -> list[RelationKey]:
    keys = []
    for i, rel in enumerate(relations):
        keys.append(
            RelationKey(
                check_name(rel.from_, f"input.relations.{i}.from"),
                check_name(rel.to, f"input.relations.{i}.to"),
                check_name(rel.type, f"input.relations.{i}.type"),
            )
        )
    return keys


@agent_memory.action(
    "create_entities",
    "Create entities",
    "Create entities (name, type, observations); names that exist already are left unchanged "
    "and listed in existing",
)
async def create_entities(ctx: ActionContext, params: CreateEntitiesInput) -> Created:
    new = [
        NewEntity(
            check_name(e.name, f"input.entities.{i}.name"),
            check_name(e.type, f"input.entities.{i}.type"),
            _texts(e.observations, f"input.entities.{i}.observations"),
        )
        for i, e in enumerate(params.entities)
    ]
    check_count([t for e in new for t in e.observations], "input.entities", 10 * MAX_ITEMS)
    created, existing = await ctx.services.meta.memory.create_entities(ctx.namespace, new)
    return Created(entities=created, existing=existing)


@agent_memory.action(
    "add_observations",
    "Add observations",
    "Add observation strings to existing entities (a text an entity has already is not added "
    "twice); an unknown entity fails the whole call with reason ENTITY_NOT_FOUND",
)
async def add_observations(ctx: ActionContext, params: AddObservationsInput) -> AddedList:
    batches = [
        (
            check_name(b.entity_name, f"input.observations.{i}.entityName"),
            _texts(b.contents, f"input.observations.{i}.contents"),
        )
        for i, b in enumerate(params.observations)
    ]
    check_count([t for _, texts in batches for t in texts], "input.observations", 10 * MAX_ITEMS)
    added = await ctx.services.meta.memory.add_observations(ctx.namespace, batches)
    return AddedList(
        results=[
            ObservationsAdded(entity_name=b[0], added=a)
            for b, a in zip(batches, added, strict=True)
        ]
    )


@agent_memory.action(
    "create_relations",
    "Create relations",
    "Create typed, directed relations between existing entities (reason ENTITY_NOT_FOUND "
    "when an end is missing, and nothing is written)",
)
async def create_relations(ctx: ActionContext, params: RelationsInput) -> RelationsCreated:
    created, existing = await ctx.services.meta.memory.create_relations(
        ctx.namespace, _relations(params.relations)
    )
    return RelationsCreated(relations=created, existing=existing)


@agent_memory.action(
    "search",
    "Search",
    "Find entities whose names, types and observations contain every word of the query "
    "(case-insensitive, word prefixes), best matches first, with the relations between them",
    read_only=True,
)
async def search(ctx: ActionContext, params: SearchInput) -> Graph:
    terms = query_words(params.query)
    after = decode_rank_cursor(params.cursor) if params.cursor else None
    limit = clamp(params.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT)
    if not terms:
        return Graph(entities=[], relations=[], next_cursor=None)
    memory = ctx.services.meta.memory
    found = await memory.search(
        ctx.namespace, terms, (after.score, after.name) if after else None, limit + 1
    )
    more = len(found) > limit
    found = found[:limit]
    entities = [f.entity for f in found]
    relations = await memory.relations(ctx.namespace, [e.name for e in entities], "among")
    cursor = encode_rank_cursor(found[-1].score, found[-1].entity.name) if more else None
    return Graph(entities=entities, relations=relations, next_cursor=cursor)


@agent_memory.action(
    "read_graph",
    "Read graph",
    "Read the graph a page at a time: entities by name with the relations leaving them",
    read_only=True,
)
async def read_graph(ctx: ActionContext, params: ReadGraphInput) -> Graph:
    after = decode_cursor(params.cursor) if params.cursor else None
    limit = clamp(params.limit, DEFAULT_GRAPH_LIMIT, MAX_GRAPH_LIMIT)
    memory = ctx.services.meta.memory
    entities = await memory.page(ctx.namespace, after, limit + 1)
    more = len(entities) > limit
    entities = entities[:limit]
    relations = await memory.relations(ctx.namespace, [e.name for e in entities], "from")
    cursor = encode_cursor(entities[-1].name) if more else None
    return Graph(entities=entities, relations=relations, next_cursor=cursor)


@agent_memory.action(
    "get_entity",
    "Get entity",
    "One entity with its observations and every relation in or out of it "
    "(reason ENTITY_NOT_FOUND when unknown)",
    read_only=True,
)
async def get_entity(ctx: ActionContext, params: GetEntityInput) -> EntityWithRelations:
    name = check_name(params.name, "input.name")
    memory = ctx.services.meta.memory
    entity = await memory.get(ctx.namespace, name)
    if entity is None:
        raise entity_not_found(name)
    relations = await memory.relations(ctx.namespace, [name], "any")
    return EntityWithRelations(entity=entity, relations=relations)


@agent_memory.action(
    "delete_entities",
    "Delete entities",
    "Delete entities with their observations and relations (unknown names are skipped)",
)
async def delete_entities(ctx: ActionContext, params: DeleteEntitiesInput) -> DeletedCount:
    names = [check_name(n, f"input.names.{i}") for i, n in enumerate(params.names)]
    return DeletedCount(
        deleted=await ctx.services.meta.memory.delete_entities(ctx.namespace, names)
    )


@agent_memory.action(
    "delete_observations",
    "Delete observations",
    "Remove observation strings from an entity (reason ENTITY_NOT_FOUND when unknown)",
)
async def delete_observations(
    ctx: ActionContext, params: DeleteObservationsInput
) -> ObservationsDeleted:
    name = check_name(params.entity_name, "input.entityName")
    texts = _texts(params.observations, "input.observations")
    deleted = await ctx.services.meta.memory.delete_observations(ctx.namespace, name, texts)
    return ObservationsDeleted(entity_name=name, deleted=deleted)


@agent_memory.action("delete_relations", "Delete relations", "Delete relations {from, to, type}")
async def delete_relations(ctx: ActionContext, params: RelationsInput) -> DeletedCount:
    deleted = await ctx.services.meta.memory.delete_relations(
        ctx.namespace, _relations(params.relations)
    )
    return DeletedCount(deleted=deleted)
