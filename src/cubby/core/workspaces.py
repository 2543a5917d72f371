"""Workspace management rules, shared by the HTTP API and the CLI."""

from __future__ import annotations

import logging

from msgspec import UNSET, UnsetType

from cubby.auth import Principal
from cubby.backends.base import MetaStore
from cubby.core.models import Workspace, is_uuid, new_id, utc_now
from cubby.core.validators import check_name, check_slug
from cubby.errors import Forbidden, NotFound, ValidationError
from cubby.services import Services

log = logging.getLogger(__name__)


def not_found(workspace_id: str) -> NotFound:
    return NotFound("workspace not found", details={"workspaceId": workspace_id})


async def create(meta: MetaStore, name: str, slug: str) -> Workspace:
    now = utc_now()
    ws = Workspace(
        id=new_id(),
        org_id=meta.org_id,
        name=check_name(name),
        slug=check_slug(slug),
        created_at=now,
        updated_at=now,
    )
    await meta.workspaces.create(ws)
    return ws


async def create_as(principal: Principal, meta: MetaStore, name: str, slug: str) -> Workspace:
    """Create a workspace on behalf of a caller: only organisation-wide keys may."""
    if not principal.org_wide:
        raise Forbidden("creating workspaces needs an organisation-wide key")
    return await create(meta, name, slug)


async def page(
    meta: MetaStore, principal: Principal, limit: int, offset: int
) -> tuple[list[Workspace], int]:
    """The workspaces the caller may see, a page at a time, with their total."""
    return await meta.workspaces.page(limit, offset, principal.workspace_ids)


async def get(meta: MetaStore, principal: Principal, workspace_id: str) -> Workspace:
    """The workspace, after checking the caller may touch it (403 before 404)."""
    principal.check_workspace(workspace_id)
    ws = await meta.workspaces.get(workspace_id) if is_uuid(workspace_id) else None
    if ws is None:
        raise not_found(workspace_id)
    return ws


async def update(
    meta: MetaStore,
    principal: Principal,
    workspace_id: str,
    name: str | UnsetType,
    slug: str | UnsetType,
) -> Workspace:
    principal.check_workspace(workspace_id)
    if name is UNSET and slug is UNSET:
        raise ValidationError("nothing to update: send name and/or slug", details={"field": None})
    ws = await get(meta, principal, workspace_id)
    if name is not UNSET:
        ws.name = check_name(name)
    if slug is not UNSET:
        ws.slug = check_slug(slug)
    ws.updated_at = utc_now()
    await meta.workspaces.update(ws)
    return ws


async def delete(services: Services, principal: Principal, workspace_id: str) -> None:
    principal.check_workspace(workspace_id)
    blobs = await services.meta.workspaces.delete(workspace_id) if is_uuid(workspace_id) else None
    services.integrations.invalidate(workspace_id)
    if blobs is None:
        raise not_found(workspace_id)
    # The rows are gone (committed); bodies left behind by a failure here are orphans that
    # the blob sweep removes, never files anyone can still reach.
    for key in blobs:
        try:
            await services.blobs.delete(key)
        except Exception:  # pragma: no cover - logged, swept later
            log.warning("could not delete blob %s of deleted workspace", key, exc_info=True)
