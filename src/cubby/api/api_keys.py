"""``/api/v1/api-keys``: create, list and revoke keys (organisation-wide keys only)."""

from __future__ import annotations

from cubby.api.endpoint import Call, Endpoint
from cubby.api.wire import ApiKeyCreated, ApiKeyList, CreateApiKey, Deleted
from cubby.core import keys
from cubby.errors import NotFound


async def list_api_keys(call: Call) -> ApiKeyList:
    call.user.require_org_wide()
    items = await call.services.meta.api_keys.all()
    auth = call.services.auth
    for item in items:  # show this process's unflushed lastUsedAt too
        item.last_used_at = auth.last_used(item.id) or item.last_used_at
    return ApiKeyList(api_keys=items, total=len(items))


async def create_api_key(call: Call) -> ApiKeyCreated:
    call.user.require_org_wide()
    body: CreateApiKey = call.body
    key, plain = await keys.create_key(
        call.services.meta, body.name, body.expires_at, body.permissions
    )
    return ApiKeyCreated(api_key=key, plain_key=plain)


async def revoke_api_key(call: Call) -> Deleted:
    call.user.require_org_wide()
    key_id = call.path("id")
    if not await keys.revoke_key(call.services.meta, key_id):
        raise NotFound("API key not found", details={"id": key_id})
    call.services.auth.forget(key_id)
    return Deleted(deleted=True, id=key_id)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/api-keys",
        list_api_keys,
        "List API keys",
        "API keys",
        response=ApiKeyList,
        errors=(401, "FORBIDDEN"),
    ),
    Endpoint(
        "POST",
        "/api/v1/api-keys",
        create_api_key,
        "Create an API key",
        "API keys",
        body=CreateApiKey,
        response=ApiKeyCreated,
        status=201,
        errors=(400, 401, "FORBIDDEN"),
    ),
    Endpoint(
        "DELETE",
        "/api/v1/api-keys/{id}",
        revoke_api_key,
        "Revoke an API key",
        "API keys",
        response=Deleted,
        errors=(401, "FORBIDDEN", 404, "LAST_ORG_KEY"),
    ),
]
