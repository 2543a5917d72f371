"""The agent-tool rows of one namespace as a whole (migration 0017): erasing them with an end
user's other data, in the caller's writer job (so in the same transaction)."""

from __future__ import annotations

import sqlite3

_NS = "workspace_id = ? AND ns = ?"


def erase(conn: sqlite3.Connection, workspace_id: str, ns: str) -> int:
    """Delete the namespace's entities, pages and chains (observations, relations and thoughts
    go by cascade, FTS rows by trigger); returns the items removed (entities + pages +
    thoughts), as usage counts them."""
    args = (workspace_id, ns)
    thoughts = conn.execute(f"SELECT count(*) FROM thoughts WHERE {_NS}", args).fetchone()[0]
    removed = int(thoughts)
    for table in ("memory_entities", "scratch_pages"):
        removed += conn.execute(f"DELETE FROM {table} WHERE {_NS}", args).rowcount
    conn.execute(f"DELETE FROM thinking_chains WHERE {_NS}", args)
    return removed
