"""Create a workspace with a given id (the spec's examples hard-code theirs) in a cubby database.

Usage: python seed_workspace.py ID SLUG, with CUBBY_DATA_DIR / CUBBY_DATABASE_URL of the server.
Idempotent: an existing workspace with that id is left as it is.
"""

from __future__ import annotations

import asyncio
import sys

from cubby.backends.url import open_meta_store
from cubby.core.models import Workspace, utc_now
from cubby.settings import Settings


async def seed(workspace_id: str, slug: str) -> None:
    meta = open_meta_store(Settings.from_env().resolved_database_url)
    try:
        if await meta.workspaces.get(workspace_id) is None:
            now = utc_now()
            workspace = Workspace(
                id=workspace_id,
                org_id=meta.org_id,
                name=slug.title(),
                slug=slug,
                created_at=now,
                updated_at=now,
            )
            await meta.workspaces.create(workspace)
    finally:
        meta.close()


if __name__ == "__main__":
    asyncio.run(seed(sys.argv[1], sys.argv[2]))
