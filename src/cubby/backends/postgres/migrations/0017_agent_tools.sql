-- Agent tools (API.md, "Agent tools"): Agent Memory, Agent Scratchpad, Sequential Thinking.
-- Rows, not documents: one per entity, observation, relation, page and thought, each under its
-- (workspace_id, ns) namespace like kv_entries and files. The top rows reference the workspace
-- and everything below them references its parent ON DELETE CASCADE, so deleting a workspace,
-- an entity or a chain takes its rows with it.
--
-- Full-text search: `doc` holds the words cubby cut itself (core/agent_text.py), each prefixed
-- with its namespace's scope (so a search reads only its namespace's index entries), built with
-- array_to_tsvector (no parser, no dictionary), so both backends index exactly the same words;
-- weights A (name) and B (type) rank name and type matches first. GIN indexes answer the
-- prefix queries (`'word':*`). They are built with fastupdate off: with it on, inserts go to
-- a pending list that every search reads linearly until (auto)vacuum merges it, which made a
-- one-word search over 30,000 fresh observations take 2-7 ms in the index alone (bench/
-- agent_search.py); off, each insert updates the index itself.

CREATE TABLE memory_entities (
    id BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL COLLATE "C",
    name TEXT NOT NULL COLLATE "C",
    type TEXT NOT NULL,
    doc TSVECTOR NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, name)
);
CREATE INDEX memory_entities_doc ON memory_entities USING gin (doc) WITH (fastupdate = off);

-- `digest` (core/agent_text.digest) keys the dedup of texts up to 16 KiB (a btree entry
-- cannot hold such a text).
CREATE TABLE memory_observations (
    id BIGSERIAL PRIMARY KEY,
    entity_id BIGINT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL COLLATE "C",
    text TEXT NOT NULL,
    digest TEXT NOT NULL,
    doc TSVECTOR NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (entity_id, digest)
);
CREATE INDEX memory_observations_doc ON memory_observations USING gin (doc) WITH (fastupdate = off);

CREATE TABLE memory_relations (
    from_id BIGINT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    to_id BIGINT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    type TEXT NOT NULL COLLATE "C",
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL COLLATE "C",
    created_at TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, type)
);
CREATE INDEX memory_relations_to ON memory_relations (to_id);

CREATE TABLE scratch_pages (
    id BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL COLLATE "C",
    name TEXT NOT NULL COLLATE "C",
    content TEXT NOT NULL,
    size BIGINT NOT NULL,         -- UTF-8 bytes of content
    doc TSVECTOR NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, name)
);
CREATE INDEX scratch_pages_doc ON scratch_pages USING gin (doc) WITH (fastupdate = off);

-- `last_thought` hands out thought ids (1, 2, ...), `main_length` counts the main line.
CREATE TABLE thinking_chains (
    id BIGSERIAL PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL COLLATE "C",
    chain_id TEXT NOT NULL COLLATE "C",
    last_thought INTEGER NOT NULL,
    main_length INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, chain_id)
);
CREATE TABLE thoughts (
    chain BIGINT NOT NULL REFERENCES thinking_chains (id) ON DELETE CASCADE,
    thought_id INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL COLLATE "C",
    content TEXT NOT NULL,
    branch_name TEXT COLLATE "C",
    branch_from INTEGER,
    revisions INTEGER NOT NULL DEFAULT 0,
    previous JSONB NOT NULL DEFAULT '[]',   -- the earlier texts, oldest first
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chain, thought_id)
);
CREATE INDEX thoughts_by_branch ON thoughts (chain, branch_name, thought_id);
CREATE INDEX thoughts_by_ns ON thoughts (workspace_id, ns);
