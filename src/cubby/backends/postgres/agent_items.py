"""The agent-tool rows of one namespace as a whole (migration 0017): erasing them with an end
user's other data, in the caller's transaction."""

from __future__ import annotations

# One statement: the thoughts are counted in the statement's snapshot, before the chains'
# cascade removes them; observations and relations go by cascade from their entities.
ERASE = (
    "WITH e AS (DELETE FROM memory_entities WHERE workspace_id = $1 AND ns = $2 RETURNING 1), "
    "p AS (DELETE FROM scratch_pages WHERE workspace_id = $1 AND ns = $2 RETURNING 1), "
    "t AS (SELECT count(*) AS n FROM thoughts WHERE workspace_id = $1 AND ns = $2), "
    "c AS (DELETE FROM thinking_chains WHERE workspace_id = $1 AND ns = $2 RETURNING 1) "
    "SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM p) + (SELECT n FROM t) "
    "+ 0 * (SELECT count(*) FROM c)"
)
