-- KV Store beyond the seed (issue 14) and list items kept as sent (issue 16).
-- version: grows by one on every change of a key (1 when created); ifVersion compares it.
-- expires_at: epoch seconds (the clock of cubby.core.clock, passed in as p_now), NULL = never.
--   An expired row is missing to every function and query below; cubby_kv_sweep deletes it.
-- size: bytes of the value's JSON text as `get` returns it, kept by every write, so list_keys
--   never reads values or items.
-- kv_list_items.value now holds an item's compact JSON exactly as the client sent it; canon its
-- canonical form (what value_hash hashes and removes compare) when that differs. Items written
-- before this migration are canonical already, so canon NULL is right for them.
--
-- Every function locks the key's kv_entries row (SELECT ... FOR UPDATE or the upsert) before it
-- touches item rows; each statement of a VOLATILE function takes a fresh snapshot, so after the
-- lock the following statements see everything committed before it (migrations/0002_kv.sql).
ALTER TABLE kv_entries
    ADD COLUMN version BIGINT NOT NULL DEFAULT 1,
    ADD COLUMN expires_at DOUBLE PRECISION,
    ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE kv_entries e SET size = CASE
    WHEN NOT e.is_list THEN octet_length(e.value)
    ELSE 2 + greatest(e.length - 1, 0) + coalesce((
        SELECT sum(octet_length(i.value)) FROM kv_list_items i
        WHERE i.workspace_id = e.workspace_id AND i.ns = e.ns AND i.key = e.key), 0)
END;
CREATE INDEX kv_entries_expiring ON kv_entries (expires_at) WHERE expires_at IS NOT NULL;
ALTER TABLE kv_list_items ADD COLUMN canon TEXT;

DROP FUNCTION cubby_kv_put(TEXT, TEXT, TEXT, TEXT, TEXT[], BIGINT[], TEXT);
DROP FUNCTION cubby_kv_delete(TEXT, TEXT, TEXT);
DROP FUNCTION cubby_kv_remove(TEXT, TEXT, TEXT, TEXT, BIGINT, TEXT);

-- Replace the value at a key. p_items is NULL for a non-list value, else the items as sent
-- (p_canons/p_hashes alongside). p_if_version: NULL = unconditional, 0 = only when the key is
-- missing (or expired), n = only when it is at version n; else o_ok is false, nothing changed,
-- and o_version is the current version.
CREATE FUNCTION cubby_kv_put(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_value TEXT, p_items TEXT[], p_canons TEXT[],
    p_hashes BIGINT[], p_size BIGINT, p_expires DOUBLE PRECISION, p_if_version BIGINT,
    p_now DOUBLE PRECISION, p_updated TEXT,
    OUT o_ok BOOLEAN, OUT o_version BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    v_version BIGINT;
    v_exp DOUBLE PRECISION;
    v_is_list BOOLEAN;
    v_current BIGINT;
BEGIN
    LOOP
        SELECT e.version, e.expires_at, e.is_list INTO v_version, v_exp, v_is_list
        FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
        FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_if_version IS NOT NULL AND p_if_version <> 0 THEN
            o_ok := FALSE;
            o_version := 0;
            RETURN;
        END IF;
        INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, size, version,
                                expires_at, updated_at)
        VALUES (p_ws, p_ns, p_key, p_items IS NOT NULL,
                CASE WHEN p_items IS NULL THEN p_value END, coalesce(cardinality(p_items), 0),
                p_size, 1, p_expires, p_updated)
        ON CONFLICT (workspace_id, ns, key) DO NOTHING;
        IF FOUND THEN
            v_version := 0;
            v_is_list := FALSE;
            EXIT;
        END IF;
        -- created by a concurrent writer meanwhile: lock that row and decide again
    END LOOP;
    IF v_version > 0 THEN
        v_current := CASE WHEN v_exp IS NULL OR v_exp > p_now THEN v_version ELSE 0 END;
        IF p_if_version IS NOT NULL AND p_if_version <> v_current THEN
            o_ok := FALSE;
            o_version := v_current;
            RETURN;
        END IF;
        UPDATE kv_entries e SET
            is_list = p_items IS NOT NULL, value = CASE WHEN p_items IS NULL THEN p_value END,
            length = coalesce(cardinality(p_items), 0), size = p_size,
            version = v_version + 1, expires_at = p_expires, updated_at = p_updated
        WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key;
        IF v_is_list THEN
            DELETE FROM kv_list_items
            WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
        END IF;
    END IF;
    IF p_items IS NOT NULL THEN
        INSERT INTO kv_list_items (workspace_id, ns, key, value, canon, value_hash)
        SELECT p_ws, p_ns, p_key, t.v, t.c, t.h
        FROM unnest(p_items, p_canons, p_hashes) WITH ORDINALITY AS t (v, c, h, n)
        ORDER BY t.n;
    END IF;
    o_ok := TRUE;
    o_version := v_version + 1;
