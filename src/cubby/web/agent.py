"""The data pages of the three agent tools: an agent-memory integration's entities (paged,
searchable, one entity with its observations, relations and a picture of its neighbourhood),
an agent-scratchpad's pages (view, edit, append) and a sequential-thinking chain as a tree of
thoughts with its branches and revisions.

Like :mod:`cubby.web.data`, every read and write is the integration's own action run through
``core.execute`` with the session's principal (:mod:`cubby.web.targets`), so scopes, the
enabledActions list and validation are the API's; an ``end_user`` integration shows one end
user's data once one is picked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cubby.errors import ActionFailed, ValidationError
from cubby.web.agent_graph import layout
from cubby.web.pager import pager
from cubby.web.pages import Ctx, page
from cubby.web.targets import Target, count, end_users, load, picker, run

MEMORY = "agent-memory"
SCRATCHPAD = "agent-scratchpad"
THINKING = "sequential-thinking"
PAGE_SIZE = 50
SEARCH_SIZE = 20


def _lines(text: str) -> list[str]:
    """One item per non-blank line of a textarea."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _reason(exc: ActionFailed) -> str | None:
    reason = exc.details.get("reason") if isinstance(exc.details, dict) else None
    return reason if isinstance(reason, str) else None


# -- agent-memory ---------------------------------------------------------------------------
@page
async def memory_page(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    picked = await picker(ctx, t, "agent_memory.html")
    if picked is not None:
        return picked
    query = ctx.arg("q").strip()
    params: dict[str, Any] = {"limit": SEARCH_SIZE if query else PAGE_SIZE}
    if ctx.arg("cursor"):
        params["cursor"] = ctx.arg("cursor")
    if query:
        found = await run(ctx, t, "search", {"query": query, **params})
        total = None  # a search's matches are not counted
    else:
        found = await run(ctx, t, "read_graph", params)
        total = await count(ctx, t, "")
    size = SEARCH_SIZE if query else PAGE_SIZE
    return ctx.render(
        "agent_memory.html",
        t=t,
        picking=False,
        end_users=await end_users(ctx, t),
        search=query,  # not `query`: the templates' URL helper has that name
        entities=found["entities"],
        relations=found["relations"],
        pager=pager(ctx, size, len(found["entities"]), found.get("nextCursor"), total),
    )


def _pick_first(t: Target, list_page: str) -> Response | None:
    """A one-item page of an end_user integration opened without an end user: to the list
    page, which asks for one."""
    if t.needs_end_user and not t.end_user:
        return RedirectResponse(t.url(list_page), 303)
    return None


@page
async def entity_page(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    if (first := _pick_first(t, "memory")) is not None:
        return first
    name = ctx.arg("name")
    if not name:
        raise ValidationError.for_field("name", "which entity? (pass ?name=)")
    found = await run(ctx, t, "get_entity", {"name": name})
    return ctx.render(
        "agent_entity.html",
        t=t,
        entity=found["entity"],
        relations=found["relations"],
        picture=layout(name, found["relations"]),
    )


@page
async def create_entity(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    name = ctx.field("name")
    item = {"name": name, "type": ctx.field("type"), "observations": _lines(ctx.field("content"))}
    out = await run(ctx, t, "create_entities", {"entities": [item]})
    note = f"Created {name}" if out["entities"] else f"{name} already exists (left unchanged)"
    return ctx.redirect(t.url("memory/entity", name=name), note)


@page
async def add_observations(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    name = ctx.field("entityName")
    contents = _lines(ctx.field("content"))
    if not contents:
        raise ValidationError.for_field("content", "write at least one observation")
    body = {"observations": [{"entityName": name, "contents": contents}]}
    out = await run(ctx, t, "add_observations", body)
    added = len(out["results"][0]["added"]) if out["results"] else 0
    return ctx.redirect(t.url("memory/entity", name=name), f"Added {added} observation(s)")


@page
async def delete_observation(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    name = ctx.field("entityName")
    body = {"entityName": name, "observations": [ctx.field("observation")]}
    out = await run(ctx, t, "delete_observations", body)
    return ctx.redirect(t.url("memory/entity", name=name), f"Deleted {out['deleted']} observation")


def _relation(ctx: Ctx) -> dict[str, str]:
    return {"from": ctx.field("from"), "to": ctx.field("to"), "type": ctx.field("type")}


@page
async def relate(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    out = await run(ctx, t, "create_relations", {"relations": [_relation(ctx)]})
    note = "Related" if out["relations"] else "That relation already exists"
    return ctx.redirect(t.url("memory/entity", name=ctx.field("back")), note)


@page
async def unrelate(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    out = await run(ctx, t, "delete_relations", {"relations": [_relation(ctx)]})
    back = ctx.field("back")
    return ctx.redirect(t.url("memory/entity", name=back), f"Deleted {out['deleted']} relation")


@page
async def delete_entity(ctx: Ctx) -> Response:
    t = await load(ctx, MEMORY)
    name = ctx.field("name")
    out = await run(ctx, t, "delete_entities", {"names": [name]})
    note = f"Deleted {name} and its relations" if out["deleted"] else f"No entity {name}"
    return ctx.redirect(t.url("memory"), note)


# -- agent-scratchpad -----------------------------------------------------------------------
@page
async def pages_page(ctx: Ctx) -> Response:
    t = await load(ctx, SCRATCHPAD)
    picked = await picker(ctx, t, "agent_pages.html")
    if picked is not None:
        return picked
    query = ctx.arg("q").strip()
    prefix = ctx.arg("prefix")
    listed: dict[str, Any] = {"pages": [], "nextCursor": None}
    hits: list[dict[str, Any]] = []
    total = None
    if query:
        hits = (await run(ctx, t, "search_pages", {"query": query, "limit": SEARCH_SIZE}))[
            "results"
        ]
    else:
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if prefix:
            params["prefix"] = prefix
        if ctx.arg("cursor"):
            params["cursor"] = ctx.arg("cursor")
        listed = await run(ctx, t, "list_pages", params)
        total = await count(ctx, t, prefix)
    return ctx.render(
        "agent_pages.html",
        t=t,
        picking=False,
        end_users=await end_users(ctx, t),
        search=query,  # not `query`: the templates' URL helper has that name
        prefix=prefix,
        pages=listed["pages"],
        hits=hits,
        pager=pager(ctx, PAGE_SIZE, len(listed["pages"]), listed["nextCursor"], total),
    )


@page
async def page_view(ctx: Ctx) -> Response:
    t = await load(ctx, SCRATCHPAD)
    if (first := _pick_first(t, "pages")) is not None:
        return first
    name = ctx.arg("name")
    if not name:
        raise ValidationError.for_field("name", "which page? (pass ?name=)")
    try:
        found: dict[str, Any] | None = await run(ctx, t, "read_page", {"pageName": name})
    except ActionFailed as exc:
        if _reason(exc) != "PAGE_NOT_FOUND":
            raise
        found = None
    return ctx.render("agent_page.html", t=t, name=name, found=found)


@page
async def write_page(ctx: Ctx) -> Response:
    t = await load(ctx, SCRATCHPAD)
    name = ctx.field("pageName")
    content = ctx.field("content").replace("\r\n", "\n")
    out = await run(ctx, t, "write_page", {"pageName": name, "content": content})
    return ctx.redirect(t.url("page", name=name), f"Saved {name} ({out['size']} bytes)")


@page
async def append_page(ctx: Ctx) -> Response:
    t = await load(ctx, SCRATCHPAD)
    name = ctx.field("pageName")
    content = ctx.field("content").replace("\r\n", "\n")
    out = await run(ctx, t, "append_page", {"pageName": name, "content": content})
    return ctx.redirect(t.url("page", name=name), f"Appended to {name} ({out['size']} bytes)")


@page
async def delete_page(ctx: Ctx) -> Response:
    t = await load(ctx, SCRATCHPAD)
    name = ctx.field("pageName")
    out = await run(ctx, t, "delete_page", {"pageName": name})
    note = f"Deleted {name}" if out["deleted"] else f"No page {name}"
    return ctx.redirect(t.url("pages"), note)


# -- sequential-thinking --------------------------------------------------------------------
@dataclass
class Branch:
    name: str
    start: int
    thoughts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tree:
    """A chain as lines of thoughts: the main line, and the branches hanging off each thought."""

    main: list[dict[str, Any]]
    branches_at: dict[int, list[Branch]]


def chain_tree(chain: dict[str, Any]) -> Tree:
    """``get_chain`` with ``includeBranches`` (every thought by id) as a tree."""
    main: list[dict[str, Any]] = []
    by_name: dict[str, Branch] = {}
    starts = {b["branchName"]: int(b["branchFrom"]) for b in chain.get("branches", [])}
    for thought in sorted(chain["thoughts"], key=lambda th: th["thoughtId"]):
        name = thought.get("branchName")
        if name is None:
            main.append(thought)
            continue
        branch = by_name.get(name)
        if branch is None:
            start = starts.get(name, thought.get("branchFrom") or 0)
            branch = by_name[name] = Branch(name, int(start))
        branch.thoughts.append(thought)
    branches_at: dict[int, list[Branch]] = {}
    for branch in by_name.values():
        branches_at.setdefault(branch.start, []).append(branch)
    return Tree(main, branches_at)


def _thought_id(ctx: Ctx) -> int:
    text = ctx.field("thoughtId").strip()
    if not text.isdigit():
        raise ValidationError.for_field("thoughtId", "thoughtId is a thought's number (1, 2, ...)")
    return int(text)


@page
async def chain_page(ctx: Ctx) -> Response:
    t = await load(ctx, THINKING)
    picked = await picker(ctx, t, "agent_chain.html")
    if picked is not None:
        return picked
    chain_id = ctx.arg("chainId").strip()
    tree = summary = None
    if chain_id:
        chain = await run(ctx, t, "get_chain", {"chainId": chain_id, "includeBranches": True})
        tree = chain_tree(chain)
        summary = await run(ctx, t, "summarize_chain", {"chainId": chain_id})
    return ctx.render(
        "agent_chain.html",
        t=t,
        picking=False,
        end_users=await end_users(ctx, t),
        chain_id=chain_id,
        tree=tree,
        summary=summary,
    )


def _back_to_chain(ctx: Ctx, t: Target, note: str) -> Response:
    return ctx.redirect(t.url("chains", chainId=ctx.field("chainId")), note)


@page
async def add_thought(ctx: Ctx) -> Response:
    t = await load(ctx, THINKING)
    body = {"chainId": ctx.field("chainId"), "content": ctx.field("content")}
    out = await run(ctx, t, "add_thought", body)
    return _back_to_chain(ctx, t, f"Added thought {out['thought']['thoughtId']}")


@page
async def branch_thought(ctx: Ctx) -> Response:
    t = await load(ctx, THINKING)
    body = {
        "chainId": ctx.field("chainId"),
        "thoughtId": _thought_id(ctx),
        "branchName": ctx.field("branchName"),
        "content": ctx.field("content"),
    }
    out = await run(ctx, t, "branch_thought", body)
    return _back_to_chain(ctx, t, f"Added thought {out['thought']['thoughtId']} on a branch")


@page
async def revise_thought(ctx: Ctx) -> Response:
    t = await load(ctx, THINKING)
    body = {
        "chainId": ctx.field("chainId"),
        "thoughtId": _thought_id(ctx),
        "content": ctx.field("content"),
    }
    out = await run(ctx, t, "revise_thought", body)
    return _back_to_chain(ctx, t, f"Revised thought {out['thought']['thoughtId']}")


def routes(base: str) -> list[BaseRoute]:
    return [
        Route(base + "/memory", memory_page, methods=["GET"]),
        Route(base + "/memory/entity", entity_page, methods=["GET"]),
        Route(base + "/memory/create", create_entity, methods=["POST"]),
        Route(base + "/memory/observe", add_observations, methods=["POST"]),
        Route(base + "/memory/forget", delete_observation, methods=["POST"]),
        Route(base + "/memory/relate", relate, methods=["POST"]),
        Route(base + "/memory/unrelate", unrelate, methods=["POST"]),
        Route(base + "/memory/delete", delete_entity, methods=["POST"]),
        Route(base + "/pages", pages_page, methods=["GET"]),
        Route(base + "/page", page_view, methods=["GET"]),
        Route(base + "/pages/write", write_page, methods=["POST"]),
        Route(base + "/pages/append", append_page, methods=["POST"]),
        Route(base + "/pages/delete", delete_page, methods=["POST"]),
        Route(base + "/chains", chain_page, methods=["GET"]),
        Route(base + "/chains/add", add_thought, methods=["POST"]),
        Route(base + "/chains/branch", branch_thought, methods=["POST"]),
        Route(base + "/chains/revise", revise_thought, methods=["POST"]),
    ]
