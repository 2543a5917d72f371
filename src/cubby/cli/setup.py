"""``cubby init`` (a workspace ready for the data commands) and ``cubby status``."""

from __future__ import annotations

import json
import platform
import sqlite3
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from cubby import __version__
from cubby.cli.support import (
    create_data_dir_option,
    data_dir_option,
    database_option,
    fail,
    operator,
    run_admin,
    settings,
)
from cubby.core.models import Workspace
from cubby.services import Services

__all__ = ["init", "status"]

# The spec's two workspace integrations: alias -> integration name.
SPEC_INTEGRATIONS = {"files": "storage", "state": "kv-store"}


@dataclass
class _Ready:
    workspace: Workspace
    created: list[str]
    key: str


@click.command()
@click.option("--name", default="Default", show_default=True, help="Workspace name.")
@click.option("--slug", default="default", show_default=True, help="Workspace slug.")
@click.option(
    "--scope",
    type=click.Choice(["workspace", "end_user"]),
    default="workspace",
    show_default=True,
    help="Persistence scope of `files` and `state` (workspace: shared by the whole workspace).",
)
@click.option(
    "--base-url",
    envvar="CUBBY_PUBLIC_URL",
    default=None,
    help="URL the data commands should use [default: from CUBBY_HOST / CUBBY_PORT].",
)
@data_dir_option
@database_option
@create_data_dir_option
def init(
    name: str,
    slug: str,
    scope: str,
    base_url: str | None,
    data_dir: Path | None,
    database_url: str | None,
    adopt: bool,
) -> None:
    """Set up a workspace with the spec's `files` (storage) and `state` (kv-store)
    integrations and a key for it; prints `export` lines for `cubby files` / `cubby kv`.

    \b
    eval "$(cubby init)"
    cubby files put notes/hello.txt ./hello.txt
    cubby kv put last_sync 2025-01-15T10:00:00Z

    Running it again reuses the workspace and integrations and prints a new key.
    """
    from cubby.core import keys
    from cubby.core import workspace_integrations as wis
    from cubby.core import workspaces as core
    from cubby.core.inputs import CreateIntegration
    from cubby.core.models import KeyPermissions

    config = settings(data_dir, database_url)

    async def work(services: Services) -> _Ready:
        created: list[str] = []
        ws = await _find_slug(services, slug)
        if ws is None:
            ws = await core.create(services.meta, name, slug)
            created.append(f"workspace {slug}")
        existing = {wi.alias: wi for wi in await services.meta.integrations.in_workspace(ws.id)}
        for alias, integration in SPEC_INTEGRATIONS.items():
            found = existing.get(alias)
            if found is not None:
                if found.integration_name != integration:
                    fail(
                        f"workspace {slug} has an alias {alias!r} of {found.integration_name}, "
                        f"not {integration}; remove it with `cubby integrations rm {slug} "
                        f"{alias}` or init another workspace with --slug"
                    )
                continue
            body = CreateIntegration(
                integration_name=integration,
                alias=alias,
                settings={"persistence": {"scope": scope}},
            )
            await wis.create(services, operator(), ws.id, body)
            created.append(f"{alias} ({integration}, scope {scope})")
        permissions = KeyPermissions("workspace", [ws.id])
        _, plain = await keys.create_key(services.meta, f"cubby init {slug}", None, permissions)
        return _Ready(ws, created, plain)

    ready = run_admin(config, work, create=True, adopt=adopt)
    url = (base_url or config.base_url).rstrip("/")
    click.echo(f"export CUBBY_BASE_URL={url}")
    click.echo(f"export CUBBY_API_KEY={ready.key}")
    click.echo(f"export CUBBY_WORKSPACE={ready.workspace.id}")
    made = ", ".join(ready.created) if ready.created else "nothing new"
    click.echo(
        f"cubby: workspace {ready.workspace.slug} is ready (created: {made}); a key for it is "
        'above. Run `eval "$(cubby init)"` to set these, then `cubby files` / `cubby kv`.',
        err=True,
    )


async def _find_slug(services: Services, slug: str) -> Workspace | None:
    offset = 0
    while True:
        page, total = await services.meta.workspaces.page(100, offset, None)
        for ws in page:
            if ws.slug == slug:
                return ws
        offset += len(page)
        if not page or offset >= total:
            return None


def redact(url: str) -> str:
    """``url`` without a password (and without the query of an S3 URL's credentials)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _server_answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/health", timeout=1) as resp:
            return bool(resp.status == 200)
    except (OSError, ValueError):
        return False


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@data_dir_option
@database_option
def status(as_json: bool, data_dir: Path | None, database_url: str | None) -> None:
    """Versions, backends, counts and whether a server answers (same data dir or database)."""
    from cubby.core.keys import usable

    config = settings(data_dir, database_url)

    async def work(services: Services) -> dict[str, Any]:
        workspaces: list[Workspace] = []
        total = 1
        while len(workspaces) < total:
            page, total = await services.meta.workspaces.page(100, len(workspaces), None)
            if not page:
                break
            workspaces += page
        integrations = 0
        for ws in workspaces:
            integrations += len(await services.meta.integrations.in_workspace(ws.id))
        all_keys = await services.meta.api_keys.all()
        return {
            "workspaces": len(workspaces),
            "integrations": integrations,
            "apiKeys": sum(1 for key in all_keys if usable(key)),
        }

    counts = run_admin(config, work)
    database = config.resolved_database_url
    versions = {"cubby": __version__, "python": platform.python_version()}
    if database.startswith("sqlite"):
        versions["sqlite"] = sqlite3.sqlite_version
    report: dict[str, Any] = {
        "versions": versions,
        "dataDir": str(config.data_dir.resolve()),
        "database": redact(database),
        "files": redact(config.resolved_files_url),
        "counts": counts,
        "server": {"url": config.base_url, "answering": _server_answers(config.base_url)},
        "metrics": config.metrics,
    }
    if as_json:
        click.echo(json.dumps(report))
        return
    answering = "answering" if report["server"]["answering"] else "not answering"
    click.echo(
        f"cubby {__version__} (python {versions['python']}"
        + (f", sqlite {versions['sqlite']})" if "sqlite" in versions else ")")
    )
    click.echo(f"data dir:  {report['dataDir']}")
    click.echo(f"database:  {report['database']}")
    click.echo(f"files:     {report['files']}")
    click.echo(f"server:    {config.base_url} ({answering}); /metrics {config.metrics}")
    click.echo(
        f"counts:    {counts['workspaces']} workspaces, {counts['integrations']} "
        f"integrations, {counts['apiKeys']} active API keys"
    )
