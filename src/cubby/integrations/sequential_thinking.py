"""The ``sequential-thinking`` integration ("Sequential Thinking"): chains of numbered
thoughts per namespace, with named branches and revisions that keep the earlier texts.

One row per thought (backends/*/sequential_thinking.py); ids come from the chain's counter row
inside the write, so they are 1, 2, ... per chain and never reused. The chain's views (main
line, branches, summary) are computed here from its rows, deterministically.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.core.agent_records import Thought
from cubby.core.agent_text import (
    MAX_NAME_CHARS,
    MAX_REVISIONS,
    MAX_THOUGHT_BYTES,
    check_name,
    check_text,
)
from cubby.core.fields import NO_CONTROL, NO_NUL
from cubby.core.registry import ActionContext, Integration
from cubby.integrations.assets import logo

sequential_thinking = Integration(
    name="sequential-thinking",
    display_name="Sequential Thinking",
    description="Chains of numbered thoughts an agent builds step by step, with branches and "
    "revisions, isolated per end user, workspace or namespace key.",
    categories=["AI"],
    logo_svg=logo("sequential-thinking"),
)

ChainId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Chain ID",
        description="Identifier of the chain (a new one starts a chain)",
    ),
]
MAX_THOUGHT_ID = 2**31 - 1  # PostgreSQL stores it as an INTEGER (migrations/0017)
ThoughtId = Annotated[
    int,
    msgspec.Meta(
        ge=1, le=MAX_THOUGHT_ID, title="Thought ID", description="A thought's number in the chain"
    ),
]
BranchName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Branch name",
        description="Name of the branch (an existing name continues that branch)",
    ),
]
Content = Annotated[
    str,
    msgspec.Meta(
        pattern=NO_NUL,
        title="Content",
        description=f"The thought (up to {MAX_THOUGHT_BYTES} bytes)",
        extra={"prop_type": "LONG_TEXT"},
    ),
]


class AddThoughtInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    chain_id: ChainId
    content: Content


class BranchThoughtInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    chain_id: ChainId
    thought_id: ThoughtId
    branch_name: BranchName
    content: Content


class ReviseThoughtInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    chain_id: ChainId
    thought_id: ThoughtId
    content: Content


class GetChainInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    chain_id: ChainId
    include_branches: (
        Annotated[
            bool,
            msgspec.Meta(
                title="Include branches",
                description="Every thought by id instead of the main line only",
            ),
        ]
        | None
    ) = False


class ChainIdInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    chain_id: ChainId


class ThoughtAdded(msgspec.Struct, rename="camel"):
    chain_id: str
    thought: Thought
    length: int


class ChainThought(msgspec.Struct, rename="camel"):
    chain_id: str
    thought: Thought


class Branch(msgspec.Struct, rename="camel"):
    branch_name: str
    branch_from: int
    length: int


class Chain(msgspec.Struct, rename="camel"):
    chain_id: str
    thoughts: list[Thought]
    branches: list[Branch]


class BranchSummary(msgspec.Struct, rename="camel"):
    branch_name: str
    branch_from: int
    length: int
    last_thought: Thought


class Summary(msgspec.Struct, rename="camel"):
    chain_id: str
    thought_count: int
    branch_count: int
    revision_count: int
    first_thought: Thought | None
    last_thought: Thought | None
    branches: list[BranchSummary]


def _content(content: str) -> str:
    return check_text(content, "input.content", MAX_THOUGHT_BYTES)


def _branches(thoughts: list[Thought]) -> dict[str, list[Thought]]:
    """Each branch's thoughts by id, branches in the order they started."""
    branches: dict[str, list[Thought]] = {}
    for thought in thoughts:
        if thought.branch_name is not None:
            branches.setdefault(thought.branch_name, []).append(thought)
    return branches


def _origin(thoughts: list[Thought]) -> int:
    return thoughts[0].branch_from or 0


@sequential_thinking.action(
    "add_thought",
    "Add thought",
    "Add the next thought to a chain's main line (a new chainId starts a chain)",
)
async def add_thought(ctx: ActionContext, params: AddThoughtInput) -> ThoughtAdded:
    chain_id = check_name(params.chain_id, "input.chainId")
    thought, length = await ctx.services.meta.thinking.add(
        ctx.namespace,
        chain_id,
        _content(params.content),
        ctx.services.settings.thinking_max_chain_thoughts,
    )
    return ThoughtAdded(chain_id=chain_id, thought=thought, length=length)


@sequential_thinking.action(
    "branch_thought",
    "Branch thought",
    "Start (or continue) the branch branchName from a thought (reason THOUGHT_NOT_FOUND when "
    "the thought does not exist)",
)
async def branch_thought(ctx: ActionContext, params: BranchThoughtInput) -> ChainThought:
    chain_id = check_name(params.chain_id, "input.chainId")
    branch = check_name(params.branch_name, "input.branchName")
    thought = await ctx.services.meta.thinking.branch(
        ctx.namespace,
        chain_id,
        params.thought_id,
        branch,
        _content(params.content),
        ctx.services.settings.thinking_max_chain_thoughts,
    )
    return ChainThought(chain_id=chain_id, thought=thought)


@sequential_thinking.action(
    "revise_thought",
    "Revise thought",
    f"Replace a thought's content; the earlier texts are kept in previous (up to "
    f"{MAX_REVISIONS} revisions per thought)",
)
async def revise_thought(ctx: ActionContext, params: ReviseThoughtInput) -> ChainThought:
    chain_id = check_name(params.chain_id, "input.chainId")
    thought = await ctx.services.meta.thinking.revise(
        ctx.namespace, chain_id, params.thought_id, _content(params.content), MAX_REVISIONS
    )
    return ChainThought(chain_id=chain_id, thought=thought)


@sequential_thinking.action(
    "get_chain",
    "Get chain",
    "A chain's main line in order (with includeBranches, every thought by id) and its "
    "branches; an unknown chain has no thoughts",
    read_only=True,
)
async def get_chain(ctx: ActionContext, params: GetChainInput) -> Chain:
    chain_id = check_name(params.chain_id, "input.chainId")
    thoughts = await ctx.services.meta.thinking.thoughts(ctx.namespace, chain_id)
    branches = [
        Branch(name, _origin(items), len(items)) for name, items in _branches(thoughts).items()
    ]
    if not params.include_branches:
        thoughts = [t for t in thoughts if t.branch_name is None]
    return Chain(chain_id=chain_id, thoughts=thoughts, branches=branches)


@sequential_thinking.action(
    "summarize_chain",
    "Summarize chain",
    "Counts and ends of a chain and of each branch (deterministic, no model)",
    read_only=True,
)
async def summarize_chain(ctx: ActionContext, params: ChainIdInput) -> Summary:
    chain_id = check_name(params.chain_id, "input.chainId")
    thoughts = await ctx.services.meta.thinking.thoughts(ctx.namespace, chain_id)
    main = [t for t in thoughts if t.branch_name is None]
    branches = _branches(thoughts)
    return Summary(
        chain_id=chain_id,
        thought_count=len(thoughts),
        branch_count=len(branches),
        revision_count=sum(t.revisions for t in thoughts),
        first_thought=main[0] if main else None,
        last_thought=main[-1] if main else None,
        branches=[
            BranchSummary(name, _origin(items), len(items), items[-1])
            for name, items in branches.items()
        ],
    )
