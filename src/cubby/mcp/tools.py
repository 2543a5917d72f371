"""A workspace's integrations as MCP tools, and ``tools/call`` through the core execute path.

Tool Mode (API.md): one tool per enabled action of each workspace integration, named
``{alias}__{action}`` (characters outside ``[A-Za-z0-9_-]`` become ``_``, at most 64), built on
every request from the workspace's integrations, so a new alias shows up without a restart. The
input schema is the action's one input declaration (:meth:`Action.input_schema`), the
description the catalog's. The tools resource overrides a synced tool (display name,
description, ``inputDefaults`` merged under the caller's input, sort order) or adds one for an
integration the workspace has not configured (the built-in default, as execute resolves it).

A call builds the same :class:`ExecuteRequest` as ``POST /api/v1/actions/execute`` and runs
:func:`cubby.core.execute.execute`: same resolution, persistence scope, limits and errors. Every
failure comes back as a tool result with ``isError: true`` carrying the cubby error body.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import msgspec

from cubby import metrics
from cubby.core.execute import ExecuteRequest, execute
from cubby.core.mcp_records import McpServerTool
from cubby.core.models import WorkspaceIntegration
from cubby.core.registry import Action, Integration, Registry
from cubby.errors import CubbyError, NotFound, ValidationError
from cubby.mcp import access
from cubby.mcp.tokens import Caller
from cubby.services import Services

log = logging.getLogger("cubby.mcp")

MAX_NAME = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_TOOL_IDS = uuid.UUID("5c0b6a7e-2f43-4a3c-9f0e-6d1d3c1b7a11")  # namespace of synced tool ids
_READ = {"read", "get", "list"}
_DESTRUCTIVE = {"delete", "remove", "clear"}
_IDEMPOTENT = _READ | _DESTRUCTIVE | {"put", "write"}
_encoder = msgspec.json.Encoder()


def tool_name(alias: str, action: str) -> str:
    return _UNSAFE.sub("_", f"{alias}__{action}")[:MAX_NAME]


@functools.lru_cache(maxsize=8192)  # built for every tool on every request; uuid5 is not free
def synced_tool_id(server_id: str, integration_id: str, action: str) -> str:
    """A stable id for a synced tool, so the tools resource can override it by id."""
    return str(uuid.uuid5(_TOOL_IDS, f"{server_id}/{integration_id}/{action}"))


def is_read_only(action: Action) -> bool:
    """The tool's ``readOnlyHint``: the action's declaration, else its verb (read/get/list)."""
    return action.read_only or action.name.split("_", 1)[0] in _READ


def persistence_scope(settings: dict[str, Any] | None) -> str:
    """The persistence scope of a workspace integration's data (built-in default: end_user)."""
    persistence = (settings or {}).get("persistence") or {}
    return str(persistence.get("scope", "end_user"))


def tool_annotations(action: Action, title: str) -> types.ToolAnnotations:
    """Hints from the action's declaration (``read_only``) and its verb (the first word of its
    name): read/get/list only read, delete/remove/clear destroy, and repeating
    get/read/list/put/write/delete/remove changes nothing more than doing it once."""
    verb = action.name.split("_", 1)[0]
    read_only = is_read_only(action)
    return types.ToolAnnotations(
        title=title,
        read_only_hint=read_only,
        destructive_hint=None if read_only else verb in _DESTRUCTIVE,
        idempotent_hint=read_only or verb in _IDEMPOTENT,
        open_world_hint=False,
    )


@dataclass(frozen=True)
class ToolSpec:
    """One tool of a server: what it runs and how it is shown."""

    name: str
    integration: Integration
    action: Action
    alias: str
    configured: bool  # a workspace integration backs it (else the built-in default runs)
    record: McpServerTool
    data_scope: str = "end_user"  # persistence scope of the data it reaches (mcp/access.py)

    @property
    def read_only(self) -> bool:
        return is_read_only(self.action)

    @property
    def title(self) -> str:
        return self.record.display_name or self.action.display_name

    def input_schema(self) -> dict[str, Any]:
        schema = self.action.input_schema()
        defaults = self.record.input_defaults
        if not defaults:
            return schema
        schema = copy.deepcopy(schema)
        for field, value in defaults.items():
            if field in schema.get("properties", {}):
                schema["properties"][field]["default"] = value
        required = [f for f in schema.get("required", []) if f not in defaults]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema

    def to_mcp(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            title=self.title,
            description=self.record.description or self.action.description,
            input_schema=self.input_schema(),
            annotations=tool_annotations(self.action, self.title),
        )


