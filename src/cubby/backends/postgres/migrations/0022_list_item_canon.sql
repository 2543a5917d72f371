-- List items whose canonical form predates "numbers compare by value" (issue 28 item 8: 1.0 is
-- 1) get it recomputed. BLAKE2b hashes and canonical JSON are computed in Python, so this
-- migration is a step in code that runs in this migration's transaction, right after this
-- file: backends/<backend>/list_rehash.py (rehash_list_items), listed in MIGRATION_STEPS.
SELECT 1;