END
$$;

-- Append one item (a missing or expired key becomes a new list). o_ok is false when the key
-- holds a live non-list (nothing changed). p_expires NULL keeps a live list's expiry.
CREATE FUNCTION cubby_kv_append(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_text TEXT, p_canon TEXT, p_hash BIGINT,
    p_bytes BIGINT, p_expires DOUBLE PRECISION, p_now DOUBLE PRECISION, p_updated TEXT,
    OUT o_ok BOOLEAN, OUT o_length BIGINT, OUT o_version BIGINT
) LANGUAGE plpgsql AS $$
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
    WHERE e.is_list OR e.expires_at <= p_now
    RETURNING e.length, e.version INTO o_length, o_version;
    IF NOT FOUND THEN
        o_ok := FALSE;
        RETURN;
    END IF;
    IF o_length = 1 THEN  -- a fresh list: drop what an expired value left behind
        DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    END IF;
    INSERT INTO kv_list_items (workspace_id, ns, key, value, canon, value_hash)
    VALUES (p_ws, p_ns, p_key, p_text, p_canon, p_hash);
    o_ok := TRUE;
END
$$;

-- Delete a key and its items; true when it existed and had not expired.
CREATE FUNCTION cubby_kv_delete(p_ws TEXT, p_ns TEXT, p_key TEXT, p_now DOUBLE PRECISION)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    v_is_list BOOLEAN;
    v_exp DOUBLE PRECISION;
BEGIN
    DELETE FROM kv_entries WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key
    RETURNING is_list, expires_at INTO v_is_list, v_exp;
    IF NOT FOUND THEN
        RETURN FALSE;
    END IF;
    IF v_is_list THEN
        DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    END IF;
    RETURN v_exp IS NULL OR v_exp > p_now;
END
$$;

