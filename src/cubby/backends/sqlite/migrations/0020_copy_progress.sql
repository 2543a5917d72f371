-- `cubby copy` (issue 24): the high-water mark of each table copied into this database, written
-- in the same transaction as the rows it covers, so a copy killed at any point continues where
-- its last committed batch ended. Never copied itself. The marks go when a pass completes; the
-- `source` row (the source's organisation id) stays, so a later run (the tail, after the source
-- server stopped) may write into this non-empty database again.
CREATE TABLE copy_progress (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
