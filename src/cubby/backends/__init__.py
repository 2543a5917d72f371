"""Storage backends: the metadata database (SQLite or PostgreSQL) and the blob store."""