-- Remove every item whose canonical form is p_canon. o_is_list is false when the key holds a
-- live non-list value (nothing changed); a missing or expired key is an empty list.
CREATE FUNCTION cubby_kv_remove(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_canon TEXT, p_hash BIGINT, p_now DOUBLE PRECISION,
    p_updated TEXT,
    OUT o_is_list BOOLEAN, OUT o_removed BIGINT, OUT o_length BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    v_exp DOUBLE PRECISION;
    v_bytes BIGINT;
BEGIN
    o_removed := 0;
    SELECT e.is_list, e.length, e.expires_at INTO o_is_list, o_length, v_exp
    FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
    FOR UPDATE;
    IF NOT FOUND OR v_exp <= p_now THEN
        o_is_list := TRUE;
        o_length := 0;
        RETURN;
    END IF;
    IF NOT o_is_list THEN
        RETURN;
    END IF;
    WITH d AS (
        DELETE FROM kv_list_items
        WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key
          AND value_hash = p_hash AND coalesce(canon, value) = p_canon
        RETURNING octet_length(value) AS n
    ) SELECT count(*), coalesce(sum(n), 0) INTO o_removed, v_bytes FROM d;
    IF o_removed > 0 THEN
        o_length := o_length - o_removed;
        UPDATE kv_entries e SET
            length = o_length,
            size = CASE WHEN o_length = 0 THEN 2 ELSE e.size - v_bytes - o_removed END,
            version = e.version + 1, updated_at = p_updated
        WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key;
    END IF;
END
$$;

-- Add p_by (a JSON number's text; p_by_int when it is an integer) to the number at a key, a
-- missing or expired key counting as 0, under the row lock: one call, no lost update. Integer
-- plus integer stays an exact integer (numeric); anything else is float8, written with a
-- fraction or exponent so it reads back as a float. o_status: 'ok', 'nan' (the value is not a
-- number; nothing changed) or 'range' (the result leaves float8 / MAX_INTEGER_DIGITS).
CREATE FUNCTION cubby_kv_increment(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_by TEXT, p_by_int BOOLEAN, p_max_digits INT,
    p_now DOUBLE PRECISION, p_updated TEXT,
    OUT o_status TEXT, OUT o_value TEXT, OUT o_version BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    v_value TEXT;
    v_is_list BOOLEAN;
    v_version BIGINT;
    v_exp DOUBLE PRECISION;
    v_current TEXT;
BEGIN
    LOOP
        SELECT e.value, e.is_list, e.version, e.expires_at
        INTO v_value, v_is_list, v_version, v_exp
        FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
        FOR UPDATE;
        EXIT WHEN FOUND;
        o_value := CASE WHEN p_by_int THEN (p_by::numeric)::text ELSE NULL END;
        IF o_value IS NULL THEN
            o_value := (p_by::float8)::text;
            IF o_value !~ '[.eEn]' THEN
                o_value := o_value || '.0';
            END IF;
        END IF;
        INSERT INTO kv_entries (workspace_id, ns, key, is_list, value, length, size, version,
                                expires_at, updated_at)
        VALUES (p_ws, p_ns, p_key, FALSE, o_value, 0, octet_length(o_value), 1, NULL, p_updated)
        ON CONFLICT (workspace_id, ns, key) DO NOTHING;
        IF FOUND THEN
            o_status := 'ok';
            o_version := 1;
            RETURN;
        END IF;
    END LOOP;
    IF v_exp IS NULL OR v_exp > p_now THEN
        IF v_is_list THEN
            o_status := 'nan';
            RETURN;
        END IF;
        v_current := btrim(v_value);
    ELSE
        v_current := '0';
        v_exp := NULL;
    END IF;
    IF v_current !~ '^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$' THEN
        o_status := 'nan';
        RETURN;
    END IF;
    IF p_by_int AND v_current ~ '^-?(0|[1-9][0-9]*)$' THEN
        IF length(v_current) > p_max_digits THEN
            o_status := 'range';
            RETURN;
        END IF;
        o_value := (v_current::numeric + p_by::numeric)::text;
    ELSE
        BEGIN
            o_value := (v_current::float8 + p_by::float8)::text;
        EXCEPTION WHEN numeric_value_out_of_range THEN
            o_status := 'range';
            RETURN;
        END;
        IF o_value !~ '[.eEn]' THEN
            o_value := o_value || '.0';
        END IF;
    END IF;
    UPDATE kv_entries e SET
        is_list = FALSE, value = o_value, length = 0, size = octet_length(o_value),
        version = v_version + 1, expires_at = v_exp, updated_at = p_updated
    WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key;
    IF v_is_list THEN  -- an expired list turned into a number
        DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns AND key = p_key;
    END IF;
    o_status := 'ok';
    o_version := v_version + 1;
END
$$;

-- Delete up to p_limit expired keys (and their items); returns how many. Rows a writer holds
-- are skipped (the next round gets them), and a row a writer revived is left alone.
CREATE FUNCTION cubby_kv_sweep(p_now DOUBLE PRECISION, p_limit INT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_count BIGINT;
BEGIN
    WITH s AS (
        SELECT workspace_id, ns, key FROM kv_entries
        WHERE expires_at <= p_now LIMIT p_limit FOR UPDATE SKIP LOCKED
    ), d AS (
        DELETE FROM kv_entries e USING s
        WHERE e.workspace_id = s.workspace_id AND e.ns = s.ns AND e.key = s.key
          AND e.expires_at <= p_now
        RETURNING e.workspace_id, e.ns, e.key, e.is_list
    ), i AS (
        DELETE FROM kv_list_items i USING d
        WHERE d.is_list AND i.workspace_id = d.workspace_id AND i.ns = d.ns AND i.key = d.key
    ) SELECT count(*) INTO v_count FROM d;
    RETURN v_count;
END
$$;
