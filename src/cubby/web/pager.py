"""Where a page of a cursor-paged dashboard list is, and the links to the pages around it."""

from __future__ import annotations

from dataclasses import dataclass

from cubby.web.pages import Ctx

# A pager counts the items up to here and says "of 10,000+" beyond: the count is an index
# range scan, bounded so that a page of a huge list costs the same as a page of a small one.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Pager:
    """Items ``first``-``last`` (from 1) of ``total`` (None: not counted; ``capped``: at
    least), and the query of the previous and next pages. Cursors only go forward, so the
    pages before this one travel in the ``back`` parameter (their cursors, ``-`` for the
    first page)."""

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
