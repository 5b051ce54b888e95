-- Target protection: see the Postgres migration of the same number.
CREATE TABLE target_state (
    target      TEXT PRIMARY KEY,
    paused      BOOLEAN NOT NULL DEFAULT 0,
    circuit     TEXT NOT NULL DEFAULT 'closed',
    failures    INTEGER NOT NULL DEFAULT 0,
    changed_at  INTEGER NOT NULL DEFAULT 0,
    probe_until INTEGER NOT NULL DEFAULT 0,
    tokens      REAL NOT NULL DEFAULT 0,
    refilled_at INTEGER NOT NULL DEFAULT 0
);

-- Ordered delivery: see the Postgres migration of the same number.
CREATE INDEX deliveries_ordering ON deliveries (target, ordering_key, id)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;
