-- Files may expire (write_file expiresInSeconds): epoch seconds, NULL = never. Every read filters
-- on it, so an expired file reads as missing at once; the sweeper deletes the rows later.
ALTER TABLE files ADD COLUMN expires_at DOUBLE PRECISION;
CREATE INDEX files_by_expiry ON files (expires_at) WHERE expires_at IS NOT NULL;

-- Exactly-once execute: one row per (workspace, idempotencyKey), written in the same transaction
-- as the action's own changes, holding the first answer (the encoded output) for replays.
CREATE TABLE idempotency_keys (
    workspace_id TEXT COLLATE "C" NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT NOT NULL,
    response BYTEA,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Create or replace a file, with the write's preconditions checked on the locked current row.
-- An expired row counts as absent. o_ok is false on a failed precondition (nothing changed);
-- o_current is then the live file's etag (NULL when there is none). o_replaced is the blob key
-- of the replaced row, to drop after commit. The loop covers a first write racing another first
-- write: ON CONFLICT DO NOTHING finds the row the other committed, and the next round locks it.
CREATE FUNCTION cubby_file_put(
    p_ws TEXT, p_ns TEXT, p_path TEXT, p_size BIGINT, p_type TEXT, p_etag TEXT, p_blob TEXT,
    p_inline BYTEA, p_now_iso TEXT, p_expires DOUBLE PRECISION, p_now DOUBLE PRECISION,
    p_if_match TEXT, p_if_none_match BOOLEAN,
    OUT o_ok BOOLEAN, OUT o_created_at TEXT, OUT o_replaced TEXT, OUT o_current TEXT
) LANGUAGE plpgsql AS $$
DECLARE
    v_etag TEXT;
    v_blob TEXT;
    v_created TEXT;
    v_exp DOUBLE PRECISION;
    v_live BOOLEAN;
BEGIN
    LOOP
        SELECT f.etag, f.blob_key, f.created_at, f.expires_at
        INTO v_etag, v_blob, v_created, v_exp
        FROM files f WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_path
        FOR UPDATE;
        IF FOUND THEN
            v_live := v_exp IS NULL OR v_exp > p_now;
            IF v_live THEN
                o_current := v_etag;
            END IF;
            IF (p_if_match IS NOT NULL AND (NOT v_live OR v_etag <> p_if_match))
               OR (p_if_none_match AND v_live) THEN
                o_ok := FALSE;
                RETURN;
            END IF;
            o_created_at := CASE WHEN v_live THEN v_created ELSE p_now_iso END;
            UPDATE files f SET size = p_size, content_type = p_type, etag = p_etag,
                blob_key = p_blob, inline_body = p_inline, created_at = o_created_at,
                updated_at = p_now_iso, expires_at = p_expires
            WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_path;
            o_ok := TRUE;
            o_replaced := v_blob;
            RETURN;
        END IF;
        IF p_if_match IS NOT NULL THEN
            o_ok := FALSE;
            RETURN;
        END IF;
        INSERT INTO files (workspace_id, ns, path, size, content_type, etag, blob_key,
            inline_body, created_at, updated_at, expires_at)
        VALUES (p_ws, p_ns, p_path, p_size, p_type, p_etag, p_blob, p_inline, p_now_iso,
            p_now_iso, p_expires)
        ON CONFLICT (workspace_id, ns, path) DO NOTHING;
        IF FOUND THEN
            o_ok := TRUE;
            o_created_at := p_now_iso;
            RETURN;
        END IF;
    END LOOP;
END
$$;

-- Rename p_from to p_to in one transaction (the body is not touched). o_status: 'ok',
-- 'missing' (no live source) or 'conflict' (a live target and not p_overwrite). Both rows are
-- locked in path order, so two moves over the same pair cannot deadlock. o_replaced: the blob
-- key of the replaced target (or of an expired one), to drop after commit.
CREATE FUNCTION cubby_file_move(
    p_ws TEXT, p_ns TEXT, p_from TEXT, p_to TEXT, p_overwrite BOOLEAN, p_now_iso TEXT,
    p_now DOUBLE PRECISION,
    OUT o_status TEXT, OUT o_etag TEXT, OUT o_replaced TEXT
) LANGUAGE plpgsql AS $$
DECLARE
    v_src files%ROWTYPE;
    v_dst files%ROWTYPE;
BEGIN
    PERFORM 1 FROM files f WHERE f.workspace_id = p_ws AND f.ns = p_ns
        AND f.path IN (p_from, p_to) ORDER BY f.path FOR UPDATE;
    SELECT * INTO v_src FROM files f
    WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_from;
    IF NOT FOUND OR (v_src.expires_at IS NOT NULL AND v_src.expires_at <= p_now) THEN
        o_status := 'missing';
        RETURN;
    END IF;
    o_etag := v_src.etag;
    IF p_from = p_to THEN
        o_status := 'ok';
        RETURN;
    END IF;
    SELECT * INTO v_dst FROM files f
    WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_to;
    IF FOUND THEN
        IF NOT p_overwrite AND (v_dst.expires_at IS NULL OR v_dst.expires_at > p_now) THEN
            o_status := 'conflict';
            RETURN;
        END IF;
        DELETE FROM files f WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_to;
        o_replaced := v_dst.blob_key;
    END IF;
    BEGIN
        UPDATE files f SET path = p_to, updated_at = p_now_iso
        WHERE f.workspace_id = p_ws AND f.ns = p_ns AND f.path = p_from;
    EXCEPTION WHEN unique_violation THEN
        -- a concurrent first write created the target after our lock round
        o_status := 'conflict';
        o_replaced := NULL;
        RETURN;
    END;
    o_status := 'ok';
END
$$;
