"""``/api/v1/end-users``: register end users of a workspace (Weavz's End users resource), see
what each stores, and erase it (cubby only: ``?eraseData=true`` and
``POST /api/v1/workspaces/{wsId}/erase-end-user-data``, which also takes an ``endUserId`` that
was never registered)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from cubby.api.endpoint import Call, Endpoint, QueryParam
from cubby.api.paging import bool_param, page, page_query
from cubby.backends.base import Usage
from cubby.core import end_users
from cubby.core.fields import EMAIL, NO_CONTROL, Id
from cubby.core.inputs import Body, Patch
from cubby.core.mcp_records import OwnerId
from cubby.core.models import EndUser

MAX_LIMIT = 100
_TAG = "End users"


DisplayName = Annotated[str, msgspec.Meta(max_length=end_users.MAX_TEXT, pattern=NO_CONTROL)]
Email = Annotated[
    str,
    msgspec.Meta(
        max_length=end_users.MAX_EMAIL,
        pattern=EMAIL,
        description="an address: text, '@', text; no spaces",
    ),
]
Metadata = Annotated[
    dict[str, Any],
    msgspec.Meta(description=f"any JSON object, at most {end_users.MAX_METADATA_BYTES} bytes"),
]
EndUserWorkspace = Annotated[
    Id, msgspec.Meta(description="the id of the workspace the end user belongs to")
]


class CreateEndUser(Body):
    workspace_id: EndUserWorkspace
    external_id: OwnerId
    display_name: DisplayName | None = None
    email: Email | None = None
    metadata: Metadata | None = None


class UpdateEndUser(Patch):
    display_name: DisplayName | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET


class EraseEndUserData(Body):
    end_user_id: OwnerId


class EndUserEnvelope(msgspec.Struct, rename="camel"):
    end_user: EndUser


class EndUserList(msgspec.Struct, rename="camel"):
    end_users: list[EndUser]
    total: int


class EndUserDeleted(msgspec.Struct, omit_defaults=True):
    deleted: bool
    id: str
    erased: Usage | None = None  # only with ?eraseData=true


class EndUserDataErased(msgspec.Struct, rename="camel"):
    workspace_id: str
    end_user_id: str
    erased: Usage


class UsageEnvelope(msgspec.Struct):
    usage: Usage


async def create_end_user(call: Call) -> EndUserEnvelope:
    body: CreateEndUser = call.body
    end_user = await end_users.create(
        call.services, call.user, body.workspace_id, body.external_id, body.display_name,
        body.email, body.metadata,
    )  # fmt: skip
    return EndUserEnvelope(end_user=end_user)


async def list_end_users(call: Call) -> EndUserList:
    workspace_id = call.request.query_params["workspaceId"]  # required: checked by Endpoint
    limit, offset = page(call, 50, MAX_LIMIT)
    items, total = await end_users.page(call.services, call.user, workspace_id, limit, offset)
    return EndUserList(end_users=items, total=total)


async def get_end_user(call: Call) -> EndUserEnvelope:
    return EndUserEnvelope(end_user=await end_users.get(call.services, call.user, call.path("id")))


async def update_end_user(call: Call) -> EndUserEnvelope:
    body: UpdateEndUser = call.body
    end_user = await end_users.update(
        call.services, call.user, call.path("id"), body.display_name, body.email, body.metadata
    )
    return EndUserEnvelope(end_user=end_user)


async def delete_end_user(call: Call) -> EndUserDeleted:
    erase = bool_param(call, "eraseData")
    end_user = await end_users.get(call.services, call.user, call.path("id"))
    erased = None
    if erase:  # data first: a failure here leaves the record, so the call can be repeated
        erased = await end_users.erase_data(
            call.services, call.user, end_user.workspace_id, end_user.external_id
        )
    await end_users.delete(call.services, call.user, end_user.id)
    return EndUserDeleted(deleted=True, id=end_user.id, erased=erased)


async def end_user_usage(call: Call) -> UsageEnvelope:
    return UsageEnvelope(usage=await end_users.usage(call.services, call.user, call.path("id")))


async def erase_end_user_data(call: Call) -> EndUserDataErased:
    body: EraseEndUserData = call.body
    ws_id = call.path("wsId")
    erased = await end_users.erase_data(call.services, call.user, ws_id, body.end_user_id)
    return EndUserDataErased(workspace_id=ws_id, end_user_id=body.end_user_id, erased=erased)


_ONE = "/api/v1/end-users/{id}"

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/v1/end-users",
        create_end_user,
        "Register an end user of a workspace",
        _TAG,
        body=CreateEndUser,
        response=EndUserEnvelope,
        status=201,
        errors=(400, 401, 403, 404, 409),
        description="externalId is the endUserId that action execution takes; unique per "
        "workspace (409 DUPLICATE). Registering is optional: an unregistered endUserId has "
        "its own data all the same.",
    ),
    Endpoint(
        "GET",
        "/api/v1/end-users",
        list_end_users,
        "List a workspace's end users",
        _TAG,
        response=EndUserList,
        query=[
            QueryParam("workspaceId", {"type": "string", "minLength": 1}, "workspace id", True),
            *page_query(50, MAX_LIMIT),
        ],
        errors=(400, 401, 403, 404),
    ),
    Endpoint(
        "GET",
        _ONE,
        get_end_user,
        "Get an end user",
        _TAG,
        response=EndUserEnvelope,
        errors=(401, 403, 404),
    ),
    Endpoint(
        "PATCH",
        _ONE,
        update_end_user,
        "Change an end user's displayName, email or metadata",
        _TAG,
        body=UpdateEndUser,
        response=EndUserEnvelope,
        errors=(400, 401, 403, 404),
    ),
    Endpoint(
        "DELETE",
        _ONE,
        delete_end_user,
        "Delete an end user (with ?eraseData=true: and every key and file they own)",
        _TAG,
        response=EndUserDeleted,
        query=[
            QueryParam(
                "eraseData",
                {"type": "boolean", "default": False},
                "also erase every key and file of this end user in the workspace",
            )
        ],
        errors=(400, 401, 403, 404),
    ),
    Endpoint(
        "GET",
        _ONE + "/usage",
        end_user_usage,
        "Keys, files and bytes an end user stores in the workspace",
        _TAG,
        response=UsageEnvelope,
        errors=(401, 403, 404),
    ),
    Endpoint(
        "POST",
        "/api/v1/workspaces/{wsId}/erase-end-user-data",
        erase_end_user_data,
        "Erase every key and file of one endUserId (registered or not)",
        _TAG,
        body=EraseEndUserData,
        response=EndUserDataErased,
        errors=(400, 401, 403, 404),
        description="Removes the end user's data of every end_user-scoped integration of "
        "every kind in the workspace, bodies included, in one transaction; reports counts.",
    ),
]
