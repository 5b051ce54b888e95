-- Readiness: /readyz commits an upsert of this one row, which proves the
-- store takes writes (a full disk or read-only file fails the commit).
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
