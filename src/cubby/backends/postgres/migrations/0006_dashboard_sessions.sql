-- Dashboard sign-in sessions (issue 11). The cookie carries a random id; only its SHA-256 is
-- stored. A session belongs to one API key and is looked up joined to it, so revoking (or
-- expiring) the key ends its sessions at once, on every process.
CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    key_id TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX dashboard_sessions_by_key ON dashboard_sessions (key_id);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);
