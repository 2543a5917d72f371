"""``cubby workspaces`` and ``cubby integrations``: set up workspaces and their integrations
on the server's own database, like ``cubby api-keys`` (no API key needed; works while a server
runs on the same data dir or database). The same rules as the HTTP API apply: they call the
same ``core`` functions as an organisation-wide key would.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from cubby.cli.limits import limits_command, usage_command
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
from cubby.core.models import Workspace, WorkspaceIntegration
from cubby.services import Services

__all__ = ["integrations", "workspaces"]


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:63] or "workspace"


@click.group()
def workspaces() -> None:
    """Create, list and remove workspaces (on the data dir or --database-url).

    \b
    cubby workspaces create Acme            # prints the new workspace's id
    cubby workspaces ls
    cubby workspaces rm acme --yes          # its files, keys and integrations go too
    cubby workspaces limits acme --max-bytes 1GiB --max-keys 100000
    cubby workspaces usage acme
    """


@workspaces.command("create")
@click.argument("name")
@click.option("--slug", default=None, help="URL-safe short name (default: made from NAME).")
@click.option("--json", "as_json", is_flag=True, help="Print the workspace as JSON.")
@data_dir_option
@database_option
def create_workspace(
    name: str, slug: str | None, as_json: bool, data_dir: Path | None, database_url: str | None
) -> None:
    """Create a workspace; prints its id (or the whole workspace with --json)."""
    from cubby.core import workspaces as core

    async def work(services: Services) -> Workspace:
        return await core.create(services.meta, name, slug or slug_of(name))

    ws = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(ws)
    else:
        click.echo(ws.id)


@workspaces.command("ls")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
@database_option
def list_workspaces(as_json: bool, data_dir: Path | None, database_url: str | None) -> None:
    """List workspaces: id, slug, name, creation time."""

    async def work(services: Services) -> list[Workspace]:
        out: list[Workspace] = []
        while True:
            page, total = await services.meta.workspaces.page(100, len(out), None)
            out += page
            if not page or len(out) >= total:
                return out

    for ws in run_admin(settings(data_dir, database_url), work):
        if as_json:
            echo_json(ws)
        else:
            click.echo(f"{ws.id}  {ws.slug}  {ws.name}  created={ws.created_at}")


@workspaces.command("rm")
@click.argument("args", nargs=-1, metavar="[ID|SLUG]")
@workspace_option(None)  # never from CUBBY_WORKSPACE: deleting is named out loud
@click.option("--yes", is_flag=True, help="Do not ask; needed when not on a terminal.")
@data_dir_option
@database_option
def remove_workspace(
    args: tuple[str, ...],
    workspace_option: str | None,
    yes: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Delete a workspace with all its files, keys, state and integrations."""
    from cubby.core import workspaces as core

    (workspace,) = with_workspace(workspace_option, args, [])

    if not yes:
        if not sys.stdin.isatty():
            fail("removing a workspace deletes all its data; add --yes to confirm")
        click.confirm(f"Delete workspace {workspace} and all its data?", abort=True)

    async def work(services: Services) -> Workspace:
        ws = await find_workspace(services.meta, workspace)
        await core.delete(services, operator(), ws.id)
        return ws

    ws = run_admin(settings(data_dir, database_url), work)
    click.echo(f"deleted workspace {ws.slug} ({ws.id})")


workspaces.add_command(limits_command)
workspaces.add_command(usage_command)


@click.group()
def integrations() -> None:
    """Add, list and remove a workspace's integrations (storage, kv-store).

    The persistence scope decides whose data an alias sees: end_user (default: one namespace
    per endUserId), workspace (everyone in the workspace) or external (one namespace key).

    \b
    cubby integrations add acme storage --alias files --scope workspace
    cubby integrations add acme kv-store --alias tenant-a --namespace-key tenant_123
    cubby integrations ls acme
    cubby integrations rm acme files
    """


def _scope_text(wi: WorkspaceIntegration) -> str:
    persistence = wi.settings.get("persistence", {})
    scope = str(persistence.get("scope", "end_user"))
    key = persistence.get("externalId")
    return f"{scope}:{key}" if key else scope


