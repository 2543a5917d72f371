"""Typed shapes of the JSON the API returns (plain dicts at runtime, camelCase keys as on the wire).

Resource methods return the response body unchanged, so code written against the raw HTTP API
(``result["output"]``, ``created["workspace"]["id"]``) reads the same with this client.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyList",
    "BranchInfo",
    "BranchSummary",
    "Chain",
    "ChainSummary",
    "Deleted",
    "EndUser",
    "EndUserDataErased",
    "EndUserDeleted",
    "EndUserEnvelope",
    "EndUserList",
    "EndUserUsage",
    "EntitiesCreated",
    "Entity",
    "EntityWithRelations",
    "ExecuteResult",
    "FileInfo",
    "GraphPage",
    "Integration",
    "IntegrationAction",
    "IntegrationCatalog",
    "IntegrationEnvelope",
    "IntegrationSummary",
    "IntegrationSummaryList",
    "KVEntry",
    "KeyInfo",
    "NewEntity",
    "PageContent",
    "PageHit",
    "PageInfo",
    "Persistence",
    "Relation",
    "RelationSpec",
    "RelationsCreated",
    "Thought",
    "ThoughtAdded",
    "Workspace",
    "WorkspaceEnvelope",
    "WorkspaceIntegration",
    "WorkspaceIntegrationEnvelope",
    "WorkspaceIntegrationList",
    "WorkspaceList",
]


class Deleted(TypedDict):
    deleted: bool
    id: str


class Workspace(TypedDict):
    id: str
    orgId: str
    name: str
    slug: str
    createdAt: str
    updatedAt: str


class WorkspaceEnvelope(TypedDict):
    workspace: Workspace


class WorkspaceList(TypedDict):
    workspaces: list[Workspace]
    total: int


class _PersistenceBase(TypedDict):
    scope: Literal["end_user", "workspace", "external"]


class Persistence(_PersistenceBase, total=False):
    """``settings["persistence"]`` of a storage or kv-store integration."""

    externalId: str


class WorkspaceIntegration(TypedDict):
    id: str
    workspaceId: str
    integrationName: str
    alias: str
    displayName: str  # the catalog's display name unless one was set
    connectionStrategy: Literal["fixed", "per_user", "per_user_with_fallback"]
    connectionId: str | None
    authMethodKey: str | None
    oauthAppMode: str | None
    oauthAppId: str | None
    enabledActions: list[str]  # every action when unrestricted
    settings: dict[str, Any]
    sortOrder: int
    createdAt: str
    updatedAt: str


class WorkspaceIntegrationEnvelope(TypedDict):
    integration: WorkspaceIntegration


class WorkspaceIntegrationList(TypedDict):
    integrations: list[WorkspaceIntegration]
    total: int


class ApiKey(TypedDict):
    id: str
    orgId: str
    name: str
    keyPrefix: str
    permissions: dict[str, Any] | None
    lastUsedAt: str | None
    expiresAt: str | None
    createdAt: str


class ApiKeyList(TypedDict):
    apiKeys: list[ApiKey]
    total: int


class ApiKeyCreated(TypedDict):
    apiKey: ApiKey
    plainKey: str


class IntegrationAction(TypedDict):
    name: str
    displayName: str
    description: str
    props: dict[str, dict[str, Any]]


class Integration(TypedDict):
    name: str
    displayName: str
    description: str
    logoUrl: str
    categories: list[str]
    auth: dict[str, Any]
    authOptions: list[dict[str, Any]]
    actions: dict[str, IntegrationAction]
    triggers: dict[str, Any]


class IntegrationSummary(TypedDict):
    name: str
    displayName: str
    description: str
    logoUrl: str
    categories: list[str]
    actionCount: int
    triggerCount: int
    auth: dict[str, Any]


class IntegrationSummaryList(TypedDict):
    integrations: list[IntegrationSummary]
    total: int


class IntegrationEnvelope(TypedDict):
    integration: Integration


class IntegrationCatalog(TypedDict):
    integrations: list[Integration]
    total: int
    registered: list[str]


class EndUser(TypedDict):
    id: str
    workspaceId: str
    externalId: str  # the end_user_id of data calls
    displayName: str | None
    email: str | None
    metadata: dict[str, Any]
    connectionCount: int
    type: str
    createdAt: str
    updatedAt: str


class EndUserEnvelope(TypedDict):
    endUser: EndUser


class EndUserList(TypedDict):
    endUsers: list[EndUser]
    total: int


class Usage(TypedDict):
    keys: int
    files: int
    bytes: int


class EndUserUsage(TypedDict):
    usage: Usage


class _EndUserDeletedBase(TypedDict):
    deleted: bool
    id: str


class EndUserDeleted(_EndUserDeletedBase, total=False):
    erased: Usage  # with erase_data=True


class EndUserDataErased(TypedDict):
    workspaceId: str
    endUserId: str
    erased: Usage


class ExecuteResult(TypedDict):
    """The body of ``POST /api/v1/actions/execute``; ``output`` is the action's result."""

    success: bool
    output: Any
    duration: float


