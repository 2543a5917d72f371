"""Domain records. They double as the wire shapes of API.md (camelCase on the wire)."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar, Literal

import msgspec

from cubby.core import clock
from cubby.core.fields import UUID


def utc_now() -> str:
    """An ISO-8601 UTC timestamp with millisecond precision, e.g. ``2026-01-01T00:00:00.000Z``."""
    return clock.iso(clock.now())


def new_id() -> str:
    return str(uuid.uuid4())


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(value: str) -> bool:
    """Is ``value`` an id as cubby writes them (canonical lowercase UUID)? Anything else can
    never match a stored id, so callers answer 404 without asking the database."""
    return isinstance(value, str) and _CANONICAL_UUID.fullmatch(value) is not None


class Record(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every record: camelCase on the wire, every field always present."""


class Workspace(Record):
    id: str
    org_id: str
    name: str
    slug: str
    created_at: str
    updated_at: str


class KeyApprovals(msgspec.Struct, forbid_unknown_fields=True):
    """Human-approval settings the Weavz clients send; cubby stores and echoes them."""

    decide: bool


class KeyPermissions(
    msgspec.Struct, forbid_unknown_fields=True, rename="camel", omit_defaults=True
):
    """``{"scope": "workspace", "workspaceIds": [...]}`` restricts a key to workspaces;
    ``{"scope": "org"}``, like absent/null, means the whole organisation. Either may carry
    ``approvals``."""

    scope: Literal["org", "workspace"]
    workspace_ids: list[str] = msgspec.field(default_factory=list)
    approvals: KeyApprovals | None = None

    # What core.keys.check_permissions adds across the two fields (the OpenAPI document
    # states it: cubby.api.openapi merges a Struct's ``schema_extra`` into its schema).
    schema_extra: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {"scope": {"const": "org"}, "workspaceIds": {"maxItems": 0}},
                "description": "organisation-wide: no workspaceIds",
            },
            {
                "properties": {
                    "scope": {"const": "workspace"},
                    "workspaceIds": {"minItems": 1, "items": {"pattern": UUID}},
                },
                "required": ["scope", "workspaceIds"],
                "description": "restricted to these workspaces (their ids)",
            },
        ]
    }

    @property
    def org_wide(self) -> bool:
        return self.scope == "org"


class ApiKey(Record):
    id: str
    org_id: str
    name: str
    key_prefix: str
    permissions: KeyPermissions | None
    last_used_at: str | None
    expires_at: str | None
    created_at: str


class EndUser(Record):
    """A registered end user of a workspace; ``external_id`` is execution's ``endUserId``."""

    id: str
    workspace_id: str
    external_id: str
    display_name: str | None
    email: str | None
    metadata: dict[str, Any]
    created_at: str
    updated_at: str
    connection_count: int = 0  # built-ins hold no connections
    type: str = "external"


class WorkspaceIntegration(Record):
    id: str
    workspace_id: str
    integration_name: str
    alias: str
    display_name: str | None
    connection_strategy: str | None
    connection_id: str | None
    auth_method_key: str | None
    oauth_app_mode: str | None
    oauth_app_id: str | None
    enabled_actions: list[str] | None
    settings: dict[str, Any]
    sort_order: int
    created_at: str
    updated_at: str
