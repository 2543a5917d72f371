"""``client.thinking(workspace_id)``: sequential-thinking's chains of numbered thoughts."""

from __future__ import annotations

from cubby_client._request import APIRequest, AsyncSender, SyncSender
from cubby_client._target import Target
from cubby_client._types import Chain, ChainSummary, Thought, ThoughtAdded

__all__ = ["AsyncThinking", "Thinking"]


def add_request(target: Target, chain_id: str, content: str) -> APIRequest[ThoughtAdded]:
    return target.action("add_thought", {"chainId": chain_id, "content": content})


def branch_request(
    target: Target, chain_id: str, thought_id: int, branch_name: str, content: str
) -> APIRequest[Thought]:
    body = {
        "chainId": chain_id,
        "thoughtId": thought_id,
        "branchName": branch_name,
        "content": content,
    }
    return target.action("branch_thought", body).then(lambda output: output["thought"])


def revise_request(
    target: Target, chain_id: str, thought_id: int, content: str
) -> APIRequest[Thought]:
    body = {"chainId": chain_id, "thoughtId": thought_id, "content": content}
    return target.action("revise_thought", body).then(lambda output: output["thought"])


def chain_request(target: Target, chain_id: str, include_branches: bool) -> APIRequest[Chain]:
    body = {"chainId": chain_id, "includeBranches": include_branches}
    return target.action("get_chain", body)


def summary_request(target: Target, chain_id: str) -> APIRequest[ChainSummary]:
    return target.action("summarize_chain", {"chainId": chain_id})


class Thinking:
    """Thought chains of one sequential-thinking integration of one workspace (see
    ``Cubby.thinking``). An unknown ``thought_id`` is a ``BadRequestError`` with ``.reason ==
    "THOUGHT_NOT_FOUND"``; a chain past its limit (10,000 thoughts by default) a
    ``PayloadTooLargeError``."""

    def __init__(self, client: SyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"Thinking({self._target.describe()})"

    def add(self, chain_id: str, content: str) -> ThoughtAdded:
        """Add a thought to the chain's main line (a new ``chain_id`` starts a chain); returns
        ``{chainId, thought, length}``."""
        return self._client._send(add_request(self._target, chain_id, content))

    def branch(self, chain_id: str, thought_id: int, branch_name: str, content: str) -> Thought:
        """Start (or continue) the branch ``branch_name`` from thought ``thought_id``."""
        return self._client._send(
            branch_request(self._target, chain_id, thought_id, branch_name, content)
        )

    def revise(self, chain_id: str, thought_id: int, content: str) -> Thought:
        """Replace a thought's content; its earlier texts stay in ``previous``."""
        return self._client._send(revise_request(self._target, chain_id, thought_id, content))

    def chain(self, chain_id: str, *, include_branches: bool = False) -> Chain:
        """The main line in order (with ``include_branches``, every thought by id); an unknown
        chain has no thoughts."""
        return self._client._send(chain_request(self._target, chain_id, include_branches))

    def summary(self, chain_id: str) -> ChainSummary:
        """Counts, the first and last thought and the branches (deterministic, no model)."""
        return self._client._send(summary_request(self._target, chain_id))


class AsyncThinking:
    """Thought chains of one sequential-thinking integration (see ``AsyncCubby.thinking``)."""

    def __init__(self, client: AsyncSender, target: Target) -> None:
        self._client = client
        self._target = target

    def __repr__(self) -> str:
        return f"AsyncThinking({self._target.describe()})"

    async def add(self, chain_id: str, content: str) -> ThoughtAdded:
        """Add a thought to the chain's main line; returns ``{chainId, thought, length}``."""
        return await self._client._send(add_request(self._target, chain_id, content))

    async def branch(
        self, chain_id: str, thought_id: int, branch_name: str, content: str
    ) -> Thought:
        """Start (or continue) the branch ``branch_name`` from thought ``thought_id``."""
        return await self._client._send(
            branch_request(self._target, chain_id, thought_id, branch_name, content)
        )

    async def revise(self, chain_id: str, thought_id: int, content: str) -> Thought:
        """Replace a thought's content; its earlier texts stay in ``previous``."""
        return await self._client._send(revise_request(self._target, chain_id, thought_id, content))

    async def chain(self, chain_id: str, *, include_branches: bool = False) -> Chain:
        """The main line in order (with ``include_branches``, every thought by id)."""
        return await self._client._send(chain_request(self._target, chain_id, include_branches))

    async def summary(self, chain_id: str) -> ChainSummary:
        """Counts, the first and last thought and the branches."""
        return await self._client._send(summary_request(self._target, chain_id))
