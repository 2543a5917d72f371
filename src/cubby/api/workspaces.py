"""``/api/v1/workspaces``: create, list, get, rename, delete (with all their data)."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint
from cubby.api.paging import page, page_query
from cubby.api.wire import (
    CreateWorkspace,
    Deleted,
    UpdateWorkspace,
    WorkspaceEnvelope,
    WorkspaceList,
)
from cubby.core import workspaces

MAX_LIMIT = 100


async def list_workspaces(call: Call) -> WorkspaceList:
    limit, offset = page(call, 50, MAX_LIMIT)
    items, total = await workspaces.page(call.services.meta, call.user, limit, offset)
    return WorkspaceList(workspaces=items, total=total)


async def create_workspace(call: Call) -> WorkspaceEnvelope:
    body: CreateWorkspace = call.body
    ws = await workspaces.create_as(call.user, call.services.meta, body.name, body.slug)
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


_PAGE = page_query(50, MAX_LIMIT)

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
        errors=(400, 401, "FORBIDDEN", "SLUG_EXISTS"),
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
        errors=(400, 401, 403, 404, "SLUG_EXISTS"),
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
