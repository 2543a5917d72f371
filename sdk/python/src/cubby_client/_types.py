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
    "Deleted",
    "ExecuteResult",
    "FileInfo",
    "Integration",
    "IntegrationAction",
    "IntegrationCatalog",
    "IntegrationEnvelope",
    "Persistence",
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
    displayName: str | None
    connectionStrategy: str | None
    connectionId: str | None
    authMethodKey: str | None
    oauthAppMode: str | None
    oauthAppId: str | None
    enabledActions: list[str] | None
    settings: dict[str, Any] | None
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
    categories: list[str]
    actions: dict[str, IntegrationAction]


class IntegrationEnvelope(TypedDict):
    integration: Integration


class IntegrationCatalog(TypedDict):
    integrations: list[Integration]
    total: int
    registered: list[str]


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


# What ``move_file`` returns: the old and new path and the file's (unchanged) etag ("from" is a
# Python keyword, hence the functional form).
FileMoved = TypedDict("FileMoved", {"from": str, "to": str, "etag": str})
