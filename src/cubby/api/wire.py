"""Request and response envelopes of API.md (records themselves live in core.models)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from cubby.core.models import ApiKey, KeyPermissions, Workspace, WorkspaceIntegration
from cubby.core.validators import ALIAS_MAX, ALIAS_RE, SLUG_MAX, SLUG_RE

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# Checked by core.validators (with a friendlier message than a regex mismatch); the schema
# states the same rule so clients and generated SDKs see it.
Slug = Annotated[
    str, msgspec.Meta(extra_json_schema={"pattern": SLUG_RE.pattern, "maxLength": SLUG_MAX})
]
Alias = Annotated[
    str, msgspec.Meta(extra_json_schema={"pattern": ALIAS_RE.pattern, "maxLength": ALIAS_MAX})
]
SortOrder = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


class Body(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Base of request bodies: unknown fields are a 400, never silently dropped."""


class ErrorBody(msgspec.Struct, omit_defaults=True):
    error: str
    code: str
    details: dict[str, Any] | None = None


class Health(msgspec.Struct):
    status: str


class Deleted(msgspec.Struct):
    deleted: bool
    id: str


class CreateApiKey(Body):
    name: Name
    expires_at: str | None = None
    permissions: KeyPermissions | None = None


class ApiKeyList(msgspec.Struct, rename="camel"):
    api_keys: list[ApiKey]
    total: int


class ApiKeyCreated(msgspec.Struct, rename="camel"):
    api_key: ApiKey
    plain_key: str


class CreateWorkspace(Body):
    name: Name
    slug: Slug


class UpdateWorkspace(Body):
    name: Name | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET


class WorkspaceList(msgspec.Struct):
    workspaces: list[Workspace]
    total: int


class WorkspaceEnvelope(msgspec.Struct):
    workspace: Workspace


class IntegrationFields(Body, kw_only=True):
    alias: Alias | UnsetType = UNSET
    display_name: str | UnsetType | None = UNSET
    enabled_actions: list[str] | UnsetType | None = UNSET
    settings: dict[str, Any] | UnsetType | None = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    connection_strategy: str | UnsetType | None = UNSET
    connection_id: str | UnsetType | None = UNSET
    auth_method_key: str | UnsetType | None = UNSET
    oauth_app_mode: str | UnsetType | None = UNSET
    oauth_app_id: str | UnsetType | None = UNSET


class CreateIntegration(IntegrationFields, kw_only=True):
    integration_name: str


class UpdateIntegration(IntegrationFields):
    pass


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
