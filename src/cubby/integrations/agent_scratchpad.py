"""The ``agent-scratchpad`` integration ("Agent Scratchpad"): named text pages per namespace.

One row per page (backends/*/agent_scratchpad.py); ``append_page`` is one locked update of
that row, so concurrent appends each land whole. Pages are listed by name a page at a time
and searched by words (core/agent_text.py).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from cubby.core.agent_records import Page
from cubby.core.agent_text import (
    MAX_NAME_CHARS,
    check_name,
    check_text,
    clamp,
    decode_rank_cursor,
    encode_rank_cursor,
    page_not_found,
    query_words,
    snippet,
)
from cubby.core.fields import NO_CONTROL, NO_NUL
from cubby.core.paging import decode_cursor, encode_cursor
from cubby.core.registry import ActionContext, Integration
from cubby.integrations.assets import logo

DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
DEFAULT_SEARCH_LIMIT = 20
MAX_SEARCH_LIMIT = 100

agent_scratchpad = Integration(
    name="agent-scratchpad",
    display_name="Agent Scratchpad",
    description="Named text pages an agent writes, appends to and searches between runs, "
    "isolated per end user, workspace or namespace key.",
    categories=["AI"],
    logo_svg=logo("agent-scratchpad"),
)

PageName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        pattern=NO_CONTROL,
        title="Page name",
        description=f"1 to {MAX_NAME_CHARS} characters, no control characters",
    ),
]
Content = Annotated[
    str,
    msgspec.Meta(
        pattern=NO_NUL,
        title="Content",
        description="Text (a page holds up to CUBBY_SCRATCHPAD_MAX_PAGE_BYTES, 1 MiB by default)",
        extra={"prop_type": "LONG_TEXT"},
    ),
]
Prefix = Annotated[
    str,
    msgspec.Meta(
        pattern=NO_CONTROL,
        title="Prefix",
        description="Only pages whose name starts with this",
    ),
]
Cursor = Annotated[str, msgspec.Meta(title="Cursor", description="nextCursor of the previous page")]
Query = Annotated[
    str,
    msgspec.Meta(
        max_length=1000,
        pattern=NO_NUL,
        title="Query",
        description="Words to find in page names and contents; every word must match "
        "(case-insensitive; a word also matches the start of a longer one)",
    ),
]
ListLimit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Pages per answer (default {DEFAULT_LIST_LIMIT}, at most "
        f"{MAX_LIST_LIMIT}; larger values are clamped)",
    ),
]
SearchLimit = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        title="Limit",
        description=f"Results per answer (default {DEFAULT_SEARCH_LIMIT}, at most "
        f"{MAX_SEARCH_LIMIT}; larger values are clamped)",
    ),
]


class PageNameInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    page_name: PageName


class PageContentInput(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    page_name: PageName
    content: Content


class ListPagesInput(msgspec.Struct, forbid_unknown_fields=True):
    prefix: Prefix | None = ""
    limit: ListLimit | None = DEFAULT_LIST_LIMIT
    cursor: Cursor | None = None


class SearchPagesInput(msgspec.Struct, forbid_unknown_fields=True):
    query: Query
    limit: SearchLimit | None = DEFAULT_SEARCH_LIMIT
    cursor: Cursor | None = None


class ClearAllInput(msgspec.Struct, forbid_unknown_fields=True):
    pass


class PageWithContent(msgspec.Struct, rename="camel"):
    page_name: str
    content: str
    size: int
    created_at: str
    updated_at: str


class PageList(msgspec.Struct, rename="camel"):
    pages: list[Page]
    next_cursor: str | None


class SearchHit(msgspec.Struct, rename="camel"):
    page_name: str
    snippet: str
    updated_at: str


class SearchResults(msgspec.Struct, rename="camel"):
    results: list[SearchHit]
    next_cursor: str | None


class PageDeleted(msgspec.Struct, rename="camel"):
    page_name: str
    deleted: bool


class Cleared(msgspec.Struct):
    deleted: int


def _content(ctx: ActionContext, content: str) -> str:
    return check_text(content, "input.content", ctx.services.settings.scratchpad_max_page_bytes)


@agent_scratchpad.action(
    "read_page",
    "Read page",
    "Read a page's content (reason PAGE_NOT_FOUND when missing; list_pages shows the pages)",
    read_only=True,
)
async def read_page(ctx: ActionContext, params: PageNameInput) -> PageWithContent:
    name = check_name(params.page_name, "input.pageName")
    found = await ctx.services.meta.scratchpad.read(ctx.namespace, name)
    if found is None:
        raise page_not_found(name)
    page = found.page
    return PageWithContent(name, found.content, page.size, page.created_at, page.updated_at)


@agent_scratchpad.action("write_page", "Write page", "Create a page or replace its content")
async def write_page(ctx: ActionContext, params: PageContentInput) -> Page:
    name = check_name(params.page_name, "input.pageName")
    return await ctx.services.meta.scratchpad.write(
        ctx.namespace, name, _content(ctx, params.content)
    )


@agent_scratchpad.action(
    "append_page",
    "Append to page",
    "Append text to a page (created when missing); concurrent appends all land, each whole",
)
async def append_page(ctx: ActionContext, params: PageContentInput) -> Page:
    name = check_name(params.page_name, "input.pageName")
    limit = ctx.services.settings.scratchpad_max_page_bytes
    return await ctx.services.meta.scratchpad.append(
        ctx.namespace, name, _content(ctx, params.content), limit
    )


@agent_scratchpad.action(
    "list_pages",
    "List pages",
    "List pages by name, optionally under a prefix, a page at a time",
    read_only=True,
)
async def list_pages(ctx: ActionContext, params: ListPagesInput) -> PageList:
    prefix = params.prefix or ""
    if prefix:
        check_name(prefix, "input.prefix")
    after = decode_cursor(params.cursor) if params.cursor else None
    limit = clamp(params.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
    pages = await ctx.services.meta.scratchpad.page(ctx.namespace, prefix, after, limit + 1)
    more = len(pages) > limit
    pages = pages[:limit]
    return PageList(pages=pages, next_cursor=encode_cursor(pages[-1].page_name) if more else None)


@agent_scratchpad.action(
    "search_pages",
    "Search pages",
    "Find pages whose name and content contain every word of the query (case-insensitive, "
    "word prefixes), best first, each with a snippet around the first match",
    read_only=True,
)
async def search_pages(ctx: ActionContext, params: SearchPagesInput) -> SearchResults:
    terms = query_words(params.query)
    after = decode_rank_cursor(params.cursor) if params.cursor else None
    limit = clamp(params.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT)
    if not terms:
        return SearchResults(results=[], next_cursor=None)
    found = await ctx.services.meta.scratchpad.search(
        ctx.namespace, terms, (after.score, after.name) if after else None, limit + 1
    )
    more = len(found) > limit
    found = found[:limit]
    results = [
        SearchHit(f.page.page_name, snippet(f.content, terms), f.page.updated_at) for f in found
    ]
    cursor = encode_rank_cursor(found[-1].score, found[-1].page.page_name) if more else None
    return SearchResults(results=results, next_cursor=cursor)


@agent_scratchpad.action("delete_page", "Delete page", "Delete a page")
async def delete_page(ctx: ActionContext, params: PageNameInput) -> PageDeleted:
    name = check_name(params.page_name, "input.pageName")
    deleted = await ctx.services.meta.scratchpad.delete(ctx.namespace, name)
    return PageDeleted(page_name=name, deleted=deleted)


@agent_scratchpad.action("clear_all", "Clear all pages", "Delete every page of the scratchpad")
async def clear_all(ctx: ActionContext, params: ClearAllInput) -> Cleared:
    return Cleared(deleted=await ctx.services.meta.scratchpad.clear(ctx.namespace))
