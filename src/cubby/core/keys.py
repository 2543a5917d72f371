"""Creating and revoking API keys; shared by the HTTP API and the CLI."""

from __future__ import annotations

import time

from cubby.auth import expiry_epoch, generate_key, hash_key
from cubby.backends.base import MetaStore
from cubby.core.models import ApiKey, KeyPermissions, is_uuid, new_id, utc_now
from cubby.core.validators import check_name, parse_expiry
from cubby.errors import Conflict, ValidationError


def check_permissions(permissions: KeyPermissions | None) -> KeyPermissions | None:
    if permissions is None:
        return None
    if permissions.scope == "org":
        if permissions.workspace_ids:
            raise ValidationError.for_field(
                "permissions.workspaceIds",
                "an organisation-wide key (scope 'org') takes no workspaceIds",
            )
        return KeyPermissions(scope="org", approvals=permissions.approvals)
    if permissions.scope != "workspace":
        raise ValidationError.for_field(
            "permissions.scope",
            "permissions.scope must be 'org' or 'workspace' (or omit permissions)",
        )
    if not permissions.workspace_ids:
        raise ValidationError.for_field(
            "permissions.workspaceIds", "a workspace-scoped key needs at least one workspace id"
        )
    for ws in permissions.workspace_ids:
        if not is_uuid(ws):
            raise ValidationError.for_field(
                "permissions.workspaceIds", f"{ws!r} is not a workspace id"
            )
    return KeyPermissions(
        scope="workspace",
        workspace_ids=sorted(set(permissions.workspace_ids)),
        approvals=permissions.approvals,
    )


async def create_key(
    meta: MetaStore, name: str, expires_at: str | None, permissions: KeyPermissions | None
) -> tuple[ApiKey, str]:
    """Store a new key; returns its record and the plain key (shown once, never stored)."""
    check_name(name)
    plain = generate_key()
    key = ApiKey(
        id=new_id(),
        org_id=meta.org_id,
        name=name,
        key_prefix=plain[:8],
        permissions=check_permissions(permissions),
        last_used_at=None,
        expires_at=parse_expiry(expires_at) if expires_at is not None else None,
        created_at=utc_now(),
    )
    await meta.api_keys.create(key, hash_key(plain))
    return key, plain


LAST_ORG_KEY_HELP = (
    "create another organisation-wide key first (POST /api/v1/api-keys, or "
    "`cubby api-keys create --name admin`), then revoke this one"
)


async def revoke_key(meta: MetaStore, key_id: str, *, allow_last_org_key: bool = False) -> bool:
    """Revoke a key; False when there is no active key with this id. Revoking the last usable
    organisation-wide key is refused (409 ``LAST_ORG_KEY``): nothing could manage keys any
    more, only the CLI on the server's data (issue 28, item 7: a fuzzer locked itself out).
    ``allow_last_org_key``: the CLI's revoke, which can always create another key."""
    if not is_uuid(key_id):
        return False
    if allow_last_org_key:
        return await meta.api_keys.revoke(key_id, utc_now())

    def refuse(active: list[ApiKey]) -> bool:
        if _last_org_key(active, key_id):
            raise Conflict(
                f"this is the last active organisation-wide API key; {LAST_ORG_KEY_HELP}",
                code="LAST_ORG_KEY",
                details={"id": key_id},
            )
        return False

    # checked inside the backend's revoke, under a lock every process's revoke takes
    return await meta.api_keys.revoke(key_id, utc_now(), refuse)


async def is_last_org_key(meta: MetaStore, key_id: str) -> bool:
    """``key_id`` is the only usable (not revoked, not expired) organisation-wide key."""
    return _last_org_key(await meta.api_keys.all(), key_id)


def _last_org_key(active: list[ApiKey], key_id: str) -> bool:
    now = time.time()
    return [k.id for k in active if _org_wide(k) and usable(k, now)] == [key_id]


def _org_wide(key: ApiKey) -> bool:
    return key.permissions is None or key.permissions.org_wide


def usable(key: ApiKey, now: float | None = None) -> bool:
    """Whether a key that is not revoked still opens the API (it has not expired), judged as
    the authenticator judges it."""
    expires = expiry_epoch(key.expires_at)
    return expires is None or expires > (time.time() if now is None else now)
