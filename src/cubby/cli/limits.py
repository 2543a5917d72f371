"""``cubby workspaces limits|usage`` and ``cubby usage --recount`` (API.md, "Limits and
usage"): the same core functions as the HTTP API, as the operator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import msgspec

from cubby.cli.support import (
    data_dir_option,
    database_option,
    echo_json,
    fail,
    find_workspace,
    operator,
    run_admin,
    settings,
    with_workspace,
    workspace_option,
)
from cubby.core.limit_values import Limits, PerEndUserLimits, UsageFigures
from cubby.services import Services

_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
    "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3,
    "tib": 1024**4,
}  # fmt: skip
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
NONE = "none"


def parse_size(text: str) -> int | None:
    """``1GiB``, ``500MB``, ``4096``; ``none`` clears the limit (the server default applies)."""
    if text.strip().lower() == NONE:
        return None
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 1GiB, 500MB, 4096, none)")
    return int(float(match.group(1)) * _UNITS[unit])


def _count(text: str) -> int | None:
    if text.strip().lower() == NONE:
        return None
    try:
        value = int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a whole number (or none)") from None
    if value < 0:
        raise click.BadParameter("must be 0 or more")
    return value


def _rate(text: str) -> float | None:
    if text.strip().lower() == NONE:
        return None
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a number (or none)") from None
    if not value > 0:
        raise click.BadParameter("must be more than 0")
    return value


# option name -> (field of Limits, or of perEndUser with an "eu:" prefix; parser)
_OPTIONS: dict[str, tuple[str, Any]] = {
    "max_bytes": ("max_bytes", parse_size),
    "max_files": ("max_files", _count),
    "max_keys": ("max_keys", _count),
    "max_items": ("max_items", _count),
    "end_user_max_bytes": ("eu:max_bytes", parse_size),
    "end_user_max_files": ("eu:max_files", _count),
    "end_user_max_keys": ("eu:max_keys", _count),
    "end_user_max_items": ("eu:max_items", _count),
    "requests_per_second": ("requests_per_second", _rate),
    "burst": ("burst", _count),
}


def changed(current: Limits, given: dict[str, str | None]) -> Limits:
    """``current`` with the options given (text values) applied."""
    top = msgspec.structs.asdict(current)
    eu = msgspec.structs.asdict(current.per_end_user or PerEndUserLimits())
    for option, text in given.items():
        if text is None:
            continue
        field, parse = _OPTIONS[option]
        try:
            value = parse(text)
        except click.BadParameter as exc:
            fail(f"--{option.replace('_', '-')}: {exc.message}")
        if field.startswith("eu:"):
            eu[field[3:]] = value
        else:
            top[field] = value
    has_eu = any(v is not None for v in eu.values())
    top["per_end_user"] = PerEndUserLimits(**eu) if has_eu else None
    try:
        return msgspec.convert(msgspec.to_builtins(Limits(**top)), Limits)
    except msgspec.ValidationError as exc:
        fail(f"invalid limits: {exc}")


def _limit_options(fn: Any) -> Any:
    for option in reversed(list(_OPTIONS)):
        flag = "--" + option.replace("_", "-")
        what = "a size (1GiB, 500MB, 4096)" if _OPTIONS[option][1] is parse_size else "a number"
        fn = click.option(
            flag, option, default=None, metavar="N", help=f"{what}; none = server default"
        )(fn)
    return fn


@click.command("limits")
@click.argument("args", nargs=-1, metavar="[ID|SLUG]")
@workspace_option("CUBBY_WORKSPACE")
@_limit_options
@click.option("--json", "as_json", is_flag=True, help="Print the limits as JSON.")
@data_dir_option
@database_option
def limits_command(
    args: tuple[str, ...],
    workspace_option: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
    **given: str | None,
) -> None:
    """Show a workspace's limits, or change the ones given (the others stay).

    \b
    cubby workspaces limits acme --max-bytes 1GiB --max-keys 100000
    cubby workspaces limits acme --end-user-max-bytes 50MB --requests-per-second 50 --burst 10
    cubby workspaces limits acme --max-bytes none      # back to the server default
    cubby workspaces limits -w acme                    # the same workspace, named with -w
    """
    from cubby.core import limits as core

    (workspace,) = with_workspace(workspace_option, args, [])

    async def work(services: Services) -> Limits:
        ws = await find_workspace(services.meta, workspace)
        if all(v is None for v in given.values()):
            return await core.get_limits(services, operator(), ws.id)
        own = await services.meta.limits.get_limits(ws.id)
        return await core.set_limits(services, operator(), ws.id, changed(own, given))

    applied = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(applied)
        return
    eu = applied.per_end_user or PerEndUserLimits()
    for label, value in (
        ("max bytes", applied.max_bytes), ("max files", applied.max_files),
        ("max keys", applied.max_keys), ("max items", applied.max_items),
        ("per end user: max bytes", eu.max_bytes), ("per end user: max files", eu.max_files),
        ("per end user: max keys", eu.max_keys), ("per end user: max items", eu.max_items),
        ("requests per second", applied.requests_per_second), ("burst", applied.burst),
    ):  # fmt: skip
        click.echo(f"{label}: {'none' if value is None else value}")


@click.command("usage")
@click.argument("args", nargs=-1, metavar="[ID|SLUG]")
@workspace_option("CUBBY_WORKSPACE")
@click.option("--json", "as_json", is_flag=True, help="Print the usage as JSON.")
@data_dir_option
@database_option
def usage_command(
    args: tuple[str, ...],
    workspace_option: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Show a workspace's live usage (bytes, files, keys, items, end users)."""
    from cubby.core import limits as core

    (workspace,) = with_workspace(workspace_option, args, [])

    async def work(services: Services) -> UsageFigures:
        ws = await find_workspace(services.meta, workspace)
        return await core.usage(services, operator(), ws.id)

    figures = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(figures)
        return
    click.echo(
        f"bytes: {figures.bytes}\nfiles: {figures.files}\nkeys: {figures.keys}\n"
        f"items: {figures.items}\nend users: {figures.end_users}"
    )


@click.command("usage")
@click.option("--recount", is_flag=True, help="Rebuild every counter from the data.")
@data_dir_option
@database_option
def usage_root(recount: bool, data_dir: Path | None, database_url: str | None) -> None:
    """Usage counters of the whole installation.

    \b
    cubby usage --recount    # rebuild every workspace's and end user's counters from the data

    The counters are kept with every write; a recount is a repair tool (safe while servers run:
    one transaction, writes wait for it).
    """
    from cubby.core import limits as core

    if not recount:
        fail("nothing to do: pass --recount (see cubby workspaces usage SLUG for one workspace)")

    async def work(services: Services) -> int:
        return await core.recount(services)

    rows = run_admin(settings(data_dir, database_url), work)
    click.echo(f"recounted: {rows} counter rows")
