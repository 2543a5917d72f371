-- Live usage and limits (issue 25; API.md "Limits and usage").
--
-- usage_counters: one row per workspace (owner '') and one per end user with data (owner
-- 'u:<endUserId>', the end user's namespace). Triggers on the data tables keep them in the
-- same transaction as the write that changes the data, so reading usage is one indexed row and
-- a limit is checked on the counter the write itself has just moved: the writer holds SQLite's
-- write lock (across processes too) from the change to the COMMIT, so no two writes can both
-- pass the same last byte. Counters count stored rows: an expired key or file counts until the
-- sweeper deletes it.
CREATE TABLE usage_counters (
    workspace_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    bytes INTEGER NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    keys INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    end_users INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, owner)
) WITHOUT ROWID;

-- Limits set on a workspace (NULL: the server default applies); the row with workspace_id ''
-- holds the server-wide defaults, which each server writes from its settings at start.
CREATE TABLE usage_limits (
    workspace_id TEXT PRIMARY KEY,
    max_bytes INTEGER,
    max_files INTEGER,
    max_keys INTEGER,
    max_items INTEGER,
    eu_max_bytes INTEGER,
    eu_max_files INTEGER,
    eu_max_keys INTEGER,
    eu_max_items INTEGER,
    requests_per_second REAL,
    burst INTEGER
) WITHOUT ROWID;
INSERT INTO usage_limits (workspace_id) VALUES ('');

-- The shared token bucket of each rate-limited workspace: processes lease tokens from it in
-- batches (core/rate_limit.py), so a request costs no statement.
CREATE TABLE rate_buckets (
    workspace_id TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL,
    granted INTEGER NOT NULL DEFAULT 0  -- what the last lease took (returned by the upsert)
) WITHOUT ROWID;

-- Each counter row with the limit that applies to it (workspace or per-end-user, own or default).
CREATE VIEW usage_effective AS
SELECT u.workspace_id, u.owner, u.bytes, u.files, u.keys, u.items,
    CASE WHEN u.owner = '' THEN coalesce(w.max_bytes, d.max_bytes)
         ELSE coalesce(w.eu_max_bytes, d.eu_max_bytes) END AS max_bytes,
    CASE WHEN u.owner = '' THEN coalesce(w.max_files, d.max_files)
         ELSE coalesce(w.eu_max_files, d.eu_max_files) END AS max_files,
    CASE WHEN u.owner = '' THEN coalesce(w.max_keys, d.max_keys)
         ELSE coalesce(w.eu_max_keys, d.eu_max_keys) END AS max_keys,
    CASE WHEN u.owner = '' THEN coalesce(w.max_items, d.max_items)
         ELSE coalesce(w.eu_max_items, d.eu_max_items) END AS max_items
FROM usage_counters u
LEFT JOIN usage_limits w ON w.workspace_id = u.workspace_id
LEFT JOIN usage_limits d ON d.workspace_id = '';

-- A growth (delta > 0) that leaves a counter above its limit calls cubby_refuse(), a function
-- every connection registers (backends/sqlite/usage.py): it raises, which aborts the statement,
-- so the write and the counters' change are undone together. A shrink is never refused.
-- Inserts and size changes upsert the counter rows; deletes only update them, so deleting a
-- workspace's rows after the workspace (workspaces.py) does not bring its counters back.
CREATE TRIGGER kv_entries_usage_insert AFTER INSERT ON kv_entries BEGIN
    INSERT INTO usage_counters (workspace_id, owner, keys, bytes)
    VALUES (NEW.workspace_id, '', 1, NEW.size)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET keys = keys + 1, bytes = bytes + excluded.bytes;
    INSERT INTO usage_counters (workspace_id, owner, keys, bytes)
    SELECT NEW.workspace_id, NEW.ns, 1, NEW.size WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET keys = keys + 1, bytes = bytes + excluded.bytes;
    SELECT cubby_refuse(owner, resource, lim, used, requested) FROM (
        SELECT owner, 'keys' AS resource, max_keys AS lim, keys - 1 AS used, 1 AS requested
        FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
          AND keys > max_keys
        UNION ALL
        SELECT owner, 'bytes', max_bytes, bytes - NEW.size, NEW.size
        FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
          AND NEW.size > 0 AND bytes > max_bytes
    ) LIMIT 1;
