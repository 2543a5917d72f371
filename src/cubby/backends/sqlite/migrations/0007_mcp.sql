-- MCP servers (issue 17). A server belongs to a workspace; its tools are synced from the
-- workspace's integrations at request time, so mcp_server_tools holds only the per-server
-- additions and overrides of the tools resource. Tokens are stored as SHA-256 hashes.
CREATE TABLE mcp_servers (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    mode TEXT NOT NULL,
    settings TEXT NOT NULL,
    auth_mode TEXT NOT NULL,
    end_user_access TEXT,
    created_by TEXT,
    end_user_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX mcp_servers_by_workspace ON mcp_servers (workspace_id, created_at, id);
CREATE INDEX mcp_servers_by_created ON mcp_servers (created_at, id);

CREATE TABLE mcp_server_tools (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    integration_name TEXT NOT NULL,
    integration_alias TEXT NOT NULL,
    action_name TEXT NOT NULL,
    connection_id TEXT,
    display_name TEXT,
    description TEXT,
    input_defaults TEXT,
    partial_ids TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    source_integration_id TEXT,
    UNIQUE (server_id, integration_alias, action_name)
);

CREATE TABLE mcp_tokens (
    id TEXT PRIMARY KEY,
    server_id TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,              -- 'static' (the server token) or 'end_user'
    token_prefix TEXT NOT NULL,
    end_user_id TEXT,
    scopes TEXT NOT NULL,
    expires_at TEXT,
    created_at TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    revoked_at TEXT
);
CREATE INDEX mcp_tokens_by_server ON mcp_tokens (server_id, created_at);
