"""The records of the agent tools (API.md, "Agent tools"), as the backends return them and the
actions answer them: entities and relations of a memory graph, scratchpad pages, thoughts."""

from __future__ import annotations

import msgspec


class Entity(msgspec.Struct, rename="camel"):
    name: str
    type: str
    observations: list[str]
    created_at: str
    updated_at: str


class Relation(msgspec.Struct, rename="camel"):
    from_: str = msgspec.field(name="from")
    to: str
    type: str
    created_at: str


class NewEntity(msgspec.Struct, frozen=True):
    name: str
    type: str
    observations: list[str]


class RelationKey(msgspec.Struct, frozen=True):
    from_: str
    to: str
    type: str


class ScoredEntity(msgspec.Struct, frozen=True):
    score: float
    entity: Entity


class Page(msgspec.Struct, rename="camel"):
    page_name: str
    size: int
    created_at: str
    updated_at: str


class PageText(msgspec.Struct, frozen=True):
    """A page with its content (reads and search hits)."""

    page: Page
    content: str
    score: float = 0.0


class Thought(msgspec.Struct, rename="camel"):
    thought_id: int
    content: str
    branch_name: str | None
    branch_from: int | None
    revisions: int
    previous: list[str]
    created_at: str
    updated_at: str
