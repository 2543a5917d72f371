-- KV Store data: one row per key; a list keeps its items in kv_list_items, one row per item in
-- append order (bigserial id), so appends and removes never rewrite the list.
--
-- Concurrency under READ COMMITTED with many processes: every write to a key first locks its
-- kv_entries row (the upsert or SELECT ... FOR UPDATE below); item rows are touched only while
-- holding that lock. The multi-step writes are PL/pgSQL functions (one round trip) because each
-- statement in a VOLATILE function takes a fresh snapshot: after waiting for the lock, the
-- following DELETE sees items a concurrent append committed meanwhile. A single statement with
-- CTEs would not (all its parts share one snapshot).
CREATE TABLE kv_entries (
    workspace_id TEXT COLLATE "C" NOT NULL,
    ns TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    is_list BOOLEAN NOT NULL DEFAULT FALSE,
    value TEXT,
    length BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace_id, ns, key)
);

CREATE TABLE kv_list_items (
    id BIGSERIAL PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL,
    ns TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    value TEXT NOT NULL,          -- canonical JSON (sorted object keys, no whitespace)
    value_hash BIGINT NOT NULL    -- 63-bit hash of `value`, so removes find items by index
);
CREATE INDEX kv_list_items_by_key ON kv_list_items (workspace_id, ns, key, id);
CREATE INDEX kv_list_items_by_value ON kv_list_items (workspace_id, ns, key, value_hash);

-- Replace the value at a key. p_items is NULL for a non-list value, else the canonical items.
CREATE FUNCTION cubby_kv_put(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_value TEXT, p_items TEXT[], p_hashes BIGINT[],
    p_now TEXT
) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kv_entries AS e (workspace_id, ns, key, is_list, value, length, updated_at)
    VALUES (p_ws, p_ns, p_key, p_items IS NOT NULL,
            CASE WHEN p_items IS NULL THEN p_value END, coalesce(cardinality(p_items), 0), p_now)
    ON CONFLICT (workspace_id, ns, key) DO UPDATE SET
        is_list = excluded.is_list, value = excluded.value, length = excluded.length,
        updated_at = excluded.updated_at;
    DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    IF p_items IS NOT NULL THEN
        INSERT INTO kv_list_items (workspace_id, ns, key, value, value_hash)
        SELECT p_ws, p_ns, p_key, t.v, t.h
        FROM unnest(p_items, p_hashes) WITH ORDINALITY AS t (v, h, n)
        ORDER BY t.n;
    END IF;
END
$$;

-- Delete a key and its items; true when it existed.
CREATE FUNCTION cubby_kv_delete(p_ws TEXT, p_ns TEXT, p_key TEXT)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kv_entries WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    RETURN TRUE;
END
$$;

-- Remove every item equal to p_item. o_is_list is false when the key holds a non-list value
-- (nothing changed); a missing key is an empty list.
CREATE FUNCTION cubby_kv_remove(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_item TEXT, p_hash BIGINT, p_now TEXT,
    OUT o_is_list BOOLEAN, OUT o_removed BIGINT, OUT o_length BIGINT
) LANGUAGE plpgsql AS $$
BEGIN
    o_removed := 0;
    SELECT e.is_list, e.length INTO o_is_list, o_length
    FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
    FOR UPDATE;
    IF NOT FOUND THEN
        o_is_list := TRUE;
        o_length := 0;
        RETURN;
    END IF;
    IF NOT o_is_list THEN
        RETURN;
    END IF;
    DELETE FROM kv_list_items
    WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key
      AND value_hash = p_hash AND value = p_item;
    GET DIAGNOSTICS o_removed = ROW_COUNT;
    IF o_removed > 0 THEN
        UPDATE kv_entries e SET length = e.length - o_removed, updated_at = p_now
        WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
        RETURNING e.length INTO o_length;
    END IF;
END
$$;
