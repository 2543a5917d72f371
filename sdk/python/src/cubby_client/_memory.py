"""``client.memory(workspace_id)``: agent-memory's knowledge graph of entities, observations and
relations, without spelling out actions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

from cubby_client._request import APIRequest, AsyncSender, SyncSender, compact
from cubby_client._target import Target
from cubby_client._types import (
    EntitiesCreated,
    Entity,
    EntityWithRelations,
    GraphPage,
    NewEntity,
    RelationsCreated,
    RelationSpec,
)

__all__ = ["AsyncMemory", "Memory"]


def create_entities_request(
    target: Target, entities: Iterable[NewEntity]
) -> APIRequest[EntitiesCreated]:
    return target.action("create_entities", {"entities": list(entities)})


def add_observations_request(
    target: Target, entity_name: str, contents: Sequence[str]
) -> APIRequest[list[str]]:
    body = {"observations": [{"entityName": entity_name, "contents": list(contents)}]}
    return target.action("add_observations", body).then(
        lambda output: list(output["results"][0]["added"])
    )


def create_relations_request(
    target: Target, relations: Iterable[RelationSpec]
) -> APIRequest[RelationsCreated]:
    return target.action("create_relations", {"relations": list(relations)})


def get_request(target: Target, name: str) -> APIRequest[EntityWithRelations]:
    return target.action("get_entity", {"name": name})


def search_request(
    target: Target, query: str, limit: int | None, cursor: str | None
) -> APIRequest[GraphPage]:
    return target.action("search", {"query": query, **compact({"limit": limit, "cursor": cursor})})


def graph_request(target: Target, limit: int | None, cursor: str | None) -> APIRequest[GraphPage]:
    return target.action("read_graph", compact({"limit": limit, "cursor": cursor}))


def delete_entities_request(target: Target, names: Iterable[str]) -> APIRequest[int]:
    call = target.action("delete_entities", {"names": list(names)})
    return call.then(lambda output: int(output["deleted"]))


def delete_observations_request(
    target: Target, entity_name: str, observations: Sequence[str]
) -> APIRequest[int]:
    body = {"entityName": entity_name, "observations": list(observations)}
    return target.action("delete_observations", body).then(lambda output: int(output["deleted"]))


def delete_relations_request(target: Target, relations: Iterable[RelationSpec]) -> APIRequest[int]:
    call = target.action("delete_relations", {"relations": list(relations)})
    return call.then(lambda output: int(output["deleted"]))


def _relation(source: str, to: str, type: str) -> RelationSpec:
    return {"from": source, "to": to, "type": type}


class Memory:
    """The knowledge graph of one agent-memory integration of one workspace (see
    ``Cubby.memory``). Every call is all-or-nothing; an unknown entity name is a
    ``BadRequestError`` with ``.reason == "ENTITY_NOT_FOUND"`` and nothing is written."""

    def __init__(self, client: SyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"Memory({self._target.describe()})"

    def create_entities(self, entities: Iterable[NewEntity]) -> EntitiesCreated:
        """Create entities (``{name, type, observations?}``, up to 1,000); returns those created
        and the names that already existed (left unchanged)."""
        return self._client._send(create_entities_request(self._target, entities))

    def add_observations(self, entity_name: str, contents: Sequence[str]) -> list[str]:
        """Add observations to an entity; returns those added (one it has is not added twice)."""
        return self._client._send(add_observations_request(self._target, entity_name, contents))

    def relate(self, source: str, to: str, type: str) -> bool:
        """Create the relation ``source -[type]-> to``; False if it already existed."""
        out = self._client._send(
            create_relations_request(self._target, [_relation(source, to, type)])
        )
        return bool(out["relations"])

    def create_relations(self, relations: Iterable[RelationSpec]) -> RelationsCreated:
        """Create relations (``{"from", "to", "type"}``); returns those created and how many
        already existed."""
        return self._client._send(create_relations_request(self._target, relations))

    def get(self, name: str) -> EntityWithRelations:
        """The entity ``name`` with every relation in or out of it."""
        return self._client._send(get_request(self._target, name))

    def search(
        self, query: str, *, limit: int | None = None, cursor: str | None = None
    ) -> GraphPage:
        """One page of the entities matching every word of ``query`` (case-insensitive, a word
        may match the start of a longer one), best first, with the relations between them;
        pass its ``nextCursor`` as ``cursor`` for the next page."""
        return self._client._send(search_request(self._target, query, limit, cursor))

    def graph(self, *, limit: int | None = None, cursor: str | None = None) -> GraphPage:
        """One page of the whole graph, entities by name, with the relations leaving them."""
        return self._client._send(graph_request(self._target, limit, cursor))

    def entities(self, *, page_size: int | None = None) -> Iterator[Entity]:
        """Every entity, by name, fetching pages of the graph as you iterate."""
        cursor: str | None = None
        while True:
            page = self._client._send(graph_request(self._target, page_size, cursor))
            yield from page["entities"]
            cursor = page["nextCursor"]
            if cursor is None:
                return

    def delete_entities(self, names: Iterable[str]) -> int:
        """Delete entities and their relations; returns how many went (unknown names skip)."""
        return self._client._send(delete_entities_request(self._target, names))

    def delete_observations(self, entity_name: str, observations: Sequence[str]) -> int:
        """Remove observations from an entity; returns how many went."""
        return self._client._send(
            delete_observations_request(self._target, entity_name, observations)
        )

    def delete_relations(self, relations: Iterable[RelationSpec]) -> int:
        """Delete relations; returns how many went."""
        return self._client._send(delete_relations_request(self._target, relations))


class AsyncMemory:
    """The knowledge graph of one agent-memory integration (see ``AsyncCubby.memory``)."""

    def __init__(self, client: AsyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncMemory({self._target.describe()})"

    async def create_entities(self, entities: Iterable[NewEntity]) -> EntitiesCreated:
        """Create entities; returns those created and the names that already existed."""
        return await self._client._send(create_entities_request(self._target, entities))

    async def add_observations(self, entity_name: str, contents: Sequence[str]) -> list[str]:
        """Add observations to an entity; returns those added."""
        return await self._client._send(
            add_observations_request(self._target, entity_name, contents)
        )

    async def relate(self, source: str, to: str, type: str) -> bool:
        """Create the relation ``source -[type]-> to``; False if it already existed."""
        out: Any = await self._client._send(
            create_relations_request(self._target, [_relation(source, to, type)])
        )
        return bool(out["relations"])

    async def create_relations(self, relations: Iterable[RelationSpec]) -> RelationsCreated:
        """Create relations; returns those created and how many already existed."""
        return await self._client._send(create_relations_request(self._target, relations))

    async def get(self, name: str) -> EntityWithRelations:
        """The entity ``name`` with every relation in or out of it."""
        return await self._client._send(get_request(self._target, name))

    async def search(
        self, query: str, *, limit: int | None = None, cursor: str | None = None
    ) -> GraphPage:
        """One page of the entities matching every word of ``query``, best first."""
        return await self._client._send(search_request(self._target, query, limit, cursor))

    async def graph(self, *, limit: int | None = None, cursor: str | None = None) -> GraphPage:
        """One page of the whole graph, entities by name."""
        return await self._client._send(graph_request(self._target, limit, cursor))

    async def entities(self, *, page_size: int | None = None) -> AsyncIterator[Entity]:
        """Every entity, by name (``async for``), page by page."""
        cursor: str | None = None
        while True:
            page = await self._client._send(graph_request(self._target, page_size, cursor))
            for item in page["entities"]:
                yield item
            cursor = page["nextCursor"]
            if cursor is None:
                return

    async def delete_entities(self, names: Iterable[str]) -> int:
        """Delete entities and their relations; returns how many went."""
        return await self._client._send(delete_entities_request(self._target, names))

    async def delete_observations(self, entity_name: str, observations: Sequence[str]) -> int:
        """Remove observations from an entity; returns how many went."""
        return await self._client._send(
            delete_observations_request(self._target, entity_name, observations)
        )

    async def delete_relations(self, relations: Iterable[RelationSpec]) -> int:
        """Delete relations; returns how many went."""
        return await self._client._send(delete_relations_request(self._target, relations))
