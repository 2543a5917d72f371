-- add_to_list is capped by item count like a list put (issue 16, item 9): an append to a live
-- list that already holds p_max items or more changes nothing. The check is the upsert's own
-- WHERE, evaluated on the locked row, so concurrent appends at the cap take turns and the list
-- never grows past it. A list made longer before the cap stays readable, removable and
-- deletable; only growing it is refused.
DROP FUNCTION cubby_kv_append(
    TEXT, TEXT, TEXT, TEXT, TEXT, BIGINT, BIGINT, DOUBLE PRECISION, DOUBLE PRECISION, TEXT);

-- Append one item (a missing or expired key becomes a new list). o_status: 'ok'; 'not_list'
-- when the key holds a live non-list; 'full' when the live list has p_max items or more
-- (o_length is then its length). Only 'ok' changed anything. p_expires NULL keeps a live
-- list's expiry.
CREATE FUNCTION cubby_kv_append(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_text TEXT, p_canon TEXT, p_hash BIGINT,
    p_bytes BIGINT, p_expires DOUBLE PRECISION, p_max BIGINT, p_now DOUBLE PRECISION,
    p_updated TEXT,
    OUT o_status TEXT, OUT o_length BIGINT, OUT o_version BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    v_is_list BOOLEAN;
BEGIN
    INSERT INTO kv_entries AS e (workspace_id, ns, key, is_list, value, length, size, version,
                                 expires_at, updated_at)
    VALUES (p_ws, p_ns, p_key, TRUE, NULL, 1, 2 + p_bytes, 1, p_expires, p_updated)
    ON CONFLICT (workspace_id, ns, key) DO UPDATE SET
        is_list = TRUE,
        value = NULL,
        length = CASE WHEN e.expires_at <= p_now THEN 1 ELSE e.length + 1 END,
        size = CASE WHEN e.expires_at <= p_now OR e.length = 0 THEN 2 + p_bytes
                    ELSE e.size + p_bytes + 1 END,
        version = e.version + 1,
        expires_at = CASE WHEN e.expires_at <= p_now THEN p_expires
                          ELSE coalesce(p_expires, e.expires_at) END,
        updated_at = excluded.updated_at
    WHERE (e.is_list AND e.length < p_max) OR e.expires_at <= p_now
    RETURNING e.length, e.version INTO o_length, o_version;
    IF NOT FOUND THEN
        -- ON CONFLICT DO UPDATE locks the row even when its WHERE is false, so this reads the
        -- row that was refused, as it still is.
        SELECT e.is_list, e.length INTO v_is_list, o_length
        FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key;
        o_status := CASE WHEN v_is_list THEN 'full' ELSE 'not_list' END;
        RETURN;
    END IF;
    IF o_length = 1 THEN  -- a fresh list: drop what an expired value left behind
        DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    END IF;
    INSERT INTO kv_list_items (workspace_id, ns, key, value, canon, value_hash)
    VALUES (p_ws, p_ns, p_key, p_text, p_canon, p_hash);
    o_status := 'ok';
END
$$;
