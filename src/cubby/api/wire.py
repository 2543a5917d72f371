"""Request and response envelopes of API.md (records themselves live in core.models)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from cubby.core.inputs import Body, Name, Patch, Slug
from cubby.core.models import ApiKey, KeyPermissions, Workspace, WorkspaceIntegration


class ErrorBody(msgspec.Struct, omit_defaults=True):
    error: str
    code: str
    details: dict[str, Any] | None = None


class Health(msgspec.Struct):
    status: str


class Deleted(msgspec.Struct):
    deleted: bool
    id: str


Expiry = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"format": "date-time"},
        description="an ISO-8601 time in the future; the key stops working then",
    ),
]

Permissions = Annotated[
    KeyPermissions | None,  # on the union: msgspec drops a description beside a $ref
    msgspec.Meta(
        description='what the key may reach: absent, `null` or `{"scope": "org"}` the whole '
        'organisation; `{"scope": "workspace", "workspaceIds": [...]}` only those workspaces '
        "(anything else is 403 `SCOPE_DENIED`)"
    ),
]


class CreateApiKey(Body):
    name: Name
    expires_at: Expiry | None = None
    permissions: Permissions = None


class ApiKeyList(msgspec.Struct, rename="camel"):
    api_keys: list[ApiKey]
    total: int


class ApiKeyCreated(msgspec.Struct, rename="camel"):
    api_key: ApiKey
    plain_key: str


class CreateWorkspace(Body):
    name: Name
    slug: Slug


class UpdateWorkspace(Patch):
    name: Name | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET


class WorkspaceList(msgspec.Struct):
    workspaces: list[Workspace]
    total: int


class WorkspaceEnvelope(msgspec.Struct):
    workspace: Workspace


class IntegrationList(msgspec.Struct):
    integrations: list[WorkspaceIntegration]
    total: int


class IntegrationEnvelope(msgspec.Struct):
    integration: WorkspaceIntegration


class CatalogAction(msgspec.Struct, rename="camel"):
    name: str
    display_name: str
    description: str
    props: dict[str, dict[str, Any]]


class CatalogIntegration(msgspec.Struct, rename="camel"):
    name: str
    display_name: str
    description: str
    logo_url: str
    categories: list[str]
    auth: dict[str, Any]
    auth_options: list[dict[str, Any]]
    actions: dict[str, CatalogAction]
    triggers: dict[str, Any]


class CatalogList(msgspec.Struct):
    integrations: list[CatalogIntegration]
    total: int
    registered: list[str]


class CatalogSummary(msgspec.Struct, rename="camel"):
    name: str
    display_name: str
    description: str
    logo_url: str
    categories: list[str]
    action_count: int
    trigger_count: int
    auth: dict[str, Any]


class CatalogSummaryList(msgspec.Struct):
    integrations: list[CatalogSummary]
    total: int


class CatalogOne(msgspec.Struct):
    integration: CatalogIntegration
