"""Rebuild the agent tools' FTS5 tables (``memory_fts``, ``scratch_fts``) from their rows
after a load (restore, copy): the agent tools write those rows in the same job as the data, so
rows loaded from elsewhere come without them.

The rows are those the agent tools' writes make (memory: ``-id`` for an entity's own row, the
observation's id for each observation; scratchpad: the page's id), built from the words
:mod:`cubby.core.agent_text` cuts.
"""

from __future__ import annotations

import sqlite3

from cubby.backends.sqlite.agent_memory import _INSERT_FTS
from cubby.core.agent_text import index_words, scope_token

_PAGE_FTS = "INSERT INTO scratch_fts (rowid, scope, name, body) VALUES (?, ?, ?, ?)"


def rebuild_search(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM memory_fts")
    names: dict[int, tuple[str, str]] = {}
    for id_, ws, ns, name, type_ in conn.execute(
        "SELECT id, workspace_id, ns, name, type FROM memory_entities"
    ).fetchall():
        words = index_words(name), index_words(type_)
        names[id_] = words
        conn.execute(_INSERT_FTS, (-id_, scope_token(ws, ns), id_, *words, ""))
    for id_, entity, ws, ns, text in conn.execute(
        "SELECT id, entity_id, workspace_id, ns, text FROM memory_observations"
    ).fetchall():
        conn.execute(
            _INSERT_FTS,
            (id_, scope_token(ws, ns), entity, *names.get(entity, ("", "")), index_words(text)),
        )
    conn.execute("DELETE FROM scratch_fts")
    conn.executemany(
        _PAGE_FTS,
        [
            (id_, scope_token(ws, ns), index_words(name), index_words(content))
            for id_, ws, ns, name, content in conn.execute(
                "SELECT id, workspace_id, ns, name, content FROM scratch_pages"
            )
        ],
    )
