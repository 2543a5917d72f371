-- Files may expire (write_file expiresInSeconds): epoch seconds, NULL = never. Every read filters
-- on it, so an expired file reads as missing at once; the sweeper deletes the rows later.
ALTER TABLE files ADD COLUMN expires_at REAL;
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;

-- Exactly-once execute: one row per (workspace, idempotencyKey), written in the same transaction
-- as the action's own changes, holding the first answer (the encoded output) for replays.
CREATE TABLE idempotency_keys (
    workspace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,   -- hash of what the first call asked for (action, target, input)
    response BLOB,               -- the encoded output; NULL only inside the writing transaction
    created_at REAL NOT NULL,    -- epoch seconds; replays are served for 24 hours
    PRIMARY KEY (workspace_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
