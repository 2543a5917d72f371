"""Where a page of a paged dashboard list is, and the links to the pages around it: lists the
store pages by cursor (an action's ``nextCursor``) or by offset (``cursor`` is the offset)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from cubby.errors import ValidationError
from cubby.web.pages import Ctx

# A pager counts the items up to here and says "of 10,000+" beyond: the count is an index
# range scan, bounded so that a page of a huge list costs the same as a page of a small one.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Pager:
    """Items ``first``-``last`` (from 1) of ``total`` (None: not counted; ``capped``: at
    least), and the query of the previous and next pages. Store cursors only go forward, so
    the pages before this one travel in the ``back`` parameter (their cursors, ``-`` for the
    first page); an offset-paged list needs no such trail."""

    first: int
    last: int
    prev: dict[str, str] | None
    next: dict[str, str] | None
    total: int | None = None
    capped: bool = False


def pager(
    ctx: Ctx, page_size: int, shown: int, next_cursor: str | None, total: int | None = None
) -> Pager:
    """The pager of a page showing ``shown`` items; ``total`` counted up to COUNT_CAP + 1."""
    back = ctx.arg("back")
    trail = [c for c in back.split(",") if c] if back else []
    first = len(trail) * page_size + 1
    prev = None
    if trail:
        before = "" if trail[-1] == "-" else trail[-1]
        prev = {"cursor": before, "back": ",".join(trail[:-1])}
    following = None
    if next_cursor:
        following = {"cursor": next_cursor, "back": ",".join([*trail, ctx.arg("cursor") or "-"])}
    capped = total is not None and total > COUNT_CAP
    if total is not None:
        total = min(total, COUNT_CAP)
    return Pager(first, first + shown - 1, prev, following, total, capped)


def offset_of(ctx: Ctx) -> int:
    """The first item of an offset-paged list's page: its ``cursor`` (0 without one)."""
    text = ctx.arg("cursor")
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValidationError.for_field("cursor", "cursor must be a link's page offset")
    return int(text)


def offset_pager(start: int, page_size: int, shown: int, total: int) -> Pager:
    """The pager of an offset-paged list (the store counts it exactly) showing ``shown``
    items from ``start`` (:func:`offset_of`); an offset says where it is, so no ``back``
    trail."""
    prev = None
    if start:
        before = max(start - page_size, 0)
        prev = {"cursor": str(before) if before else ""}
    following = {"cursor": str(start + shown)} if shown and start + shown < total else None
    return Pager(start + 1, start + shown, prev, following, total)


def page_url(path: str, params: Mapping[str, str | None]) -> str:
    """``path`` with the ``params`` that have a value as its query."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return path + ("?" + query if query else "")


@dataclass(frozen=True)
class Pages:
    """Pages outside an integration as ``pager_nav`` links them (``url(page_name, **params)``,
    like :meth:`cubby.web.targets.Target.url`): ``base/page_name``, at the list's ``section``."""

    base: str
    section: str = ""

    def url(self, page_name: str, **params: str | None) -> str:
        return page_url(f"{self.base}/{page_name}", params) + (
            f"#{self.section}" if self.section else ""
        )
