"""List items' canonical forms and hashes, recomputed from their text (migration 0022, and
after a restore, copy or import).

Removes find list items by the hash of their canonical JSON. Since issue 28 item 8, numbers
compare by value (``1.0`` is ``1``), so items stored before that, or loaded from a backup made
before it, may carry the hash of their old canonical form: ``remove_from_list`` would not find
them. Only texts with a ``.``, ``e`` or ``E`` can hold a float, so only those are read; the
hash is BLAKE2b, which PostgreSQL does not have, so the forms are computed here.
"""

from __future__ import annotations

from typing import Any

from cubby.core.kv_values import restated

_BATCH = 1000
_UPDATE = (
    "UPDATE kv_list_items i SET canon = u.canon, value_hash = u.hash "
    "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(id, canon, hash) "
    "WHERE i.id = u.id"
)


async def rehash_list_items(conn: Any, where: str = "TRUE", args: tuple[Any, ...] = ()) -> int:
    """Fix the items matching ``where`` (on workspace_id and ns) whose canonical form or hash
    is stale; returns how many were fixed. Runs inside the caller's transaction."""
    query = (
        "SELECT id, value, canon, value_hash FROM kv_list_items "
        f"WHERE ({where}) AND value ~ '[.eE]'"
    )
    fixed = 0
    stale: list[tuple[int, str | None, int]] = []
    async for id_, text, canon, stored_hash in conn.cursor(query, *args, prefetch=_BATCH):
        item = restated(text, canon, stored_hash)
        if item is not None:
            stale.append((id_, item.canon, item.hash))
        if len(stale) >= _BATCH:
            fixed += await _update(conn, stale)
    return fixed + await _update(conn, stale)


async def _update(conn: Any, stale: list[tuple[int, str | None, int]]) -> int:
    if stale:
        await conn.execute(_UPDATE, *(list(column) for column in zip(*stale, strict=True)))
    count = len(stale)
    stale.clear()
    return count
