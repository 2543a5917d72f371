"""Request bodies the domain validates itself.

They live below the HTTP layer because ``core.workspace_integrations`` and the MCP records need
them, and the domain must not import ``api/``.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

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
