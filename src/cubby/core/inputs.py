"""Request bodies the domain validates itself.

They live below the HTTP layer because ``core.workspace_integrations`` and the MCP records need
them, and the domain must not import ``api/``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from cubby.core.fields import ALIAS, NO_CONTROL, NOT_BLANK_NO_C0, NOT_BLANK_NO_CONTROL, SLUG
from cubby.core.validators import ALIAS_MAX, SLUG_MAX

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NOT_BLANK_NO_C0)]
Slug = Annotated[str, msgspec.Meta(pattern=SLUG, max_length=SLUG_MAX)]
Alias = Annotated[str, msgspec.Meta(pattern=ALIAS, max_length=ALIAS_MAX)]
SortOrder = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]


class Body(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Base of request bodies: unknown fields are a 400, never silently dropped."""


class Patch(Body):
    """A PATCH body that must change something: decoding ``{}`` fails with "nothing to update"
    (a 400), and the OpenAPI document gives these bodies ``minProperties: 1``."""

    schema_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}

    def __post_init__(self) -> None:
        if all(getattr(self, name) is UNSET for name in self.__struct_fields__):
            names = self.__struct_encode_fields__
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and/or {names[-1]}"
            raise ValueError(f"nothing to update: send {listed}")


# A workspace integration's optional texts (displayName, connectionId, ...).
IntegrationText = Annotated[str, msgspec.Meta(max_length=500, pattern=NO_CONTROL)]
# The values the Weavz clients type connectionStrategy with; built-ins answer "fixed".
ConnectionStrategy = Literal["fixed", "per_user", "per_user_with_fallback"]
# What ``settings`` may hold (core.scopes.parse_settings checks it): only ``persistence``, whose
# ``externalId`` goes with scope "external" and only with it.
_PERSISTENCE = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"scope": {"enum": ["end_user", "workspace"]}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "scope": {"const": "external"},
                "externalId": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 256,
                    "pattern": NOT_BLANK_NO_CONTROL,
                    "description": "the namespace key (at most 256 bytes of UTF-8)",
                },
            },
            "required": ["scope", "externalId"],
            "additionalProperties": False,
        },
        {"type": "null"},
    ],
    "description": "whose data an action sees: each end user's own (`end_user`, the "
    "default, needs `endUserId` on execute), the workspace's (`workspace`) or one namespace "
    "named by `externalId` (`external`)",
}
Settings = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description='`{"persistence": {"scope", "externalId"?}}`: whose data the '
        "integration's actions see (absent: `end_user`, each end user's own); no other setting",
        extra_json_schema={
            "properties": {"persistence": _PERSISTENCE},
            "additionalProperties": False,
        },
    ),
]


EnabledActions = Annotated[
    list[str],
    msgspec.Meta(
        description="the only actions execute and MCP tools may run through this integration "
        "(any other is 403 `ACTION_NOT_ALLOWED`); absent or `null`: every action"
    ),
]
Strategy = Annotated[
    ConnectionStrategy,
    msgspec.Meta(
        description="how the Weavz clients pick a connection; stored and returned (read back "
        "as `fixed` when unset), the built-in integrations need no connection"
    ),
]
IntegrationName = Annotated[
    str,
    msgspec.Meta(description="the integration to add, by its name in `GET /api/v1/integrations`"),
]


class IntegrationFields(Body, kw_only=True):
    alias: Alias | UnsetType = UNSET
    display_name: IntegrationText | UnsetType | None = UNSET
    enabled_actions: EnabledActions | UnsetType | None = UNSET
    settings: Settings | UnsetType | None = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    connection_strategy: Strategy | UnsetType | None = UNSET
    connection_id: IntegrationText | UnsetType | None = UNSET
    auth_method_key: IntegrationText | UnsetType | None = UNSET
    oauth_app_mode: IntegrationText | UnsetType | None = UNSET
    oauth_app_id: IntegrationText | UnsetType | None = UNSET


class CreateIntegration(IntegrationFields, kw_only=True):
    integration_name: IntegrationName


class UpdateIntegration(IntegrationFields):
    pass
