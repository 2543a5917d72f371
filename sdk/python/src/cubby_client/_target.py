"""The (workspace, alias, end user) a ``storage()`` or ``kv()`` handle sends its actions to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cubby_client._actions import execute_request
from cubby_client._request import APIRequest
from cubby_client._types import ExecuteResult

__all__ = ["Target"]


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
        """An execute call whose result is the action's ``output``."""
        return execute_request(
            self.integration_name,
            action_name,
            workspace_id=self.workspace_id,
            input=input,
            integration_alias=self.alias,
            end_user_id=self.end_user_id,
        ).then(_output)

    def describe(self) -> str:
        parts = [f"workspace_id={self.workspace_id!r}", f"alias={self.alias!r}"]
        if self.end_user_id is not None:
            parts.append(f"end_user_id={self.end_user_id!r}")
        return ", ".join(parts)
