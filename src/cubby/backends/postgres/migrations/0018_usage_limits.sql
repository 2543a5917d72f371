-- Live usage and limits (issue 25; API.md "Limits and usage"). The SQLite twin of this file
-- says the same in more words.
--
-- usage_counters: one row per workspace (owner '') and one per end user with data (owner
-- 'u:<endUserId>'). Triggers on the data tables move them inside the writing transaction, and
-- a growth is checked on the counter row the write has just updated: that row stays locked
-- until the write commits, so concurrent writers of one workspace (any process, any replica)
-- take turns on it and never both pass the same last byte. A refusal raises SQLSTATE CQ001
-- (DETAIL: the JSON details of QUOTA_EXCEEDED), which undoes the write with its counters.
-- Lock order is always the workspace row, then the end user's row (deletes of many rows visit
-- the rows sorted), so two writers cannot deadlock on counters.
CREATE TABLE usage_counters (
    workspace_id TEXT COLLATE "C" NOT NULL,
    owner TEXT COLLATE "C" NOT NULL,
    bytes BIGINT NOT NULL DEFAULT 0,
    files BIGINT NOT NULL DEFAULT 0,
    keys BIGINT NOT NULL DEFAULT 0,
    items BIGINT NOT NULL DEFAULT 0,
    end_users BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, owner)
);

-- Limits set on a workspace (NULL: the server default applies); workspace_id '' holds the
-- server-wide defaults, which each server writes from its settings at start.
CREATE TABLE usage_limits (
    workspace_id TEXT COLLATE "C" PRIMARY KEY,
    max_bytes BIGINT,
    max_files BIGINT,
    max_keys BIGINT,
    max_items BIGINT,
    eu_max_bytes BIGINT,
    eu_max_files BIGINT,
    eu_max_keys BIGINT,
    eu_max_items BIGINT,
    requests_per_second DOUBLE PRECISION,
    burst BIGINT
);
INSERT INTO usage_limits (workspace_id) VALUES ('');

-- The shared token bucket of each rate-limited workspace (core/rate_limit.py leases from it).
CREATE TABLE rate_buckets (
    workspace_id TEXT COLLATE "C" PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    granted BIGINT NOT NULL DEFAULT 0  -- what the last lease took (returned by the upsert)
);

