"""The (workspace, alias, end user) a ``storage()``, ``kv()``, ``memory()``, ``scratchpad()`` or
``thinking()`` handle sends its actions to."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cubby_client._actions import execute_request
from cubby_client._request import APIRequest
from cubby_client._types import ExecuteResult

__all__ = ["READ_ONLY_ACTIONS", "Target"]

# Actions that change nothing. Every other action gets a fresh idempotency key per call, so the
# client's retries (5xx, lost connections) can never apply a write twice.
READ_ONLY_ACTIONS = frozenset(
    {
        "get",
        "list_keys",
        "read_file",
        "list_files",
        "get_download_url",
        # agent-memory, agent-scratchpad, sequential-thinking
        "search",
        "read_graph",
        "get_entity",
        "read_page",
        "list_pages",
        "search_pages",
        "get_chain",
        "summarize_chain",
    }
)


def _output(result: ExecuteResult) -> Any:
    return result["output"]


@dataclass(frozen=True)
class Target:
    """Where actions go. ``alias=None`` lets the server pick the only integration of the kind."""

    integration_name: str
    workspace_id: str
    alias: str | None
    end_user_id: str | None

    def action(self, action_name: str, input: Mapping[str, Any]) -> APIRequest[Any]:
        """An execute call whose result is the action's ``output`` (writes carry a new
        idempotency key, the same on every retry of this call)."""
        key = None if action_name in READ_ONLY_ACTIONS else uuid.uuid4().hex
        return execute_request(
            self.integration_name,
            action_name,
            workspace_id=self.workspace_id,
            input=input,
            integration_alias=self.alias,
            end_user_id=self.end_user_id,
            idempotency_key=key,
        ).then(_output)

    def describe(self) -> str:
        parts = [f"workspace_id={self.workspace_id!r}", f"alias={self.alias!r}"]
        if self.end_user_id is not None:
            parts.append(f"end_user_id={self.end_user_id!r}")
        return ", ".join(parts)