def build_tools(
    registry: Registry,
    server_id: str,
    integrations: Sequence[WorkspaceIntegration],
    overrides: Sequence[McpServerTool] = (),
) -> list[ToolSpec]:
    by_key = {(o.integration_alias, o.action_name): o for o in overrides}
    used: set[tuple[str, str]] = set()
    entries: list[tuple[int, int, ToolSpec]] = []
    for wi in sorted(integrations, key=lambda w: (w.sort_order, w.alias)):
        integration = registry.get(wi.integration_name)
        if integration is None:
            continue
        for action in integration.actions.values():
            if wi.enabled_actions is not None and action.name not in wi.enabled_actions:
                continue
            override = by_key.get((wi.alias, action.name))
            if override is not None:
                used.add((wi.alias, action.name))
            record = override or McpServerTool(
                id=synced_tool_id(server_id, wi.id, action.name), mcp_server_id=server_id,
                integration_name=integration.name, integration_alias=wi.alias,
                action_name=action.name, tool_type="ACTION", connection_id=wi.connection_id,
                display_name=None, description=None, input_defaults=None, partial_ids=None,
                sort_order=wi.sort_order, source_workspace_integration_id=wi.id,
            )  # fmt: skip
            spec = ToolSpec(tool_name(wi.alias, action.name), integration, action, wi.alias, True,
                            record, persistence_scope(wi.settings))  # fmt: skip
            entries.append((record.sort_order, len(entries), spec))
    configured_kinds = {wi.integration_name for wi in integrations}
    aliases = {wi.alias for wi in integrations}
    for override in overrides:
        key = (override.integration_alias, override.action_name)
        if key in used or override.integration_alias in aliases:
            continue  # an override of a synced tool, or of an action that is not enabled
        integration = registry.get(override.integration_name)
        added = integration.actions.get(override.action_name) if integration else None
        # An added tool runs the built-in default, which execute uses only while the workspace
        # has no integration of that kind; once it has one, that integration's tools count.
        if (
            integration is None
            or added is None
            or integration.name in configured_kinds
            or override.integration_alias != integration.name
        ):
            continue
        spec = ToolSpec(tool_name(integration.name, added.name), integration, added,
                        integration.name, False, override)  # fmt: skip
        entries.append((override.sort_order, len(entries), spec))
    entries.sort(key=lambda e: (e[0], e[1]))
    specs: list[ToolSpec] = []
    names: set[str] = set()
    for _, _, spec in entries:
        if spec.name in names:  # two long aliases cut to the same 64 characters: first wins
            continue
        names.add(spec.name)
        specs.append(spec)
    return specs


async def server_tools(services: Services, server_id: str, workspace_id: str) -> list[ToolSpec]:
    """The server's tools as of now (two reads: its overrides and the workspace's integrations)."""
    overrides = await services.meta.mcp.tools(server_id)
    integrations = await services.meta.integrations.in_workspace(workspace_id)
    return build_tools(services.registry, server_id, integrations, overrides)


async def cached_tools(
    services: Services, server_id: str, workspace_id: str, fresh: bool = False
) -> list[ToolSpec]:
    """The server's tools for the endpoint, from this process's cache (mcp/tool_cache.py) unless
    ``fresh``. Callers must not change them (the management routes read :func:`server_tools`)."""
    specs: list[ToolSpec] | None = None if fresh else services.mcp_tools.get(server_id)
    if specs is None:
        specs = await server_tools(services, server_id, workspace_id)
        services.mcp_tools.put(server_id, workspace_id, specs)
    return specs


# -- results --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """A tool call's result: its JSON text, the same as structured content when it is an
    object, and whether it is an error. :meth:`to_mcp` makes the package's result of it; the
    fast path (mcp/fast_path.py) shapes the same wire form without the package's models."""

    text: str
    structured: dict[str, Any] | None
    is_error: bool

    def to_mcp(self) -> types.CallToolResult:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=self.text)],
            structured_content=self.structured,
            is_error=self.is_error,
        )


