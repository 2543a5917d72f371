CREATE TABLE org (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX workspaces_created ON workspaces (created_at, id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    permissions TEXT,
    last_used_at TEXT,
    expires_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE workspace_integrations (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
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
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, alias)
);
CREATE INDEX workspace_integrations_by_name
    ON workspace_integrations (workspace_id, integration_name);