END;

CREATE TRIGGER kv_entries_usage_update AFTER UPDATE OF size ON kv_entries
WHEN NEW.size <> OLD.size BEGIN
    INSERT INTO usage_counters (workspace_id, owner, bytes)
    VALUES (NEW.workspace_id, '', NEW.size - OLD.size)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET bytes = bytes + excluded.bytes;
    INSERT INTO usage_counters (workspace_id, owner, bytes)
    SELECT NEW.workspace_id, NEW.ns, NEW.size - OLD.size WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET bytes = bytes + excluded.bytes;
    SELECT cubby_refuse(owner, 'bytes', max_bytes, bytes - (NEW.size - OLD.size),
                        NEW.size - OLD.size)
    FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
      AND NEW.size > OLD.size AND bytes > max_bytes
    LIMIT 1;
END;

CREATE TRIGGER kv_entries_usage_delete AFTER DELETE ON kv_entries BEGIN
    UPDATE usage_counters SET keys = keys - 1, bytes = bytes - OLD.size
    WHERE workspace_id = OLD.workspace_id AND owner IN ('', OLD.ns);
END;

CREATE TRIGGER files_usage_insert AFTER INSERT ON files BEGIN
    INSERT INTO usage_counters (workspace_id, owner, files, bytes)
    VALUES (NEW.workspace_id, '', 1, NEW.size)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
    INSERT INTO usage_counters (workspace_id, owner, files, bytes)
    SELECT NEW.workspace_id, NEW.ns, 1, NEW.size WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
    SELECT cubby_refuse(owner, resource, lim, used, requested) FROM (
        SELECT owner, 'files' AS resource, max_files AS lim, files - 1 AS used, 1 AS requested
        FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
          AND files > max_files
        UNION ALL
        SELECT owner, 'bytes', max_bytes, bytes - NEW.size, NEW.size
        FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
          AND NEW.size > 0 AND bytes > max_bytes
    ) LIMIT 1;
END;

CREATE TRIGGER files_usage_update AFTER UPDATE OF size ON files
WHEN NEW.size <> OLD.size BEGIN
    INSERT INTO usage_counters (workspace_id, owner, bytes)
    VALUES (NEW.workspace_id, '', NEW.size - OLD.size)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET bytes = bytes + excluded.bytes;
    INSERT INTO usage_counters (workspace_id, owner, bytes)
    SELECT NEW.workspace_id, NEW.ns, NEW.size - OLD.size WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET bytes = bytes + excluded.bytes;
    SELECT cubby_refuse(owner, 'bytes', max_bytes, bytes - (NEW.size - OLD.size),
                        NEW.size - OLD.size)
    FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
      AND NEW.size > OLD.size AND bytes > max_bytes
    LIMIT 1;
END;

CREATE TRIGGER files_usage_delete AFTER DELETE ON files BEGIN
    UPDATE usage_counters SET files = files - 1, bytes = bytes - OLD.size
    WHERE workspace_id = OLD.workspace_id AND owner IN ('', OLD.ns);
END;

-- Agent-tool items (migrations/0017): memory entities, scratchpad pages and thoughts.
CREATE TRIGGER memory_entities_usage_insert AFTER INSERT ON memory_entities BEGIN
    INSERT INTO usage_counters (workspace_id, owner, items) VALUES (NEW.workspace_id, '', 1)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    INSERT INTO usage_counters (workspace_id, owner, items)
    SELECT NEW.workspace_id, NEW.ns, 1 WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    SELECT cubby_refuse(owner, 'items', max_items, items - 1, 1)
    FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
      AND items > max_items
    LIMIT 1;
END;

CREATE TRIGGER memory_entities_usage_delete AFTER DELETE ON memory_entities BEGIN
    UPDATE usage_counters SET items = items - 1
    WHERE workspace_id = OLD.workspace_id AND owner IN ('', OLD.ns);
