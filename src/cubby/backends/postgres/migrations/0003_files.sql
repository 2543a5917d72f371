-- The file index. Bodies up to CUBBY_STORAGE_INLINE_MAX_BYTES live inline; larger ones live in
-- the blob store under a fresh key per write (blob_key), so an overwrite swaps the row in one
-- commit and a reader sees the old file or the new one, whole. `path` sorts in code point order
-- ("C" collation) so listings and prefix range scans match SQLite's.
CREATE TABLE files (
    workspace_id TEXT COLLATE "C" NOT NULL,
    ns TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    blob_key TEXT,
    inline_body BYTEA,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, ns, path)
);
CREATE INDEX files_by_blob ON files (blob_key) WHERE blob_key IS NOT NULL;
