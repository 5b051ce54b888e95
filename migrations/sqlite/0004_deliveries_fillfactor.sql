-- Postgres's 0004 leaves room on outbox pages for in-place lease updates
-- (fillfactor). SQLite has no such setting: it rewrites the row within its
-- page either way. This migration keeps the two histories version for
-- version and changes nothing.
SELECT 1;
