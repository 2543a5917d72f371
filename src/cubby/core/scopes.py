"""Persistence scopes: integration settings + endUserId -> the namespace an action sees.

A namespace is (workspace, integration kind, scope, owner). The kind is implied by the table
(KV and file data never share one), so data rows are keyed by ``(workspace_id, ns, ...)`` where
``ns`` encodes scope and owner unambiguously: ``u:<endUserId>``, ``w`` or ``x:<externalId>``.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from cubby.core.validators import has_control_chars
from cubby.errors import ValidationError

Scope = Literal["end_user", "workspace", "external"]
SCOPES: tuple[str, ...] = ("end_user", "workspace", "external")
MAX_OWNER_ID_BYTES = 256
END_USER_PREFIX = "u:"


class Persistence(msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename="camel"):
    scope: Scope = "end_user"
    external_id: str | None = None


class Namespace(msgspec.Struct, frozen=True):
    """Where an action's data lives. Every data query filters by both fields."""

    workspace_id: str
    ns: str


def _check_owner_id(value: str, field: str) -> None:
    if not value.strip():
        raise ValidationError.for_field(field, f"{field} must not be empty")
    if len(value.encode()) > MAX_OWNER_ID_BYTES:
        raise ValidationError.for_field(
            field, f"{field} is longer than {MAX_OWNER_ID_BYTES} bytes", limit=MAX_OWNER_ID_BYTES
        )
    if has_control_chars(value):
        raise ValidationError.for_field(field, f"{field} must not contain control characters")


def parse_settings(settings: Any) -> dict[str, Any]:
    """Validate workspace-integration ``settings``; returns the normalised dict to store."""
    if settings is None:
        return {"persistence": {"scope": "end_user"}}
    if not isinstance(settings, dict):
        raise ValidationError.for_field("settings", "settings must be an object")
    unknown = sorted(set(settings) - {"persistence"})
    if unknown:
        raise ValidationError.for_field(
            f"settings.{unknown[0]}",
            f"unknown setting {unknown[0]!r}; built-in integrations accept only 'persistence'",
        )
    raw = settings.get("persistence")
    if raw is None:
        return {"persistence": {"scope": "end_user"}}
    if not isinstance(raw, dict):
        raise ValidationError.for_field("settings.persistence", "persistence must be an object")
    try:
        persistence = msgspec.convert(raw, Persistence)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = "settings.persistence.scope"
        if "externalId" in message:
            field = "settings.persistence.externalId"
        elif "unknown field" in message:
            field = "settings.persistence"
        if "scope" in message and "Expected" in message:
            message = f"scope must be one of {', '.join(SCOPES)}"
        raise ValidationError.for_field(field, f"invalid persistence: {message}") from None
    if persistence.scope == "external":
        if persistence.external_id is None:
            raise ValidationError.for_field(
                "settings.persistence.externalId",
                "scope 'external' needs settings.persistence.externalId (the namespace key)",
            )
        _check_owner_id(persistence.external_id, "settings.persistence.externalId")
        return {"persistence": {"scope": "external", "externalId": persistence.external_id}}
    if persistence.external_id is not None:
        raise ValidationError.for_field(
            "settings.persistence.externalId",
            "externalId is only allowed with scope 'external'",
        )
    return {"persistence": {"scope": persistence.scope}}


def namespace_for(
    workspace_id: str, settings: dict[str, Any], end_user_id: str | None
) -> Namespace:
    """The namespace for one execution; ``settings`` were validated by :func:`parse_settings`."""
    persistence = settings.get("persistence") or {}
    scope = persistence.get("scope", "end_user")
    if scope == "workspace":
        return Namespace(workspace_id, "w")
    if scope == "external":
        return Namespace(workspace_id, "x:" + persistence["externalId"])
    if end_user_id is None:
        raise ValidationError.for_field(
            "endUserId",
            "this integration keeps data per end user (persistence scope 'end_user'): "
            "pass endUserId, or configure settings.persistence.scope 'workspace' or 'external'",
        )
    return end_user_namespace(workspace_id, end_user_id)


def end_user_namespace(workspace_id: str, end_user_id: str, field: str = "endUserId") -> Namespace:
    """The namespace of one end user's data (of every kind) in a workspace."""
    _check_owner_id(end_user_id, field)
    return Namespace(workspace_id, END_USER_PREFIX + end_user_id)