def ok_outcome(output_json: bytes) -> ToolOutcome:
    """An action's output: its JSON as text, and as structured content when it is an object."""
    structured = msgspec.json.decode(output_json)
    return ToolOutcome(
        output_json.decode(), structured if isinstance(structured, dict) else None, False
    )


def error_outcome(body: dict[str, Any]) -> ToolOutcome:
    """A failure as a tool result: the cubby error body (``error``, ``code``, ``details``,
    e.g. ``details.reason`` ``FILE_NOT_FOUND``) as JSON text and as structured content."""
    return ToolOutcome(_encoder.encode(body).decode(), body, True)


def ok_result(output_json: bytes) -> types.CallToolResult:
    return ok_outcome(output_json).to_mcp()


def error_result(body: dict[str, Any]) -> types.CallToolResult:
    return error_outcome(body).to_mcp()


def needs_end_user(server_id: str) -> ValidationError:
    return ValidationError.for_field(
        "endUserId",
        "this tool keeps data per end user (persistence scope 'end_user') and this connection "
        "acts as no end user: connect with an end-user access token (POST "
        f"/api/v1/mcp/servers/{server_id}/access-tokens), or create the server with an endUserId",
    )


def merge_arguments(spec: ToolSpec, arguments: dict[str, Any] | None) -> dict[str, Any]:
    return {**(spec.record.input_defaults or {}), **(arguments or {})}


def encode_arguments(arguments: dict[str, Any]) -> bytes:
    """The arguments as execute's ``input``; a string no JSON text can carry (a lone UTF-16
    surrogate, which a 2026 request's ``\\ud800`` escape decodes to) is a 400, not a crash."""
    try:
        return _encoder.encode(arguments)
    except UnicodeEncodeError:
        raise ValidationError.for_field(
            "input", "the arguments hold a string that is not valid Unicode (a lone surrogate)"
        ) from None


def find_tool(specs: Sequence[ToolSpec], name: str) -> ToolSpec:
    spec = next((s for s in specs if s.name == name), None)
    if spec is None:
        raise NotFound(
            f"this MCP server has no tool named {name!r}",
            details={"tool": name, "tools": [s.name for s in specs]},
        )
    return spec


async def call_tool(
    services: Services, caller: Caller, name: str, arguments: dict[str, Any] | None
) -> types.CallToolResult:
    """Run one tool as this caller (its token's scopes and server's endUserAccess apply)."""
    return (await run_tool(services, caller, name, arguments)).to_mcp()


async def run_tool(
    services: Services, caller: Caller, name: str, arguments: dict[str, Any] | None
) -> ToolOutcome:
    """:func:`call_tool`'s outcome, before the package's result model."""
    server_id, workspace_id = caller.server.id, caller.server.workspace_id
    principal, end_user_id = caller.principal, caller.end_user_id
    target = ("unknown", "unknown")  # the metric's labels: registered names only, never `name`
    try:
        specs = await cached_tools(services, server_id, workspace_id)
        spec = next((s for s in specs if s.name == name), None)
        if spec is None:  # added since (maybe in another process)?
            fresh = await cached_tools(services, server_id, workspace_id, fresh=True)
            spec = find_tool(fresh, name)
        target = (spec.integration.name, spec.action.name)
        refused = access.denied(caller, spec)
        if refused is not None:
            raise refused
        request = ExecuteRequest(
            integration_name=spec.integration.name,
            action_name=spec.action.name,
            workspace_id=workspace_id,
            input=msgspec.Raw(encode_arguments(merge_arguments(spec, arguments))),
            integration_alias=spec.alias if spec.configured else None,
            end_user_id=end_user_id,
            partial_ids=spec.record.partial_ids,
        )
        try:
            response = await execute(services, principal, request)
        except ValidationError as exc:
            if end_user_id is None and (exc.details or {}).get("field") == "endUserId":
                raise needs_end_user(server_id) from None
            raise
        metrics.REQUEST_TALLY.count_tool_call((*target, "ok"))
        return ok_outcome(_encoder.encode(response.output))
    except CubbyError as exc:
        metrics.REQUEST_TALLY.count_tool_call((*target, "error"))
        return error_outcome(exc.to_body())
    except Exception:
        metrics.REQUEST_TALLY.count_tool_call((*target, "internal"))
        log.exception("MCP tool %r failed", name)
        return error_outcome(
            {"error": "internal error; the server log has the details", "code": "INTERNAL_ERROR"}
        )
