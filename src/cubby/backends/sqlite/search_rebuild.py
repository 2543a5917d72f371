"""Rebuild the agent tools' FTS5 tables (``memory_fts``, ``scratch_fts``) from their rows
after a load (restore, copy, import): the agent tools write those rows in the same job as the
data, so rows loaded from elsewhere come without them.

The rows are those the agent tools' writes make (memory: ``-id`` for an entity's own row, the
observation's id for each observation; scratchpad: the page's id), built from the words
:mod:`cubby.core.agent_text` cuts.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cubby.backends.sqlite.agent_memory import _INSERT_FTS
from cubby.core.agent_text import index_words, scope_token

_PAGE_FTS = "INSERT INTO scratch_fts (rowid, name, body) VALUES (?, ?, ?)"


def rebuild_search(conn: sqlite3.Connection, where: str = "1", args: tuple[Any, ...] = ()) -> None:
    """The FTS rows of the agent rows matching ``where`` (on workspace_id and ns; "1": all)."""
    if where == "1":
        conn.execute("DELETE FROM memory_fts")
        conn.execute("DELETE FROM scratch_fts")
    else:
        conn.execute(
            f"DELETE FROM memory_fts WHERE rowid IN (SELECT -id FROM memory_entities WHERE {where})"
            f" OR rowid IN (SELECT id FROM memory_observations WHERE {where})",
            (*args, *args),
        )
        conn.execute(
            f"DELETE FROM scratch_fts WHERE rowid IN (SELECT id FROM scratch_pages WHERE {where})",
            args,
        )
    names: dict[int, tuple[str, str]] = {}
    for id_, ws, ns, name, type_ in conn.execute(
        f"SELECT id, workspace_id, ns, name, type FROM memory_entities WHERE {where}", args
    ).fetchall():
        scope = scope_token(ws, ns)
        words = index_words(scope, name), index_words(scope, type_)
        names[id_] = words
        conn.execute(_INSERT_FTS, (-id_, id_, *words, ""))
    for id_, entity, ws, ns, text, name, type_ in conn.execute(
        "SELECT o.id, o.entity_id, o.workspace_id, o.ns, o.text, e.name, e.type "
        f"FROM (SELECT * FROM memory_observations WHERE {where}) o "
        "JOIN memory_entities e ON e.id = o.entity_id",
        args,
    ).fetchall():
        scope = scope_token(ws, ns)
        words = names.get(entity) or (index_words(scope, name), index_words(scope, type_))
        conn.execute(_INSERT_FTS, (id_, entity, *words, index_words(scope, text)))
    conn.executemany(
        _PAGE_FTS,
        [
            (id_, index_words(scope_token(ws, ns), name), index_words(scope_token(ws, ns), content))
            for id_, ws, ns, name, content in conn.execute(
                f"SELECT id, workspace_id, ns, name, content FROM scratch_pages WHERE {where}",
                args,
            ).fetchall()
        ],
    )
