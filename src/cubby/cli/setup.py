"""``cubby init`` (a workspace ready for the data commands) and ``cubby status``."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sqlite3
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from cubby import __version__
from cubby.cli import running
from cubby.cli.support import (
    create_data_dir_option,
    data_dir_option,
    database_option,
    fail,
    operator,
    run_admin,
    settings,
)
from cubby.command import shell_command
from cubby.core.models import Workspace
from cubby.services import Services

__all__ = ["init", "status"]

# The spec's two workspace integrations: alias -> integration name.
SPEC_INTEGRATIONS = {"files": "storage", "state": "kv-store"}
# The agent tools init adds too (unless --no-agent-tools): alias -> integration name.
AGENT_INTEGRATIONS = {
    "memory": "agent-memory",
    "scratchpad": "agent-scratchpad",
    "thinking": "sequential-thinking",
}


@dataclass
class _Ready:
    workspace: Workspace
    created: list[str]
    key: str
    key_note: str


@click.command()
@click.option("--name", default="Default", show_default=True, help="Workspace name.")
@click.option("--slug", default="default", show_default=True, help="Workspace slug.")
@click.option(
    "--scope",
    type=click.Choice(["workspace", "end_user"]),
    default="workspace",
    show_default=True,
    help="Persistence scope of the integrations init adds (workspace: shared by the whole "
    "workspace).",
)
@click.option(
    "--base-url",
    default=None,
    help="URL the data commands should use [default: $CUBBY_BASE_URL, else the server "
    "running on this data dir, else from CUBBY_PUBLIC_URL / CUBBY_HOST / CUBBY_PORT].",
)
@click.option(
    "--rotate",
    is_flag=True,
    help="Make a new key for the workspace and revoke the keys earlier runs made "
    "(default: reuse $CUBBY_API_KEY when it works for the workspace).",
)
@click.option(
    "--agent-tools/--no-agent-tools",
    default=True,
    show_default=True,
    help="Also add `memory` (agent-memory), `scratchpad` (agent-scratchpad) and `thinking` "
    "(sequential-thinking) with the same scope, so an agent connected to the workspace (MCP or "
    "SDK) has memory too. On by default: they cost nothing until used, keep their data in "
    "tables of their own, and an MCP client sees them only as tools it may call.",
)
@data_dir_option
@database_option
@create_data_dir_option
def init(
    name: str,
    slug: str,
    scope: str,
    agent_tools: bool,
    base_url: str | None,
    rotate: bool,
    data_dir: Path | None,
    database_url: str | None,
    adopt: bool,
) -> None:
    """Set up a workspace with the spec's `files` (storage) and `state` (kv-store)
    integrations, the agent tools `memory`, `scratchpad` and `thinking` (unless
    --no-agent-tools) and a key for it; prints `export` lines for `cubby files` / `cubby kv`.

    \b
    eval "$(cubby init)"
    cubby files put notes/hello.txt ./hello.txt
    cubby kv put last_sync 2025-01-15T10:00:00Z

    Running it again reuses the workspace and integrations, and the key in $CUBBY_API_KEY
    when it works for the workspace (a shell that ran the eval before); otherwise it makes a
    key named "cubby init SLUG". --rotate makes a new one and revokes the older ones.
    """
    from cubby.core import workspace_integrations as wis
    from cubby.core import workspaces as core
    from cubby.core.inputs import CreateIntegration

    async def work(services: Services) -> _Ready:
        created: list[str] = []
        ws = await _find_slug(services, slug)
        if ws is None:
            ws = await core.create(services.meta, name, slug)
            created.append(f"workspace {slug}")
        existing = {wi.alias: wi for wi in await services.meta.integrations.in_workspace(ws.id)}
        wanted = {**SPEC_INTEGRATIONS, **(AGENT_INTEGRATIONS if agent_tools else {})}
        for alias, integration in wanted.items():
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
        key, note = await _init_key(services, ws, reuse, rotate)
        return _Ready(ws, created, key, note)

    reuse = None if rotate else os.environ.get("CUBBY_API_KEY", "").strip() or None
    try:
        config = settings(data_dir, database_url)
        ready = run_admin(config, work, create=True, adopt=adopt)
    except SystemExit as exc:
        if exc.code not in (0, None) and not sys.stdout.isatty():
            click.echo("false")  # `eval "$(cubby init)"` fails too, instead of a silent 0
        raise
    url = running.server_url(config.data_dir, config.base_url, base_url)
    click.echo(f"export CUBBY_BASE_URL={shlex.quote(url)}")
    click.echo(f"export CUBBY_API_KEY={shlex.quote(ready.key)}")
    click.echo(f"export CUBBY_WORKSPACE={ready.workspace.id}")
    made = ", ".join(ready.created) if ready.created else "nothing new"
    click.echo(
        f"cubby: workspace {ready.workspace.slug} is ready (created: {made}); {ready.key_note}. "
        f'Run `eval "$({shell_command("init")})"` to set these, then `cubby files` / `cubby kv`.',
        err=True,
    )


async def _init_key(
    services: Services, ws: Workspace, reuse: str | None, rotate: bool
) -> tuple[str, str]:
    """The key init prints and what to say about it: ``reuse`` (the caller's CUBBY_API_KEY)
    when it is a live key restricted to ``ws`` (an organisation-wide key is never handed on),
    else a new key; ``rotate`` revokes the older ones."""
    from cubby.auth import hash_key
    from cubby.core import keys
    from cubby.core.models import KeyPermissions

    if reuse is not None:
        stored = await services.meta.api_keys.find_by_hash(hash_key(reuse))
        if stored is not None and not stored.revoked and keys.usable(stored.key):
            perms = stored.key.permissions
            if perms is not None and not perms.org_wide and ws.id in perms.workspace_ids:
                return reuse, f"reusing the key in CUBBY_API_KEY ({stored.key.name})"
    name = f"cubby init {ws.slug}"
    earlier = [k for k in await services.meta.api_keys.all() if k.name == name]
    permissions = KeyPermissions("workspace", [ws.id])
    _, plain = await keys.create_key(services.meta, name, None, permissions)
    if rotate:
        for key in earlier:
            await keys.revoke_key(services.meta, key.id)
        gone = f"; revoked {len(earlier)} older one{'' if len(earlier) == 1 else 's'}"
        return plain, f"a new key for it is above{gone if earlier else ''}"
    if earlier:
        return plain, (
            f"a new key for it is above ({len(earlier)} older {name!r} "
            f"key{'' if len(earlier) == 1 else 's'} still work; --rotate revokes them)"
        )
    return plain, "a key for it is above"


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
    url = running.server_url(config.data_dir, config.base_url)
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
        "server": {"url": url, "answering": _server_answers(url)},
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
    click.echo(f"server:    {url} ({answering}); /metrics {config.metrics}")
    click.echo(
        f"counts:    {counts['workspaces']} workspaces, {counts['integrations']} "
        f"integrations, {counts['apiKeys']} active API keys"
    )
