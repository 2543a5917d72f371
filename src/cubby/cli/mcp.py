"""``cubby mcp``: serve a workspace's tools to a local agent over MCP on stdio."""

from __future__ import annotations

import asyncio

import click

from cubby.cli.data import _client, _connection, _workspace_id, connection_options

__all__ = ["mcp"]


@click.command("mcp")
@click.option(
    "--workspace",
    "-w",
    envvar="CUBBY_WORKSPACE",
    required=True,
    metavar="ID|SLUG",
    help="Workspace id or slug [env CUBBY_WORKSPACE].",
)
@click.option(
    "--end-user",
    envvar="CUBBY_END_USER",
    default=None,
    metavar="ID",
    help="Act as this end user (endUserId) for end_user-scoped integrations [env CUBBY_END_USER].",
)
@connection_options
def mcp(workspace: str, end_user: str | None) -> None:
    """Serve a workspace's tools over MCP on stdin/stdout (for Claude Desktop, Cursor, ...).

    One tool per enabled action of each workspace integration, named {alias}__{action}, as on
    the server's /mcp/srv_<id> endpoint. Talks to a running server (--base-url /
    $CUBBY_BASE_URL) with --api-key / $CUBBY_API_KEY. Logs and errors go to stderr only.
    """
    import cubby_client

    from cubby.mcp import stdio

    base_url, api_key = _connection()
    with _client() as sync_client:
        workspace_id = _workspace_id(sync_client, workspace)

    async def run() -> None:
        async with cubby_client.AsyncCubby(api_key=api_key, base_url=base_url) as client:
            await stdio.serve(client, workspace_id, end_user)

    asyncio.run(run())
