-- End users (API.md, "End users"): optional records of the end users a workspace serves.
-- `external_id` is the endUserId of action execution, unique per workspace; the data of an
-- end user lives in the `u:<external_id>` namespace of each data table, with or without a record.
CREATE TABLE end_users (
    id TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id TEXT COLLATE "C" NOT NULL,
    display_name TEXT,
    email TEXT,
    metadata TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (workspace_id, external_id)
);
CREATE INDEX end_users_by_created ON end_users (workspace_id, created_at, id);

-- Remove everything one namespace holds, in one transaction: KV keys (and their list items)
-- and files (returning the blob keys to drop after commit). Each statement of a VOLATILE
-- function takes a fresh snapshot (migrations/0002_kv.sql explains why that matters): the
-- entries go first, waiting for any append holding a key's row, so the items DELETE after it
-- also sees the items such an append committed meanwhile. Every DELETE is a range scan on a
-- (workspace_id, ns, ...) index.
CREATE FUNCTION cubby_erase_namespace(
    p_ws TEXT, p_ns TEXT,
    OUT o_keys BIGINT, OUT o_files BIGINT, OUT o_bytes BIGINT, OUT o_blobs TEXT[]
) LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kv_entries WHERE workspace_id = p_ws AND ns = p_ns;
    GET DIAGNOSTICS o_keys = ROW_COUNT;
    DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns;
    WITH f AS (
        DELETE FROM files WHERE workspace_id = p_ws AND ns = p_ns RETURNING size, blob_key
    ) SELECT count(*), coalesce(sum(size), 0),
             coalesce(array_agg(blob_key) FILTER (WHERE blob_key IS NOT NULL), '{}')
      INTO o_files, o_bytes, o_blobs FROM f;
END
$$;
