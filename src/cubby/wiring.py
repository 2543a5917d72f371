"""The server's services, built from its settings: the one place that opens the stores.

Apart from :mod:`cubby.app` so that the command line's admin commands (``cubby workspaces ls``
and the like, which run against the stores directly) do not import the web app, the dashboard
and the MCP package: that import was most of each such command's second.
"""

from __future__ import annotations

from cubby.auth import Authenticator
from cubby.backends.blobs import open_blob_store
from cubby.backends.url import open_meta_store
from cubby.core.registry import Registry
from cubby.integrations import register_builtins
from cubby.private_files import private_dir
from cubby.services import Services
from cubby.settings import Settings


def build_services(settings: Settings) -> Services:
    private_dir(settings.data_dir)
    meta = open_meta_store(settings.resolved_database_url)
    try:
        blobs = open_blob_store(settings.resolved_files_url)
    except Exception:
        meta.close()
        raise
    registry = Registry()
    register_builtins(registry)
    return Services(
        settings=settings,
        meta=meta,
        blobs=blobs,
        registry=registry,
        auth=Authenticator(meta.api_keys, settings.key_cache_seconds),
    )
