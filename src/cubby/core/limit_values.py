"""The shapes of limits and usage (API.md, "Limits and usage"): what the API sends and takes,
what the backends store. ``None`` means no limit of the workspace's own: the server-wide
default from settings applies (and no limit when that is unset too)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.settings import Settings

Count = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
Rate = Annotated[float, msgspec.Meta(gt=0, le=1_000_000)]
Burst = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class PerEndUserLimits(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Limits of each end user's own data (their ``u:<endUserId>`` namespaces)."""

    max_bytes: Count | None = None
    max_files: Count | None = None
    max_keys: Count | None = None
    max_items: Count | None = None


EndUserLimits = Annotated[
    PerEndUserLimits | None,  # on the union: msgspec drops a description beside a $ref
    msgspec.Meta(
        description="limits of each end user's own data (their `end_user`-scoped namespaces), "
        "counted per end user; a field left out or `null`: the server default "
        "(`CUBBY_LIMIT_END_USER_*`)"
    ),
]


class Limits(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A workspace's limits. Bytes count file bodies and KV values (their JSON text)."""

    max_bytes: Count | None = None
    max_files: Count | None = None
    max_keys: Count | None = None
    max_items: Count | None = None
    per_end_user: EndUserLimits = None
    requests_per_second: Rate | None = None
    burst: Burst | None = None


class UsageFigures(msgspec.Struct, rename="camel"):
    """Live counters of a workspace (or of one end user: ``endUsers`` is then 0)."""

    bytes: int = 0
    files: int = 0
    keys: int = 0
    items: int = 0
    end_users: int = 0


RESOURCES = ("bytes", "files", "keys", "items")


def flat(limits: Limits) -> tuple[float | int | None, ...]:
    """The stored columns, in table order (max_*, eu_max_*, requests_per_second, burst)."""
    eu = limits.per_end_user or PerEndUserLimits()
    return (
        limits.max_bytes, limits.max_files, limits.max_keys, limits.max_items,
        eu.max_bytes, eu.max_files, eu.max_keys, eu.max_items,
        limits.requests_per_second, limits.burst,
    )  # fmt: skip


def from_flat(row: tuple[float | int | None, ...] | None) -> Limits:
    if row is None:
        return Limits()
    i = [None if v is None else int(v) for v in row[:8]]
    eu = PerEndUserLimits(i[4], i[5], i[6], i[7])
    rate = None if row[8] is None else float(row[8])
    return Limits(
        i[0], i[1], i[2], i[3],
        eu if any(v is not None for v in i[4:8]) else None,
        rate, None if row[9] is None else int(row[9]),
    )  # fmt: skip


def merged(own: Limits, defaults: Limits) -> Limits:
    """What applies: the workspace's own value where set, else the default."""
    return from_flat(
        tuple(o if o is not None else d for o, d in zip(flat(own), flat(defaults), strict=True))
    )


def defaults_from(settings: Settings) -> Limits:
    """The server-wide defaults (``CUBBY_LIMIT_*``)."""
    s = settings
    return from_flat(
        (
            s.limit_max_bytes, s.limit_max_files, s.limit_max_keys, s.limit_max_items,
            s.limit_end_user_max_bytes, s.limit_end_user_max_files,
            s.limit_end_user_max_keys, s.limit_end_user_max_items,
            s.limit_requests_per_second, s.limit_burst,
        )
    )  # fmt: skip