END;

CREATE TRIGGER scratch_pages_usage_insert AFTER INSERT ON scratch_pages BEGIN
    INSERT INTO usage_counters (workspace_id, owner, items) VALUES (NEW.workspace_id, '', 1)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    INSERT INTO usage_counters (workspace_id, owner, items)
    SELECT NEW.workspace_id, NEW.ns, 1 WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    SELECT cubby_refuse(owner, 'items', max_items, items - 1, 1)
    FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
      AND items > max_items
    LIMIT 1;
END;

CREATE TRIGGER scratch_pages_usage_delete AFTER DELETE ON scratch_pages BEGIN
    UPDATE usage_counters SET items = items - 1
    WHERE workspace_id = OLD.workspace_id AND owner IN ('', OLD.ns);
END;

CREATE TRIGGER thoughts_usage_insert AFTER INSERT ON thoughts BEGIN
    INSERT INTO usage_counters (workspace_id, owner, items) VALUES (NEW.workspace_id, '', 1)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    INSERT INTO usage_counters (workspace_id, owner, items)
    SELECT NEW.workspace_id, NEW.ns, 1 WHERE substr(NEW.ns, 1, 2) = 'u:'
    ON CONFLICT (workspace_id, owner) DO UPDATE SET items = items + 1;
    SELECT cubby_refuse(owner, 'items', max_items, items - 1, 1)
    FROM usage_effective WHERE workspace_id = NEW.workspace_id AND owner IN ('', NEW.ns)
      AND items > max_items
    LIMIT 1;
END;

CREATE TRIGGER thoughts_usage_delete AFTER DELETE ON thoughts BEGIN
    UPDATE usage_counters SET items = items - 1
    WHERE workspace_id = OLD.workspace_id AND owner IN ('', OLD.ns);
END;

CREATE TRIGGER end_users_usage_insert AFTER INSERT ON end_users BEGIN
    INSERT INTO usage_counters (workspace_id, owner, end_users) VALUES (NEW.workspace_id, '', 1)
    ON CONFLICT (workspace_id, owner) DO UPDATE SET end_users = end_users + 1;
END;

CREATE TRIGGER end_users_usage_delete AFTER DELETE ON end_users BEGIN
    UPDATE usage_counters SET end_users = end_users - 1
    WHERE workspace_id = OLD.workspace_id AND owner = '';
END;

CREATE TRIGGER workspaces_usage_delete AFTER DELETE ON workspaces BEGIN
    DELETE FROM usage_counters WHERE workspace_id = OLD.id;
    DELETE FROM usage_limits WHERE workspace_id = OLD.id;
    DELETE FROM rate_buckets WHERE workspace_id = OLD.id;
END;

-- Existing installations: count what is there once (`cubby usage --recount` does the same).
INSERT INTO usage_counters (workspace_id, owner, bytes, files, keys, items, end_users)
SELECT workspace_id, owner, sum(bytes), sum(files), sum(keys), sum(items),
    sum(end_users) FROM (
    SELECT workspace_id, '' AS owner, size AS bytes, 0 AS files, 1 AS keys, 0 AS items,
        0 AS end_users FROM kv_entries
    UNION ALL
    SELECT workspace_id, ns, size, 0, 1, 0, 0 FROM kv_entries WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', size, 1, 0, 0, 0 FROM files
    UNION ALL
    SELECT workspace_id, ns, size, 1, 0, 0, 0 FROM files WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM memory_entities
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM memory_entities WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM scratch_pages
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM scratch_pages WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 1, 0 FROM thoughts
    UNION ALL
    SELECT workspace_id, ns, 0, 0, 0, 1, 0 FROM thoughts WHERE substr(ns, 1, 2) = 'u:'
    UNION ALL
    SELECT workspace_id, '', 0, 0, 0, 0, 1 FROM end_users
    UNION ALL
    SELECT id, '', 0, 0, 0, 0, 0 FROM workspaces
) GROUP BY workspace_id, owner;
