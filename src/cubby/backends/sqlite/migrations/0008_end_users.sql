-- End users (API.md, "End users"): optional records of the end users a workspace serves.
-- `external_id` is the endUserId of action execution, unique per workspace; the data of an
-- end user lives in the `u:<external_id>` namespace of each data table, with or without a record.
CREATE TABLE end_users (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    display_name TEXT,
    email TEXT,
    metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, external_id)
);
CREATE INDEX end_users_by_created ON end_users (workspace_id, created_at, id);
