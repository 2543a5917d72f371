"""``cubby mcp``: serve a workspace's tools to a local agent over MCP on stdio."""

from __future__ import annotations

import asyncio

import click

from cubby.cli.data import _client, _workspace_id

__all__ = ["mcp"]


@click.command("mcp")
@click.option("--workspace", required=True, metavar="ID_OR_SLUG", help="The workspace.")
@click.option(
    "--end-user",
    default=None,
    metavar="ID",
    help="Act as this end user (endUserId) for end_user-scoped integrations.",
)
def mcp(workspace: str, end_user: str | None) -> None:
    """Serve a workspace's tools over MCP on stdin/stdout (for Claude Desktop, Cursor, ...).

    One tool per enabled action of each workspace integration, named {alias}__{action}, as on
    the server's /mcp/srv_<id> endpoint. Talks to a running server: $CUBBY_BASE_URL (default
    http://127.0.0.1:8080) with $CUBBY_API_KEY. Logs and errors go to stderr only.
    """
    import cubby_client

    from cubby.mcp import stdio

    with _client() as sync_client:
        workspace_id = _workspace_id(sync_client, workspace)

    async def run() -> None:
        async with cubby_client.AsyncCubby() as client:
            await stdio.serve(client, workspace_id, end_user)

    asyncio.run(run())
