"""``/api/v1/workspaces``: create, list, get, rename, delete (with all their data)."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint, QueryParam
from cubby.api.wire import (
    CreateWorkspace,
    Deleted,
    UpdateWorkspace,
    WorkspaceEnvelope,
    WorkspaceList,
)
from cubby.core import workspaces
from cubby.errors import Forbidden, ValidationError

MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1  # far past any real listing; keeps the value inside every SQL integer


def _int_param(call: Call, name: str, default: int, low: int, high: int | None) -> int:
    raw = call.request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError.for_field(name, f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValidationError.for_field(name, f"{name} must be {bound}")
    return value


async def list_workspaces(call: Call) -> WorkspaceList:
    limit = _int_param(call, "limit", 50, 1, MAX_LIMIT)
    offset = _int_param(call, "offset", 0, 0, MAX_OFFSET)
    perms = call.user.key.permissions
    only = None if perms is None else perms.workspace_ids
    items, total = await call.services.meta.workspaces.page(limit, offset, only)
    return WorkspaceList(workspaces=items, total=total)


async def create_workspace(call: Call) -> WorkspaceEnvelope:
    if not call.user.org_wide:
        raise Forbidden("creating workspaces needs an organisation-wide key")
    body: CreateWorkspace = call.body
    ws = await workspaces.create(call.services.meta, body.name, body.slug)
    return WorkspaceEnvelope(workspace=ws)


async def get_workspace(call: Call) -> WorkspaceEnvelope:
    ws = await workspaces.get(call.services.meta, call.user, call.path("id"))
    return WorkspaceEnvelope(workspace=ws)


async def update_workspace(call: Call) -> WorkspaceEnvelope:
    body: UpdateWorkspace = call.body
    ws = await workspaces.update(
        call.services.meta, call.user, call.path("id"), body.name, body.slug
    )
    return WorkspaceEnvelope(workspace=ws)


async def delete_workspace(call: Call) -> Deleted:
    ws_id = call.path("id")
    await workspaces.delete(call.services, call.user, ws_id)
    return Deleted(deleted=True, id=ws_id)


_PAGE = [
    QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}),
    QueryParam("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
]

ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/workspaces",
        list_workspaces,
        "List workspaces",
        "Workspaces",
        response=WorkspaceList,
        query=_PAGE,
        errors=(400, 401),
    ),
    Endpoint(
        "POST",
        "/api/v1/workspaces",
        create_workspace,
        "Create a workspace",
        "Workspaces",
        body=CreateWorkspace,
        response=WorkspaceEnvelope,
        status=201,
        errors=(400, 401, 403, 409),
    ),
    Endpoint(
        "GET",
        "/api/v1/workspaces/{id}",
        get_workspace,
        "Get a workspace",
        "Workspaces",
        response=WorkspaceEnvelope,
        errors=(401, 403, 404),
    ),
    Endpoint(
        "PATCH",
        "/api/v1/workspaces/{id}",
        update_workspace,
        "Rename a workspace",
        "Workspaces",
        body=UpdateWorkspace,
        response=WorkspaceEnvelope,
        errors=(400, 401, 403, 404, 409),
    ),
    Endpoint(
        "DELETE",
        "/api/v1/workspaces/{id}",
        delete_workspace,
        "Delete a workspace with all its files and KV data",
        "Workspaces",
        response=Deleted,
        errors=(401, 403, 404),
    ),
]