@integrations.command("add")
@click.argument("args", nargs=-1, metavar="[WORKSPACE] INTEGRATION")
@workspace_option("CUBBY_WORKSPACE")
@click.option("--alias", default=None, help="Name to address it by (default: INTEGRATION).")
@click.option(
    "--scope",
    type=click.Choice(["end_user", "workspace", "external"]),
    default=None,
    help="Persistence scope [default: end_user; external with --namespace-key].",
)
@click.option(
    "--namespace-key",
    default=None,
    metavar="KEY",
    help="The namespace of the external scope (e.g. a tenant or session id).",
)
@click.option("--display-name", default=None, help="Label shown in the dashboard.")
@click.option("--json", "as_json", is_flag=True, help="Print the integration as JSON.")
@data_dir_option
@database_option
def add_integration(
    args: tuple[str, ...],
    workspace_option: str | None,
    alias: str | None,
    scope: str | None,
    namespace_key: str | None,
    display_name: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Add INTEGRATION to WORKSPACE (id or slug); prints the integration's id."""
    from cubby.core import workspace_integrations as core
    from cubby.core.inputs import CreateIntegration

    workspace, integration_name = with_workspace(workspace_option, args, ["INTEGRATION"])

    if namespace_key is not None and scope is None:
        scope = "external"
    persistence: dict[str, Any] = {"scope": scope or "end_user"}
    if namespace_key is not None:
        persistence["externalId"] = namespace_key
    fields: dict[str, Any] = {
        "integrationName": integration_name,
        "settings": {"persistence": persistence},
    }
    if alias is not None:
        fields["alias"] = alias
    if display_name is not None:
        fields["displayName"] = display_name

    async def work(services: Services) -> WorkspaceIntegration:
        ws = await find_workspace(services.meta, workspace)
        try:
            body = msgspec.convert(fields, CreateIntegration)
        except msgspec.ValidationError as exc:
            fail(f"{exc}; see `cubby integrations add --help`")
        return await core.create(services, operator(), ws.id, body)

    wi = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(wi)
    else:
        click.echo(wi.id)


@integrations.command("ls")
@click.argument("args", nargs=-1, metavar="[WORKSPACE]")
@workspace_option("CUBBY_WORKSPACE")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
@database_option
def list_integrations(
    args: tuple[str, ...],
    workspace_option: str | None,
    as_json: bool,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """List WORKSPACE's integrations: id, alias, integration, scope."""
    (workspace,) = with_workspace(workspace_option, args, [])

    async def work(services: Services) -> list[WorkspaceIntegration]:
        ws = await find_workspace(services.meta, workspace)
        return await services.meta.integrations.in_workspace(ws.id)

    for wi in run_admin(settings(data_dir, database_url), work):
        if as_json:
            echo_json(wi)
        else:
            click.echo(f"{wi.id}  {wi.alias}  {wi.integration_name}  scope={_scope_text(wi)}")


@integrations.command("rm")
@click.argument("args", nargs=-1, metavar="[WORKSPACE] ALIAS|ID")
@workspace_option("CUBBY_WORKSPACE")
@data_dir_option
@database_option
def remove_integration(
    args: tuple[str, ...], workspace_option: str | None, data_dir: Path | None,
    database_url: str | None,
) -> None:  # fmt: skip
    """Remove an integration from WORKSPACE (its data stays with its scope)."""
    from cubby.core import workspace_integrations as core

    workspace, integration = with_workspace(workspace_option, args, ["ALIAS|ID"])

    async def work(services: Services) -> WorkspaceIntegration:
        ws = await find_workspace(services.meta, workspace)
        for wi in await services.meta.integrations.in_workspace(ws.id):
            if integration in (wi.alias, wi.id):
                await core.remove(services, operator(), ws.id, wi.id)
                return wi
        fail(
            f"workspace {ws.slug} has no integration {integration!r}; see "
            f"`cubby integrations ls {ws.slug}`"
        )

    wi = run_admin(settings(data_dir, database_url), work)
    click.echo(f"removed {wi.alias} ({wi.integration_name}) from {workspace}")
