"""List items' canonical forms and hashes, recomputed from their text (migration 0022, and
after a restore, copy or import).

Removes find list items by the hash of their canonical JSON. Since issue 28 item 8, numbers
compare by value (``1.0`` is ``1``), so items stored before that, or loaded from a backup made
before it, may carry the hash of their old canonical form: ``remove_from_list`` would not find
them. Only texts with a ``.``, ``e`` or ``E`` can hold a float, so only those are read.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.core.kv_values import restated

_BATCH = 1000


def rehash_list_items(
    conn: sqlite3.Connection, where: str = "1", args: tuple[Any, ...] = ()
) -> int:
    """Fix the items matching ``where`` (on workspace_id and ns) whose canonical form or hash
    is stale; returns how many were fixed."""
    cursor = conn.execute(
        "SELECT id, value, canon, value_hash FROM kv_list_items "
        f"WHERE ({where}) AND value GLOB '*[.eE]*'",
        args,
    )
    fixed = 0
    while rows := cursor.fetchmany(_BATCH):
        stale = [
            (item.canon, item.hash, id_)
            for id_, text, canon, stored_hash in rows
            if (item := restated(text, canon, stored_hash)) is not None
        ]
        conn.executemany("UPDATE kv_list_items SET canon = ?, value_hash = ? WHERE id = ?", stale)
        fixed += len(stale)
    return fixed
