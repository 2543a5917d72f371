"""The embedded default metadata store: one SQLite file in WAL mode."""
