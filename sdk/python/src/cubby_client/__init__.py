"""cubby_client: the Python client for cubby (durable files and state for apps and agents).

    from cubby_client import Cubby

    client = Cubby()                      # $CUBBY_API_KEY, $CUBBY_BASE_URL
    files = client.storage(workspace_id)  # alias "files"
    files.write("notes/hello.txt", "hi")
    kv = client.kv(workspace_id)          # alias "state"
    kv.put("cursor", 42)

The resource layer mirrors the HTTP API (``client.workspaces``, ``client.api_keys``,
``client.integrations``, ``client.end_users``, ``client.actions.execute``) and returns its
JSON bodies. Errors are
the tree under :class:`CubbyError` (see ``cubby_client._exceptions``).
"""

from cubby_client._base import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from cubby_client._client import AsyncCubby, Cubby
from cubby_client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    CubbyError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from cubby_client._kv import KV, AsyncKV
from cubby_client._storage import AsyncStorage, Storage
from cubby_client._types import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyList,
    Deleted,
    EndUser,
    EndUserDataErased,
    EndUserDeleted,
    EndUserEnvelope,
    EndUserList,
    EndUserUsage,
    ExecuteResult,
    FileInfo,
    FileMoved,
    Integration,
    IntegrationCatalog,
    IntegrationEnvelope,
    IntegrationSummary,
    IntegrationSummaryList,
    KeyInfo,
    KVEntry,
    Persistence,
    Workspace,
    WorkspaceEnvelope,
    WorkspaceIntegration,
    WorkspaceIntegrationEnvelope,
    WorkspaceIntegrationList,
    WorkspaceList,
)
from cubby_client._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "KV",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiKey",
    "ApiKeyCreated",
    "ApiKeyList",
    "AsyncCubby",
    "AsyncKV",
    "AsyncStorage",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "Cubby",
    "CubbyError",
    "Deleted",
    "EndUser",
    "EndUserDataErased",
    "EndUserDeleted",
    "EndUserEnvelope",
    "EndUserList",
    "EndUserUsage",
    "ExecuteResult",
    "FileInfo",
    "FileMoved",
    "Integration",
    "IntegrationCatalog",
    "IntegrationEnvelope",
    "IntegrationSummary",
    "IntegrationSummaryList",
    "KVEntry",
    "KeyInfo",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Persistence",
    "RateLimitError",
    "ServerError",
    "Storage",
    "Workspace",
    "WorkspaceEnvelope",
    "WorkspaceIntegration",
    "WorkspaceIntegrationEnvelope",
    "WorkspaceIntegrationList",
    "WorkspaceList",
    "__version__",
]