-- Add deltas to the workspace's counters and, for an end user's namespace, to theirs; refuse a
-- growth that leaves a counter above its limit. p_create: upsert (inserts and size changes) or
-- only update (deletes: a deleted workspace's counters must not come back).
CREATE FUNCTION cubby_usage_add(
    p_ws TEXT, p_ns TEXT, p_bytes BIGINT, p_files BIGINT, p_keys BIGINT, p_items BIGINT,
    p_create BOOLEAN
) RETURNS VOID LANGUAGE plpgsql AS $$
DECLARE
    v_owner TEXT;
    v_eu BOOLEAN;
    c RECORD;
    l RECORD;
BEGIN
    FOREACH v_owner IN ARRAY CASE WHEN left(p_ns, 2) = 'u:' THEN ARRAY['', p_ns]
                                  ELSE ARRAY[''] END LOOP
        IF p_create THEN
            INSERT INTO usage_counters AS u (workspace_id, owner, bytes, files, keys, items)
            VALUES (p_ws, v_owner, p_bytes, p_files, p_keys, p_items)
            ON CONFLICT (workspace_id, owner) DO UPDATE SET bytes = u.bytes + EXCLUDED.bytes,
                files = u.files + EXCLUDED.files, keys = u.keys + EXCLUDED.keys,
                items = u.items + EXCLUDED.items
            RETURNING u.bytes, u.files, u.keys, u.items INTO c;
        ELSE
            UPDATE usage_counters u SET bytes = u.bytes + p_bytes, files = u.files + p_files,
                keys = u.keys + p_keys, items = u.items + p_items
            WHERE u.workspace_id = p_ws AND u.owner = v_owner
            RETURNING u.bytes, u.files, u.keys, u.items INTO c;
        END IF;
        CONTINUE WHEN NOT FOUND OR NOT (p_bytes > 0 OR p_files > 0 OR p_keys > 0 OR p_items > 0);
        v_eu := v_owner <> '';
        SELECT CASE WHEN v_eu THEN coalesce(w.eu_max_bytes, d.eu_max_bytes)
                    ELSE coalesce(w.max_bytes, d.max_bytes) END AS bytes,
               CASE WHEN v_eu THEN coalesce(w.eu_max_files, d.eu_max_files)
                    ELSE coalesce(w.max_files, d.max_files) END AS files,
               CASE WHEN v_eu THEN coalesce(w.eu_max_keys, d.eu_max_keys)
                    ELSE coalesce(w.max_keys, d.max_keys) END AS keys,
               CASE WHEN v_eu THEN coalesce(w.eu_max_items, d.eu_max_items)
                    ELSE coalesce(w.max_items, d.max_items) END AS items
        INTO l
        FROM usage_limits d LEFT JOIN usage_limits w ON w.workspace_id = p_ws
        WHERE d.workspace_id = '';
        IF p_keys > 0 AND c.keys > l.keys THEN
            PERFORM cubby_refuse(v_eu, 'keys', l.keys, c.keys - p_keys, p_keys);
        ELSIF p_files > 0 AND c.files > l.files THEN
            PERFORM cubby_refuse(v_eu, 'files', l.files, c.files - p_files, p_files);
        ELSIF p_items > 0 AND c.items > l.items THEN
            PERFORM cubby_refuse(v_eu, 'items', l.items, c.items - p_items, p_items);
        ELSIF p_bytes > 0 AND c.bytes > l.bytes THEN
            PERFORM cubby_refuse(v_eu, 'bytes', l.bytes, c.bytes - p_bytes, p_bytes);
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION cubby_refuse(
    p_eu BOOLEAN, p_resource TEXT, p_limit BIGINT, p_used BIGINT, p_requested BIGINT
) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'CQ001', MESSAGE = 'quota exceeded',
        DETAIL = json_build_object('limit', p_limit, 'used', p_used, 'requested', p_requested,
            'scope', CASE WHEN p_eu THEN 'end_user' ELSE 'workspace' END,
            'resource', p_resource)::text;
END
$$;

-- Row triggers for inserts and size changes (single rows on every write path).
CREATE FUNCTION cubby_kv_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM cubby_usage_add(NEW.workspace_id, NEW.ns, NEW.size, 0, 1, 0, TRUE);
    ELSE
        PERFORM cubby_usage_add(NEW.workspace_id, NEW.ns, NEW.size - OLD.size, 0, 0, 0, TRUE);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION cubby_files_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM cubby_usage_add(NEW.workspace_id, NEW.ns, NEW.size, 1, 0, 0, TRUE);
    ELSE
        PERFORM cubby_usage_add(NEW.workspace_id, NEW.ns, NEW.size - OLD.size, 0, 0, 0, TRUE);
    END IF;
    RETURN NULL;
END
$$;

-- Statement triggers for deletes (erase, sweeps and batch deletes remove many rows at once):
-- one update per counter row, visited in (workspace, owner) order.
CREATE FUNCTION cubby_usage_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
    v_files BIGINT := CASE WHEN TG_TABLE_NAME = 'files' THEN 1 ELSE 0 END;
BEGIN
    FOR r IN
        SELECT g.workspace_id, g.owner, sum(g.size) AS bytes, count(*) AS n FROM (
            SELECT workspace_id, ''::text COLLATE "C" AS owner, size FROM gone
            UNION ALL
            SELECT workspace_id, ns, size FROM gone WHERE left(ns, 2) = 'u:'
        ) g GROUP BY g.workspace_id, g.owner ORDER BY g.workspace_id, g.owner
    LOOP
        UPDATE usage_counters SET bytes = bytes - r.bytes, files = files - r.n * v_files,
            keys = keys - r.n * (1 - v_files)
        WHERE workspace_id = r.workspace_id AND owner = r.owner;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER kv_entries_usage_insert AFTER INSERT ON kv_entries
    FOR EACH ROW EXECUTE FUNCTION cubby_kv_usage_row();
CREATE TRIGGER kv_entries_usage_update AFTER UPDATE OF size ON kv_entries
    FOR EACH ROW WHEN (NEW.size <> OLD.size) EXECUTE FUNCTION cubby_kv_usage_row();
CREATE TRIGGER kv_entries_usage_delete AFTER DELETE ON kv_entries
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cubby_usage_deleted();
CREATE TRIGGER files_usage_insert AFTER INSERT ON files
    FOR EACH ROW EXECUTE FUNCTION cubby_files_usage_row();
CREATE TRIGGER files_usage_update AFTER UPDATE OF size ON files
    FOR EACH ROW WHEN (NEW.size <> OLD.size) EXECUTE FUNCTION cubby_files_usage_row();
CREATE TRIGGER files_usage_delete AFTER DELETE ON files
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cubby_usage_deleted();

-- Agent-tool items (migrations/0017): memory entities, scratchpad pages and thoughts.
CREATE FUNCTION cubby_items_usage_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cubby_usage_add(NEW.workspace_id, NEW.ns, 0, 0, 0, 1, TRUE);
    RETURN NULL;
END
$$;

CREATE FUNCTION cubby_items_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    FOR r IN
        SELECT g.workspace_id, g.owner, count(*) AS n FROM (
            SELECT workspace_id, ''::text COLLATE "C" AS owner FROM gone
            UNION ALL
            SELECT workspace_id, ns FROM gone WHERE left(ns, 2) = 'u:'
        ) g GROUP BY g.workspace_id, g.owner ORDER BY g.workspace_id, g.owner
    LOOP
        UPDATE usage_counters SET items = items - r.n
        WHERE workspace_id = r.workspace_id AND owner = r.owner;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_entities_usage_insert AFTER INSERT ON memory_entities
    FOR EACH ROW EXECUTE FUNCTION cubby_items_usage_row();
CREATE TRIGGER memory_entities_usage_delete AFTER DELETE ON memory_entities
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cubby_items_deleted();
CREATE TRIGGER scratch_pages_usage_insert AFTER INSERT ON scratch_pages
    FOR EACH ROW EXECUTE FUNCTION cubby_items_usage_row();
CREATE TRIGGER scratch_pages_usage_delete AFTER DELETE ON scratch_pages
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cubby_items_deleted();
CREATE TRIGGER thoughts_usage_insert AFTER INSERT ON thoughts
    FOR EACH ROW EXECUTE FUNCTION cubby_items_usage_row();
CREATE TRIGGER thoughts_usage_delete AFTER DELETE ON thoughts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cubby_items_deleted();

CREATE FUNCTION cubby_end_users_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO usage_counters AS u (workspace_id, owner, end_users)
        VALUES (NEW.workspace_id, '', 1)
        ON CONFLICT (workspace_id, owner) DO UPDATE SET end_users = u.end_users + 1;
    ELSE
        UPDATE usage_counters SET end_users = end_users - 1
        WHERE workspace_id = OLD.workspace_id AND owner = '';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER end_users_usage AFTER INSERT OR DELETE ON end_users
    FOR EACH ROW EXECUTE FUNCTION cubby_end_users_usage();

CREATE FUNCTION cubby_workspace_usage_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM usage_counters WHERE workspace_id = OLD.id;
    DELETE FROM usage_limits WHERE workspace_id = OLD.id;
    DELETE FROM rate_buckets WHERE workspace_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER workspaces_usage_delete AFTER DELETE ON workspaces
    FOR EACH ROW EXECUTE FUNCTION cubby_workspace_usage_deleted();

-- Existing installations: count what is there once (`cubby usage --recount` does the same).
INSERT INTO usage_counters (workspace_id, owner, bytes, files, keys, items, end_users)
SELECT workspace_id, owner, sum(bytes), sum(files), sum(keys), sum(items),
    sum(end_users) FROM (
    SELECT workspace_id, ''::text COLLATE "C" AS owner, size AS bytes, 0 AS files, 1 AS keys,
        0 AS items, 0 AS end_users FROM kv_entries
    UNION ALL
    SELECT workspace_id, ns, size, 0, 1, 0, 0 FROM kv_entries WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', size, 1, 0, 0, 0 FROM files
    UNION ALL
    SELECT workspace_id, ns, size, 1, 0, 0, 0 FROM files WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM memory_entities
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM memory_entities WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM scratch_pages
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM scratch_pages WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM thoughts
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM thoughts WHERE left(ns, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 0, 1 FROM end_users
    UNION ALL
    SELECT id, '', 0, 0, 0, 0, 0 FROM workspaces
) x GROUP BY workspace_id, owner;

-- Erasing a namespace reports bytes as the usage counters count them: file bodies and KV values
-- (it reported the files' bytes only). Same statements as 0008's, plus the keys' sizes.
CREATE OR REPLACE FUNCTION cubby_erase_namespace(
    p_ws TEXT, p_ns TEXT,
    OUT o_keys BIGINT, OUT o_files BIGINT, OUT o_bytes BIGINT, OUT o_blobs TEXT[]
) LANGUAGE plpgsql AS $$
DECLARE
    v_kv_bytes BIGINT;
BEGIN
    WITH k AS (DELETE FROM kv_entries WHERE workspace_id = p_ws AND ns = p_ns RETURNING size)
    SELECT count(*), coalesce(sum(size), 0) INTO o_keys, v_kv_bytes FROM k;
    DELETE FROM kv_list_items WHERE workspace_id = p_ws AND ns = p_ns;
    WITH f AS (
        DELETE FROM files WHERE workspace_id = p_ws AND ns = p_ns RETURNING size, blob_key
    ) SELECT count(*), coalesce(sum(size), 0),
             coalesce(array_agg(blob_key) FILTER (WHERE blob_key IS NOT NULL), '{}')
      INTO o_files, o_bytes, o_blobs FROM f;
    o_bytes := o_bytes + v_kv_bytes;
END
$$;
