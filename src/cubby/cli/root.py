"""The ``cubby`` command line: run the server and manage API keys.

Every ``serve`` option also reads from the environment (``CUBBY_HOST``, ``CUBBY_PORT``, ...),
and ``serve`` passes the final values to its workers through the same variables.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click
import msgspec

from cubby import __version__
from cubby.backends.config_error import BackendConfigError
from cubby.cli.support import (
    create_data_dir_option,
    data_dir_option,
    database_option,
    fail,
    open_meta,
)
from cubby.cli.support import settings as _settings
from cubby.command import shell_command

_fail = fail
_open_meta = open_meta


def _first_paragraph(text: str) -> str:
    return " ".join(text.split("\n\n")[0].split())


def _whole_short_help(command: click.Command) -> None:
    """Command lists show each command's whole first paragraph (click cuts it with "...")."""
    if command.short_help is None and command.help:
        command.short_help = _first_paragraph(command.help)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _whole_short_help(sub)


class CubbyGroup(click.Group):
    """The top command: every command below it lists uncut help lines."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _whole_short_help(command)
        return command


@click.group(cls=CubbyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cubby")
def main() -> None:
    """cubby: self-hosted files and state for apps and AI agents.

    Start a server with `cubby serve`, then `eval "$(cubby init)"` makes a workspace with
    `files` and `state` for `cubby files` and `cubby kv`. Settings come from options or
    CUBBY_* environment variables.
    """


@main.command()
@click.option(
    "--host",
    envvar="CUBBY_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on [env CUBBY_HOST].",
)
@click.option(
    "--port",
    envvar="CUBBY_PORT",
    type=int,
    default=8080,
    show_default=True,
    help="TCP port [env CUBBY_PORT].",
)
@data_dir_option
@database_option
@click.option(
    "--files-url",
    envvar="CUBBY_FILES_URL",
    default=None,
    help="Where file bodies live: file:///path or s3://bucket/prefix?endpoint=... "
    "[env CUBBY_FILES_URL; default: <data dir>/files].",
)
@click.option(
    "--workers",
    envvar="CUBBY_WORKERS",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes [env CUBBY_WORKERS].",
)
@click.option(
    "--log-level",
    envvar="CUBBY_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Server log level; info logs one line per request [env CUBBY_LOG_LEVEL].",
)
@click.option(
    "--log-format",
    envvar="CUBBY_LOG_FORMAT",
    default="plain",
    show_default=True,
    type=click.Choice(["plain", "json"]),
    help="Log lines as plain text or one JSON object each [env CUBBY_LOG_FORMAT].",
)
@click.option(
    "--metrics",
    envvar="CUBBY_METRICS",
    default="off",
    show_default=True,
    type=click.Choice(["off", "api-key", "anyone"]),
    help="Who may read /metrics: nobody, organisation-wide API keys, or anyone "
    "[env CUBBY_METRICS].",
)
@create_data_dir_option
def serve(
    host: str,
    port: int,
    data_dir: Path | None,
    database_url: str | None,
    files_url: str | None,
    workers: int,
    log_level: str,
    log_format: str,
    metrics: str,
    adopt: bool,
) -> None:
    """Run the HTTP API and the dashboard (at /, sign in with an API key).

    Creates the data dir, applies schema migrations and, the first time it starts (no API key
    was ever created), creates an organisation-wide key and prints it once with the base URL.
    Later starts never create keys, even when all are revoked: use `cubby api-keys create`.
    """
    os.environ["CUBBY_HOST"] = host
    os.environ["CUBBY_PORT"] = str(port)
    os.environ["CUBBY_WORKERS"] = str(workers)
    os.environ["CUBBY_METRICS"] = metrics
    if data_dir is not None:
        os.environ["CUBBY_DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["CUBBY_DATABASE_URL"] = database_url
    if files_url:
        os.environ["CUBBY_FILES_URL"] = files_url
    settings = _settings()
    from cubby.backends.url import check_files_url
    from cubby.cli.support import ensure_data_dir
    from cubby.core import keys, signing

    ensure_data_dir(settings.data_dir, create=True, adopt=adopt)  # the secret lives there
    meta = _open_meta(settings)
    try:
        check_files_url(settings.resolved_files_url)
        signing.signing_key(settings)
        if not settings.secret_key and not settings.resolved_database_url.startswith("sqlite"):
            click.echo(
                "cubby: warning: CUBBY_SECRET_KEY is not set; download URLs signed by this "
                "server will not work on other replicas (see docs/deploy.md)",
                err=True,
            )
        if asyncio.run(meta.api_keys.count_all()) == 0:
            _, plain = asyncio.run(keys.create_key(meta, "default", None, None))
            click.echo("cubby: created an organisation-wide API key (shown only this once):")
            click.echo(f"  CUBBY_API_KEY={plain}")
            click.echo(
                f'cubby: next, in another terminal here: eval "$({shell_command("init")})" '
                "sets up a workspace for `cubby files` and `cubby kv`; the API is at /docs"
            )
        elif not any(keys.usable(key) for key in asyncio.run(meta.api_keys.all())):
            # Never mint a key here: revoking every key must stay a way to lock the API.
            click.echo(
                "cubby: warning: every API key is revoked or expired; create one with "
                "`cubby api-keys create --name admin` (same data dir / database)",
                err=True,
            )
    except (BackendConfigError, signing.SecretError) as exc:
        _fail(str(exc))
    finally:
        meta.close()
    from cubby.cli import serve as cli_serve

    cli_serve.run(settings, log_level, log_format)


@main.group("api-keys")
def api_keys() -> None:
    """Create, list and revoke API keys (works while a server runs on the same data dir)."""


@api_keys.command("create")
@click.option("--name", required=True, help="A label for the key.")
@click.option(
    "--workspace",
    "-w",
    "workspaces",
    multiple=True,
    metavar="ID|SLUG",
    help="Restrict the key to this workspace, id or slug (repeatable). Default: whole "
    "organisation (never from CUBBY_WORKSPACE: a key's reach is named out loud).",
)
@click.option("--expires-at", default=None, help="ISO-8601 expiry, e.g. 2027-01-01T00:00:00Z.")
@data_dir_option
@database_option
@create_data_dir_option
def create_key(
    name: str,
    workspaces: tuple[str, ...],
    expires_at: str | None,
    data_dir: Path | None,
    database_url: str | None,
    adopt: bool,
) -> None:
    """Create a key and print only the plain key on stdout (scripts capture it)."""
    from cubby.cli.support import find_workspace
    from cubby.core import keys
    from cubby.core.models import KeyPermissions
    from cubby.errors import CubbyError

    async def create() -> str:
        ids = [(await find_workspace(meta, ref)).id for ref in workspaces]
        permissions = KeyPermissions("workspace", ids) if workspaces else None
        return (await keys.create_key(meta, name, expires_at, permissions))[1]

    meta = _open_meta(_settings(data_dir, database_url), adopt=adopt)
    try:
        plain = asyncio.run(create())
    except CubbyError as exc:
        _fail(exc.message)
    finally:
        meta.close()
    click.echo(plain)


@api_keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@data_dir_option
@database_option
def list_keys(as_json: bool, data_dir: Path | None, database_url: str | None) -> None:
    """List active keys (never their secret part)."""
    meta = _open_meta(_settings(data_dir, database_url))
    try:
        items = asyncio.run(meta.api_keys.all())
    finally:
        meta.close()
    if as_json:
        click.echo(msgspec.json.encode(items).decode())
        return
    for key in items:
        perms = key.permissions
        scope = "org" if perms is None or perms.org_wide else ",".join(perms.workspace_ids)
        click.echo(
            f"{key.id}  {key.key_prefix}...  {key.name}  scope={scope}  "
            f"created={key.created_at}  expires={key.expires_at or '-'}"
        )


@api_keys.command("revoke")
@click.argument("key_id")
@data_dir_option
@database_option
def revoke_key(key_id: str, data_dir: Path | None, database_url: str | None) -> None:
    """Revoke a key by id; servers refuse it within CUBBY_KEY_CACHE_SECONDS. Unlike the API,
    this also revokes the last organisation-wide key (the CLI can always create another)."""
    from cubby.core import keys

    meta = _open_meta(_settings(data_dir, database_url))
    try:
        was_last = asyncio.run(keys.is_last_org_key(meta, key_id))
        revoked = asyncio.run(keys.revoke_key(meta, key_id, allow_last_org_key=True))
    finally:
        meta.close()
    if revoked and was_last:
        click.echo(
            "cubby: warning: that was the last active organisation-wide key; nothing can "
            "manage API keys through the API until `cubby api-keys create` makes another",
            err=True,
        )
    if not revoked:
        _fail(f"no active API key with id {key_id}")
    click.echo(f"revoked {key_id}")


from cubby.cli import backup as cli_backup  # noqa: E402 - backup, restore, copy
from cubby.cli import end_users as cli_end_users  # noqa: E402 - setup commands
from cubby.cli import limits as cli_limits  # noqa: E402
from cubby.cli import mcp as cli_mcp  # noqa: E402
from cubby.cli import setup as cli_setup  # noqa: E402
from cubby.cli import workspaces as cli_workspaces  # noqa: E402
from cubby.cli.data import files, kv  # noqa: E402 - data commands, SDK imported lazily

main.add_command(files)
main.add_command(kv)
main.add_command(cli_workspaces.workspaces)
main.add_command(cli_workspaces.integrations)
main.add_command(cli_limits.usage_root)
main.add_command(cli_setup.init)
main.add_command(cli_setup.status)
main.add_command(cli_mcp.mcp)
main.add_command(cli_end_users.end_users)
main.add_command(cli_backup.backup)
main.add_command(cli_backup.restore)
main.add_command(cli_backup.copy)
main.add_command(cli_backup.export_command)
main.add_command(cli_backup.import_command)
