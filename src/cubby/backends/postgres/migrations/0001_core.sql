-- Organisation, workspaces, API keys and workspace integrations. Timestamps are the same
-- ISO-8601 UTC strings the API shows (they sort as text); columns that are ordered or
-- range-scanned use the "C" collation, so order is code point order whatever the database's
-- locale, exactly as on SQLite.
CREATE TABLE org (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    id TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workspaces_created ON workspaces (created_at, id);

CREATE TABLE api_keys (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    permissions TEXT,
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE workspace_integrations (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    integration_name TEXT NOT NULL,
    alias TEXT NOT NULL,
    display_name TEXT,
    connection_strategy TEXT,
    connection_id TEXT,
    auth_method_key TEXT,
    oauth_app_mode TEXT,
    oauth_app_id TEXT,
    enabled_actions TEXT,
    settings TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, alias)
);
CREATE INDEX workspace_integrations_by_name
    ON workspace_integrations (workspace_id, integration_name);
