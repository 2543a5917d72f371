"""cubby_client: the Python client for cubby (durable files and state for apps and agents).

    from cubby_client import Cubby

    client = Cubby()                      # $CUBBY_API_KEY, $CUBBY_BASE_URL
    files = client.storage(workspace_id)  # alias "files"
    files.write("notes/hello.txt", "hi")
    kv = client.kv(workspace_id)          # alias "state"
    kv.put("cursor", 42)
    memory = client.memory(workspace_id)  # alias "memory" (also scratchpad(), thinking())
    memory.create_entities([{"name": "Alice", "type": "person"}])

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
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from cubby_client._kv import KV, AsyncKV
from cubby_client._memory import AsyncMemory, Memory
from cubby_client._scratchpad import AsyncScratchpad, Scratchpad
from cubby_client._storage import AsyncStorage, Storage
from cubby_client._thinking import AsyncThinking, Thinking
from cubby_client._types import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyList,
    BranchInfo,
    BranchSummary,
    Chain,
    ChainSummary,
    Deleted,
    EndUser,
    EndUserDataErased,
    EndUserDeleted,
    EndUserEnvelope,
    EndUserList,
    EndUserUsage,
    EntitiesCreated,
    Entity,
    EntityWithRelations,
    ExecuteResult,
    FileInfo,
    FileMoved,
    GraphPage,
    Integration,
    IntegrationCatalog,
    IntegrationEnvelope,
    IntegrationSummary,
    IntegrationSummaryList,
    KeyInfo,
    KVEntry,
    NewEntity,
    PageContent,
    PageHit,
    PageInfo,
    Persistence,
    Relation,
    RelationsCreated,
    RelationSpec,
    Thought,
    ThoughtAdded,
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
    "AsyncMemory",
    "AsyncScratchpad",
    "AsyncStorage",
    "AsyncThinking",
    "AuthenticationError",
    "BadRequestError",
    "BranchInfo",
    "BranchSummary",
    "Chain",
    "ChainSummary",
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
    "EntitiesCreated",
    "Entity",
    "EntityWithRelations",
    "ExecuteResult",
    "FileInfo",
    "FileMoved",
    "GraphPage",
    "Integration",
    "IntegrationCatalog",
    "IntegrationEnvelope",
    "IntegrationSummary",
    "IntegrationSummaryList",
    "KVEntry",
    "KeyInfo",
    "Memory",
    "NewEntity",
    "NotFoundError",
    "PageContent",
    "PageHit",
    "PageInfo",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Persistence",
    "QuotaExceededError",
    "RateLimitError",
    "Relation",
    "RelationSpec",
    "RelationsCreated",
    "Scratchpad",
    "ServerError",
    "Storage",
    "Thinking",
    "Thought",
    "ThoughtAdded",
    "Workspace",
    "WorkspaceEnvelope",
    "WorkspaceIntegration",
    "WorkspaceIntegrationEnvelope",
    "WorkspaceIntegrationList",
    "WorkspaceList",
    "__version__",
]
