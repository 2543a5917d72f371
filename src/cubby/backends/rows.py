"""Row <-> record mapping and constraint errors shared by the SQLite and PostgreSQL backends.

Both backends keep the same columns in the same order, so one mapping serves both; only the
SQL dialect differs between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from cubby.backends.base import FileRecord
from cubby.core.models import ApiKey, EndUser, KeyPermissions, WorkspaceIntegration
from cubby.errors import Conflict

WS_COLS = "id, name, slug, created_at, updated_at"
KEY_COLS = "id, name, key_prefix, permissions, last_used_at, expires_at, created_at"
WI_COLS = (
    "id, workspace_id, integration_name, alias, display_name, connection_strategy, "
    "connection_id, auth_method_key, oauth_app_mode, oauth_app_id, enabled_actions, settings, "
    "sort_order, created_at, updated_at"
)
FILE_COLS = "path, size, content_type, etag, created_at, updated_at, blob_key, expires_at"

permissions_decoder = msgspec.json.Decoder(KeyPermissions | None)
_enabled_decoder = msgspec.json.Decoder(list[str] | None)
_settings_decoder = msgspec.json.Decoder(dict[str, Any])


def slug_exists(slug: str) -> Conflict:
    return Conflict(
        f"a workspace with slug {slug!r} already exists",
        code="SLUG_EXISTS",
        details={"field": "slug", "slug": slug},
    )


def alias_conflict(alias: str) -> Conflict:
    return Conflict(
        f"this workspace already has an integration with alias {alias!r}",
        code="ALIAS_CONFLICT",
        details={"field": "alias", "alias": alias},
    )


def wi_row(row: Sequence[Any]) -> WorkspaceIntegration:
    """A workspace integration from a row of ``WI_COLS``."""
    return WorkspaceIntegration(
        id=row[0], workspace_id=row[1], integration_name=row[2], alias=row[3],
        display_name=row[4], connection_strategy=row[5], connection_id=row[6],
        auth_method_key=row[7], oauth_app_mode=row[8], oauth_app_id=row[9],
        enabled_actions=_enabled_decoder.decode(row[10]) if row[10] else None,
        settings=_settings_decoder.decode(row[11]), sort_order=row[12],
        created_at=row[13], updated_at=row[14],
    )  # fmt: skip


def wi_values(wi: WorkspaceIntegration) -> tuple[Any, ...]:
    """The values of ``WI_COLS`` for a workspace integration (JSON columns as text)."""
    enabled = None
    if wi.enabled_actions is not None:
        enabled = msgspec.json.encode(wi.enabled_actions).decode()
    return (
        wi.id, wi.workspace_id, wi.integration_name, wi.alias, wi.display_name,
        wi.connection_strategy, wi.connection_id, wi.auth_method_key, wi.oauth_app_mode,
        wi.oauth_app_id, enabled, msgspec.json.encode(wi.settings).decode(), wi.sort_order,
        wi.created_at, wi.updated_at,
    )  # fmt: skip


def file_record(row: Sequence[Any], body: bytes | None = None) -> FileRecord:
    """A file's metadata from a row of ``FILE_COLS``."""
    return FileRecord(
        path=row[0], size=row[1], content_type=row[2], etag=row[3], created_at=row[4],
        updated_at=row[5], blob_key=row[6], expires_at=row[7], inline_body=body,
    )  # fmt: skip


def key_row(row: Sequence[Any], org_id: str) -> ApiKey:
    """An API key from a row of ``KEY_COLS``."""
    return ApiKey(
        id=row[0], org_id=org_id, name=row[1], key_prefix=row[2],
        permissions=permissions_decoder.decode(row[3]) if row[3] else None,
        last_used_at=row[4], expires_at=row[5], created_at=row[6],
    )  # fmt: skip


EU_COLS = "id, workspace_id, external_id, display_name, email, metadata, created_at, updated_at"
_metadata_decoder = msgspec.json.Decoder(dict[str, Any])


def eu_row(row: Sequence[Any]) -> EndUser:
    """An end user from a row of ``EU_COLS``."""
    return EndUser(
        id=row[0], workspace_id=row[1], external_id=row[2], display_name=row[3], email=row[4],
        metadata=_metadata_decoder.decode(row[5]), created_at=row[6], updated_at=row[7],
    )  # fmt: skip


def eu_values(eu: EndUser) -> tuple[Any, ...]:
    """The values of ``EU_COLS`` for an end user (metadata as JSON text)."""
    return (
        eu.id, eu.workspace_id, eu.external_id, eu.display_name, eu.email,
        msgspec.json.encode(eu.metadata).decode(), eu.created_at, eu.updated_at,
    )  # fmt: skip


def duplicate_end_user(external_id: str) -> Conflict:
    return Conflict(
        f"this workspace already has an end user with externalId {external_id!r}",
        code="DUPLICATE",
        details={"field": "externalId", "externalId": external_id},
    )
