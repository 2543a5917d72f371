-- The KV get as a function (was a statement in kv.py), for cubby behind a transaction-mode
-- pooler (``prepared_statements=false``): there every statement is parsed and planned on each
-- run, and planning this one (a lookup plus the list's items) cost about as much as running it.
-- A PL/pgSQL function keeps the plans of its statements in the server session, so each run
-- plans only the trivial call. Direct connections measured the same either way, so both modes
-- call it. One row always: o_version IS NULL when the key is missing or expired.
CREATE FUNCTION cubby_kv_get(
    p_ws TEXT, p_ns TEXT, p_key TEXT, p_now DOUBLE PRECISION,
    OUT o_is_list BOOLEAN, OUT o_value TEXT, OUT o_version BIGINT,
    OUT o_expires_at DOUBLE PRECISION, OUT o_items TEXT
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT e.is_list, e.value, e.version, e.expires_at, CASE WHEN e.is_list THEN (
        SELECT string_agg(i.value, ',' ORDER BY i.id) FROM kv_list_items i
        WHERE i.workspace_id = p_ws AND i.ns = p_ns AND i.key = p_key) END
    INTO o_is_list, o_value, o_version, o_expires_at, o_items
    FROM kv_entries e WHERE e.workspace_id = p_ws AND e.ns = p_ns AND e.key = p_key
        AND (e.expires_at IS NULL OR e.expires_at > p_now);
END
$$;
