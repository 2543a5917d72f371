-- KV Store beyond the seed (issue 14) and list items kept as sent (issue 16).
-- version: grows by one on every change of a key (1 when created); ifVersion compares it.
-- expires_at: epoch seconds (the clock of cubby.core.clock), NULL = never. An expired row is
--   missing to every statement that reads it; the sweeper deletes it later.
-- size: bytes of the value's JSON text as `get` returns it, maintained by every write, so
--   list_keys never reads values or items.
ALTER TABLE kv_entries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE kv_entries ADD COLUMN expires_at REAL;
ALTER TABLE kv_entries ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE kv_entries SET size = CASE
    WHEN is_list = 0 THEN length(CAST(value AS BLOB))
    ELSE 2 + max(length - 1, 0) + coalesce((
        SELECT sum(length(CAST(i.value AS BLOB))) FROM kv_list_items i
        WHERE i.workspace_id = kv_entries.workspace_id AND i.ns = kv_entries.ns
          AND i.key = kv_entries.key), 0)
END;
CREATE INDEX kv_entries_expiring ON kv_entries (expires_at) WHERE expires_at IS NOT NULL;

-- kv_list_items.value now holds the item's compact JSON exactly as the client sent it; canon
-- holds its canonical form (what value_hash hashes and removes compare) when that differs.
-- Items written before this migration are canonical already (canon NULL is right for them).
ALTER TABLE kv_list_items ADD COLUMN canon TEXT;
