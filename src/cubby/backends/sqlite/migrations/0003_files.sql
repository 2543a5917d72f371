-- The file index. Bodies up to CUBBY_STORAGE_INLINE_MAX_BYTES live inline; larger ones live in
-- the blob store under a fresh key per write (blob_key), so an overwrite swaps the row in one
-- commit and a reader sees the old file or the new one, whole.
CREATE TABLE files (
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag TEXT NOT NULL,
    blob_key TEXT,
    inline_body BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX files_by_path ON files (workspace_id, ns, path);
CREATE INDEX files_by_blob ON files (blob_key) WHERE blob_key IS NOT NULL;
