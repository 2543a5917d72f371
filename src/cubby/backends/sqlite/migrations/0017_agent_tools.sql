-- Agent tools (API.md, "Agent tools"): Agent Memory, Agent Scratchpad, Sequential Thinking.
-- Rows, not documents: one per entity, observation, relation, page and thought, each under its
-- (workspace_id, ns) namespace like kv_entries and files. The top rows reference the workspace
-- and everything below them references its parent ON DELETE CASCADE, so deleting a workspace,
-- an entity or a chain takes its rows with it.
--
-- Full-text search: FTS5 tables hold the words cubby cut itself (core/agent_text.py), so both
-- backends index exactly the same words, each prefixed with its namespace's scope, so a search
-- reads only its namespace's index entries. Rows are inserted by the writes that make them and
-- deleted by the triggers below (cascades fire them too). The prefix indexes cover the scope
-- (13 characters) plus 2 and 3 characters of a word.

CREATE TABLE memory_entities (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, name)
);

-- `digest` (core/agent_text.digest) keys the dedup of texts up to 16 KiB.
CREATE TABLE memory_observations (
    id INTEGER PRIMARY KEY,
    entity_id INTEGER NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    text TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (entity_id, digest)
);

CREATE TABLE memory_relations (
    from_id INTEGER NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    to_id INTEGER NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, type)
) WITHOUT ROWID;
CREATE INDEX memory_relations_to ON memory_relations (to_id);

-- rowid: an observation's id, or minus the entity's id for the entity's own row (name, type).
CREATE VIRTUAL TABLE memory_fts USING fts5 (
    entity UNINDEXED, name, type, body,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '15 16'
);
CREATE TRIGGER memory_entities_unindex AFTER DELETE ON memory_entities BEGIN
    DELETE FROM memory_fts WHERE rowid = -old.id;
END;
CREATE TRIGGER memory_observations_unindex AFTER DELETE ON memory_observations BEGIN
    DELETE FROM memory_fts WHERE rowid = old.id;
END;

CREATE TABLE scratch_pages (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    content TEXT NOT NULL,
    size INTEGER NOT NULL,        -- UTF-8 bytes of content
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, name)
);
CREATE VIRTUAL TABLE scratch_fts USING fts5 (
    name, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '15 16'
);
CREATE TRIGGER scratch_pages_unindex AFTER DELETE ON scratch_pages BEGIN
    DELETE FROM scratch_fts WHERE rowid = old.id;
END;

-- `last_thought` hands out thought ids (1, 2, ...), `main_length` counts the main line.
CREATE TABLE thinking_chains (
    id INTEGER PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    ns TEXT NOT NULL,
    chain_id TEXT NOT NULL,
    last_thought INTEGER NOT NULL,
    main_length INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (workspace_id, ns, chain_id)
);
CREATE TABLE thoughts (
    chain INTEGER NOT NULL REFERENCES thinking_chains (id) ON DELETE CASCADE,
    thought_id INTEGER NOT NULL,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    content TEXT NOT NULL,
    branch_name TEXT,
    branch_from INTEGER,
    revisions INTEGER NOT NULL DEFAULT 0,
    previous TEXT NOT NULL DEFAULT '[]',   -- JSON array of the earlier texts, oldest first
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (chain, thought_id)
);
CREATE INDEX thoughts_by_branch ON thoughts (chain, branch_name, thought_id);
CREATE INDEX thoughts_by_ns ON thoughts (workspace_id, ns);
