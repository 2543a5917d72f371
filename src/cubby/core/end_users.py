"""End users (API.md, "End users"): optional records, and what each one stores.

A record names an end user of one workspace; its ``externalId`` is the ``endUserId`` that
action execution takes, so its data is the ``end_user``-scoped namespace ``u:<externalId>`` of
every integration kind (:mod:`cubby.core.scopes`), registered or not. Erasing an end user's
data (a GDPR request) deletes that namespace's keys, files and agent-tool items (memory
entities, scratchpad pages, thoughts) in one transaction, then drops
the bodies from the blob store: with the rows gone nobody can reach them, and a body a
failure leaves behind is an orphan the blob sweep removes. Erasure is an indexed range scan on
``(workspace_id, ns)`` that never looks at other namespaces; usage (keys, files, and bytes of
file bodies and KV values) and items are the end user's live counter row (migrations/0018).
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from cubby.auth import Principal
from cubby.backends.base import Usage
from cubby.core import workspaces
from cubby.core.models import EndUser, is_uuid, new_id, utc_now
from cubby.core.scopes import end_user_namespace
from cubby.core.validators import has_control_chars
from cubby.errors import NotFound, ScopeDenied, ValidationError
from cubby.services import Services

log = logging.getLogger(__name__)

MAX_TEXT = 500
MAX_EMAIL = 320
MAX_METADATA_BYTES = 16 * 1024


def _text(value: str | None, field: str, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise ValidationError.for_field(field, f"{field} is longer than {limit} characters")
    if has_control_chars(value):
        raise ValidationError.for_field(field, f"{field} must not contain control characters")
    return value


def _email(value: str | None) -> str | None:
    value = _text(value, "email", MAX_EMAIL)
    if value is not None:
        local, at, domain = value.partition("@")
        if not (local and at and domain) or any(ch.isspace() for ch in value):
            raise ValidationError.for_field("email", f"email must be an address, got {value!r}")
    return value


def _metadata(value: dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    size = len(msgspec.json.encode(value))
    if size > MAX_METADATA_BYTES:
        raise ValidationError.for_field(
            "metadata", f"metadata is {size} bytes of JSON; the limit is {MAX_METADATA_BYTES}"
        )
    return value


def not_found(end_user_id: str) -> NotFound:
    return NotFound("end user not found", details={"id": end_user_id})


async def create(
    services: Services,
    principal: Principal,
    workspace_id: str,
    external_id: str,
    display_name: str | None,
    email: str | None,
    metadata: dict[str, Any] | None,
) -> EndUser:
    await workspaces.get(services.meta, principal, workspace_id)
    end_user_namespace(workspace_id, external_id, "externalId")  # the same rules as endUserId
    now = utc_now()
    end_user = EndUser(
        id=new_id(),
        workspace_id=workspace_id,
        external_id=external_id,
        display_name=_text(display_name, "displayName"),
        email=_email(email),
        metadata=_metadata(metadata),
        created_at=now,
        updated_at=now,
    )
    await services.meta.end_users.create(end_user)
    return end_user


async def page(
    services: Services, principal: Principal, workspace_id: str, limit: int, offset: int
) -> tuple[list[EndUser], int]:
    ws = await workspaces.get(services.meta, principal, workspace_id)
    return await services.meta.end_users.page(ws.id, limit, offset)


async def get(services: Services, principal: Principal, end_user_id: str) -> EndUser:
    """The record, if the key may see its workspace. A restricted key gets 403 for any id
    outside its workspaces, existing or not, so it cannot probe other workspaces' ids."""
    end_user = await services.meta.end_users.get(end_user_id) if is_uuid(end_user_id) else None
    if end_user is None:
        if not principal.org_wide:
            raise ScopeDenied(
                "this API key is restricted to other workspaces", details={"id": end_user_id}
            )
        raise not_found(end_user_id)
    principal.check_workspace(end_user.workspace_id)
    return end_user


async def update(
    services: Services,
    principal: Principal,
    end_user_id: str,
    display_name: str | UnsetType | None,
    email: str | UnsetType | None,
    metadata: dict[str, Any] | UnsetType | None,
) -> EndUser:
    end_user = await get(services, principal, end_user_id)
    if display_name is UNSET and email is UNSET and metadata is UNSET:
        raise ValidationError(
            "nothing to update: send displayName, email and/or metadata", details={"field": None}
        )
    if display_name is not UNSET:
        end_user.display_name = _text(display_name, "displayName")
    if email is not UNSET:
        end_user.email = _email(email)
    if metadata is not UNSET:
        end_user.metadata = _metadata(metadata)
    end_user.updated_at = utc_now()
    await services.meta.end_users.update(end_user)
    return end_user


async def delete(services: Services, principal: Principal, end_user_id: str) -> EndUser:
    end_user = await get(services, principal, end_user_id)
    if not await services.meta.end_users.delete(end_user.id):
        raise not_found(end_user_id)
    return end_user


async def erase_data(
    services: Services, principal: Principal, workspace_id: str, end_user_id: str
) -> Usage:
    """Delete every key and file ``end_user_id`` (an execution ``endUserId``, registered or
    not) has in the workspace; returns what was removed."""
    await workspaces.get(services.meta, principal, workspace_id)
    ns = end_user_namespace(workspace_id, end_user_id, "endUserId")
    erased = await services.meta.end_users.erase_data(ns.workspace_id, ns.ns)
    for key in erased.blob_keys:
        try:
            await services.blobs.delete(key)
        except Exception:  # pragma: no cover - logged, swept later
            log.warning("could not delete blob %s of an erased end user", key, exc_info=True)
    return Usage(keys=erased.keys, files=erased.files, bytes=erased.bytes, items=erased.items)


async def usage(services: Services, principal: Principal, end_user_id: str) -> Usage:
    end_user = await get(services, principal, end_user_id)
    ns = end_user_namespace(end_user.workspace_id, end_user.external_id, "externalId")
    # the live counters (migrations/0018): one indexed row, the figures quotas are checked on;
    # items are the agent tools' memory entities + scratchpad pages + thoughts
    figures = await services.meta.limits.usage(ns.workspace_id, ns.ns)
    return Usage(keys=figures.keys, files=figures.files, bytes=figures.bytes, items=figures.items)
