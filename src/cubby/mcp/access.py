"""What an MCP token may reach: its ``scopes`` and its server's ``endUserAccess`` (docs/mcp.md).

Token scopes (``POST .../access-tokens {"scopes"}``; absent or empty: every tool):

- ``read``: the read-only tools (``readOnlyHint``, from the action's declaration and verb);
- ``write``: the tools that change data (every tool that is not read-only);
- ``mcp:tools``: every tool (the Weavz clients' name for Tool Mode);
- ``mcp:code``: Code Mode, which cubby does not serve: it reaches no tool by itself.

A token reaches the union of what its scopes grant. A server's ``endUserAccess`` governs its
end-user access tokens (never its static token):

- ``"none"``: the server has no end-user tokens: creating one is a 403, and existing ones are
  refused (403) by the endpoint;
- ``"restricted"``: end-user tokens reach only the tools of ``end_user``-scoped integrations
  (their own data), not ``workspace``- or ``external``-scoped ones (data shared by everyone);
- ``"full"`` (and ``null``, the default): end-user tokens reach every tool.

A tool a caller may not use is left out of ``tools/list`` and answers ``tools/call`` with a tool
error carrying a 403 ``FORBIDDEN`` body, exactly as a tool that does not exist would be hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Protocol, TypeVar

import msgspec

from cubby.errors import Forbidden, ValidationError
from cubby.mcp.tokens import Caller

READ, WRITE, TOOLS, CODE = "read", "write", "mcp:tools", "mcp:code"
TOKEN_SCOPES: tuple[str, ...] = (READ, WRITE, TOOLS, CODE)
NONE, RESTRICTED, FULL = "none", "restricted", "full"
END_USER_ACCESS: tuple[str, ...] = (NONE, RESTRICTED, FULL)

# The declarations behind validation and /openapi.json (checked again below, with a message
# that names the allowed values).
TokenScope = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(TOKEN_SCOPES)})]
EndUserAccess = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(END_USER_ACCESS)})]


class Tool(Protocol):
    """What the rules read of a tool (:class:`cubby.mcp.tools.ToolSpec`, which calls them)."""

    @property
    def name(self) -> str: ...
    @property
    def data_scope(self) -> str: ...
    @property
    def read_only(self) -> bool: ...


T = TypeVar("T", bound=Tool)


def check_scopes(scopes: Sequence[str] | None) -> list[str]:
    """The scopes to store (in the order given, without repeats); 400 for an unknown one."""
    kept: list[str] = []
    for i, scope in enumerate(scopes or ()):
        if scope not in TOKEN_SCOPES:
            raise ValidationError.for_field(
                f"scopes[{i}]",
                f"unknown token scope {scope!r}; the scopes are {', '.join(TOKEN_SCOPES)} "
                "(none: every tool)",
                allowed=list(TOKEN_SCOPES),
            )
        if scope not in kept:
            kept.append(scope)
    return kept


def check_end_user_access(value: str | None) -> str | None:
    if value is not None and value not in END_USER_ACCESS:
        raise ValidationError.for_field(
            "endUserAccess",
            f"endUserAccess must be one of {', '.join(END_USER_ACCESS)} (or null: full), "
            f"got {value!r}",
            allowed=list(END_USER_ACCESS),
        )
    return value


def end_user_tokens_refused(server_id: str) -> Forbidden:
    return Forbidden(
        "this MCP server's endUserAccess is 'none': it has no end-user access tokens; "
        f"PATCH /api/v1/mcp/servers/{server_id} with endUserAccess 'restricted' or 'full' "
        "to allow them",
        details={"field": "endUserAccess", "endUserAccess": NONE},
    )


def check_caller(caller: Caller) -> None:
    """Refuse an end-user token of a server whose endUserAccess is ``none`` (403)."""
    if caller.token.kind == "end_user" and caller.server.end_user_access == NONE:
        raise end_user_tokens_refused(caller.server.id)


def denied(caller: Caller, spec: Tool) -> Forbidden | None:
    """Why this caller may not use this tool, or None when it may."""
    restricted = caller.token.kind == "end_user" and caller.server.end_user_access == RESTRICTED
    if restricted and spec.data_scope != "end_user":
        return Forbidden(
            f"tool {spec.name!r} reaches data shared by the whole workspace (persistence "
            f"scope {spec.data_scope!r}) and this server's endUserAccess is 'restricted': "
            "end-user tokens reach only end_user-scoped tools",
            details={"tool": spec.name, "endUserAccess": RESTRICTED},
        )
    scopes = caller.token.token.scopes
    if not scopes or TOOLS in scopes:
        return None
    read_only = spec.read_only
    if (READ in scopes and read_only) or (WRITE in scopes and not read_only):
        return None
    return Forbidden(
        f"tool {spec.name!r} {'only reads' if read_only else 'changes data'} and this token's "
        f"scopes ({', '.join(scopes)}) do not allow it",
        details={"tool": spec.name, "scopes": list(scopes), "needs": READ if read_only else WRITE},
    )


def visible(caller: Caller, specs: Sequence[T]) -> list[T]:
    """The tools this caller may use (``tools/list``)."""
    return [spec for spec in specs if denied(caller, spec) is None]
