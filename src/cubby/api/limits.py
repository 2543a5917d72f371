"""``/api/v1/workspaces/{id}/usage`` and ``/limits`` (API.md, "Limits and usage")."""

from __future__ import annotations

import msgspec

from cubby.api.endpoint import Call, Endpoint
from cubby.core import limits
from cubby.core.limit_values import Limits, UsageFigures

_TAG = "Workspaces"


class WorkspaceUsageEnvelope(msgspec.Struct):
    usage: UsageFigures


class LimitsEnvelope(msgspec.Struct):
    limits: Limits


async def get_usage(call: Call) -> WorkspaceUsageEnvelope:
    return WorkspaceUsageEnvelope(await limits.usage(call.services, call.user, call.path("id")))


async def get_limits(call: Call) -> LimitsEnvelope:
    return LimitsEnvelope(await limits.get_limits(call.services, call.user, call.path("id")))


async def put_limits(call: Call) -> LimitsEnvelope:
    body: Limits = call.body
    applied = await limits.set_limits(call.services, call.user, call.path("id"), body)
    return LimitsEnvelope(applied)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/api/v1/workspaces/{id}/usage",
        get_usage,
        "Live usage of a workspace",
        _TAG,
        response=WorkspaceUsageEnvelope,
        errors=(401, 403, 404),
        description="Bytes (file bodies and KV values), files, keys, agent-tool items and "
        "end-user records, from counters kept with every write (no scan of the data).",
    ),
    Endpoint(
        "GET",
        "/api/v1/workspaces/{id}/limits",
        get_limits,
        "Limits of a workspace",
        _TAG,
        response=LimitsEnvelope,
        errors=(401, 403, 404),
        description="The limits that apply: the workspace's own, else the server-wide "
        "defaults; null = no limit. Needs an organisation-wide key.",
    ),
    Endpoint(
        "PUT",
        "/api/v1/workspaces/{id}/limits",
        put_limits,
        "Set the limits of a workspace",
        _TAG,
        body=Limits,
        response=LimitsEnvelope,
        errors=(400, 401, 403, 404),
        description="Replaces the workspace's own limits; a field left out or null falls back "
        "to the server-wide default (no limit when there is none). Lowering a limit below the "
        "usage refuses further growth only. Needs an organisation-wide key.",
    ),
]