class FileInfo(TypedDict):
    """One file as ``write_file`` and ``list_files`` describe it."""

    path: str
    size: int
    contentType: str
    etag: str
    updatedAt: str
    expiresAt: str | None


class KVEntry(TypedDict):
    """What kv-store ``get`` returns: ``version`` 0 and ``value`` None for a missing key."""

    key: str
    value: Any
    version: int
    expiresAt: str | None


class KeyInfo(TypedDict):
    """One key as ``list_keys`` describes it (``length`` is None unless it holds a list)."""

    key: str
    size: int
    isList: bool
    length: int | None
    version: int
    updatedAt: str
    expiresAt: str | None


# What ``move_file`` returns: the old and new path and the file's (unchanged) etag ("from" is a
# Python keyword, hence the functional form).
FileMoved = TypedDict("FileMoved", {"from": str, "to": str, "etag": str})


# -- agent tools (agent-memory, agent-scratchpad, sequential-thinking) -------------------------
class NewEntity(TypedDict, total=False):
    """An entity to create: ``name`` and ``type`` are required, ``observations`` optional."""

    name: str
    type: str
    observations: list[str]


class Entity(TypedDict):
    """An entity of agent-memory's knowledge graph."""

    name: str
    type: str
    observations: list[str]
    createdAt: str
    updatedAt: str


# A directed, typed edge ("from" is a Python keyword, hence the functional form).
RelationSpec = TypedDict("RelationSpec", {"from": str, "to": str, "type": str})
Relation = TypedDict("Relation", {"from": str, "to": str, "type": str, "createdAt": str})


class EntitiesCreated(TypedDict):
    """``entities``: those created; ``existing``: names already there (left unchanged)."""

    entities: list[Entity]
    existing: list[str]


class RelationsCreated(TypedDict):
    """``relations``: those created; ``existing``: how many were already there."""

    relations: list[Relation]
    existing: int


class GraphPage(TypedDict):
    """One page of ``search`` or ``read_graph``: entities, relations among/leaving them and
    the cursor of the next page (None on the last)."""

    entities: list[Entity]
    relations: list[Relation]
    nextCursor: str | None


class EntityWithRelations(TypedDict):
    """``get_entity``: the entity and every relation in or out of it."""

    entity: Entity
    relations: list[Relation]


class PageInfo(TypedDict):
    """A scratchpad page without its content (``size`` in UTF-8 bytes)."""

    pageName: str
    size: int
    createdAt: str
    updatedAt: str


class PageContent(TypedDict):
    """A scratchpad page with its content."""

    pageName: str
    content: str
    size: int
    createdAt: str
    updatedAt: str


class PageHit(TypedDict):
    """One ``search_pages`` result."""

    pageName: str
    snippet: str
    updatedAt: str


class Thought(TypedDict):
    """One thought of a sequential-thinking chain (``branchName``/``branchFrom`` None on the
    main line; ``previous``: its earlier texts, oldest first)."""

    thoughtId: int
    content: str
    branchName: str | None
    branchFrom: int | None
    revisions: int
    previous: list[str]
    createdAt: str
    updatedAt: str


class ThoughtAdded(TypedDict):
    """``add_thought``: the thought and the length of the chain's main line."""

    chainId: str
    thought: Thought
    length: int


class BranchInfo(TypedDict):
    branchName: str
    branchFrom: int
    length: int


class Chain(TypedDict):
    """``get_chain``: the main line in order (every thought with ``include_branches``)."""

    chainId: str
    thoughts: list[Thought]
    branches: list[BranchInfo]


class BranchSummary(TypedDict):
    branchName: str
    branchFrom: int
    length: int
    lastThought: Thought | None


class ChainSummary(TypedDict):
    """``summarize_chain``: counts and the first and last thought (None for an empty chain)."""

    chainId: str
    thoughtCount: int
    branchCount: int
    revisionCount: int
    firstThought: Thought | None
    lastThought: Thought | None
    branches: list[BranchSummary]
