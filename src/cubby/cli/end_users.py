"""``cubby end-users``: register, list and erase the end users of a workspace, on the server's
own database and file store, like ``cubby workspaces`` (no API key; works while a server runs
on the same data dir or database). The commands call the same ``core.end_users`` functions as
the HTTP API does for an organisation-wide key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cubby.backends.base import Usage
from cubby.cli.support import (
    data_dir_option,
    database_option,
    echo_json,
    fail,
    find_workspace,
    operator,
    run_admin,
    settings,
)
from cubby.core.models import EndUser
from cubby.services import Services

__all__ = ["end_users"]

workspace_option = click.option(
    "--workspace", "-w", envvar="CUBBY_WORKSPACE", required=True, metavar="ID|SLUG",
    help="Workspace id or slug [env CUBBY_WORKSPACE].",
)  # fmt: skip


@click.group("end-users")
def end_users() -> None:
    """Register, list and erase a workspace's end users (on the data dir or --database-url).

    An end user's id is the endUserId of data calls; registering one is optional.

    \b
    cubby end-users create -w acme user_123 --name "Ada" --email ada@example.com
    cubby end-users ls -w acme
    cubby end-users erase -w acme user_123 --yes   # every key and file of user_123
    """


@end_users.command("create")
@workspace_option
@click.argument("external_id")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--email", default=None, help="Email address.")
@click.option("--metadata", default=None, metavar="JSON", help="A JSON object to keep with it.")
@click.option("--json", "as_json", is_flag=True, help="Print the end user as JSON.")
@data_dir_option
@database_option
def create_end_user(
    workspace: str, external_id: str, display_name: str | None, email: str | None,
    metadata: str | None, as_json: bool, data_dir: Path | None, database_url: str | None,
) -> None:  # fmt: skip
    """Register EXTERNAL_ID (the endUserId data calls use); prints the record's id."""
    from cubby.core import end_users as core

    meta: dict[str, Any] | None = None
    if metadata is not None:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            fail(f"--metadata is not JSON: {exc}")
        if not isinstance(meta, dict):
            fail("--metadata must be a JSON object")

    async def work(services: Services) -> EndUser:
        ws = await find_workspace(services.meta, workspace)
        return await core.create(
            services, operator(), ws.id, external_id, display_name, email, meta
        )

    end_user = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(end_user)
    else:
        click.echo(end_user.id)


@end_users.command("ls")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@data_dir_option
@database_option
def list_end_users(
    workspace: str, as_json: bool, data_dir: Path | None, database_url: str | None
) -> None:
    """List a workspace's end users: id, externalId, name, email, creation time."""
    from cubby.core import end_users as core

    async def work(services: Services) -> list[EndUser]:
        ws = await find_workspace(services.meta, workspace)
        found: list[EndUser] = []
        while True:
            page, total = await core.page(services, operator(), ws.id, 100, len(found))
            found += page
            if not page or len(found) >= total:
                return found

    for end_user in run_admin(settings(data_dir, database_url), work):
        if as_json:
            echo_json(end_user)
        else:
            click.echo(
                f"{end_user.id}  {end_user.external_id}  {end_user.display_name or '-'}  "
                f"{end_user.email or '-'}  created={end_user.created_at}"
            )


@end_users.command("erase")
@workspace_option
@click.argument("end_user_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@data_dir_option
@database_option
def erase_end_user(
    workspace: str, end_user_id: str, yes: bool, as_json: bool, data_dir: Path | None,
    database_url: str | None,
) -> None:  # fmt: skip
    """Erase every key and file END_USER_ID (registered or not) has in the workspace.

    Its records stay (remove one with the API's DELETE /api/v1/end-users/{id}); the data of
    every end_user-scoped integration of every kind goes, file bodies included.
    """
    from cubby.core import end_users as core

    if not yes:
        click.confirm(
            f"erase every key and file of end user {end_user_id!r} in {workspace}?", abort=True
        )

    async def work(services: Services) -> Usage:
        ws = await find_workspace(services.meta, workspace)
        return await core.erase_data(services, operator(), ws.id, end_user_id)

    erased = run_admin(settings(data_dir, database_url), work)
    if as_json:
        echo_json(erased)
    else:
        click.echo(
            f"erased {erased.keys} keys and {erased.files} files ({erased.bytes} bytes) "
            f"of {end_user_id}"
        )
