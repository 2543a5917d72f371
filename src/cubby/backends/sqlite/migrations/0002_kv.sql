-- One row per key. A key holding a list keeps its items in kv_list_items (one row per item, in
-- append order by id), so appends and removes are single-row statements that never rewrite the
-- list; `length` is maintained in the same transaction.
CREATE TABLE kv_entries (
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    is_list INTEGER NOT NULL DEFAULT 0,
    value TEXT,
    length INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, ns, key)
) WITHOUT ROWID;

CREATE TABLE kv_list_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,          -- canonical JSON (sorted object keys, no whitespace)
    value_hash INTEGER NOT NULL   -- 63-bit hash of `value`, so removes find items by index
);
CREATE INDEX kv_list_items_by_key ON kv_list_items (workspace_id, ns, key, id);
CREATE INDEX kv_list_items_by_value ON kv_list_items (workspace_id, ns, key, value_hash);
