-- Events: one row per accepted provider event. The unique index on
-- (source, provider_event_id) is the atomic check-and-reserve of the
-- idempotency key. Times are epoch milliseconds set by hookgate.
CREATE TABLE events (
    id                TEXT PRIMARY KEY,
    source            TEXT NOT NULL,
    provider_event_id TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    body_sha256       TEXT NOT NULL,
    body              BLOB NOT NULL,
    headers           TEXT NOT NULL,
    content_type      TEXT,
    received_at       INTEGER NOT NULL,
    routed            INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_source_key ON events (source, provider_event_id);
CREATE INDEX events_received ON events (received_at, id);
CREATE INDEX events_source_received ON events (source, received_at);

-- The transactional outbox: one row per (event, target), written in the
-- event's transaction. A lease (locked_until, lock_owner) marks a delivery
-- as in flight; an expired lease makes it claimable again.
CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    target           TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    locked_until     INTEGER NOT NULL DEFAULT 0,
    lock_owner       TEXT,
    last_status_code INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
CREATE INDEX deliveries_due ON deliveries (target, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_status_target ON deliveries (status, target, id);

-- Every HTTP attempt of a delivery.
CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    status_code      INTEGER,
    error            TEXT,
    response_excerpt TEXT,
    outcome          TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);

-- Requests that reused a stored provider event ID with a different body.
CREATE TABLE conflicts (
    id                TEXT PRIMARY KEY,
    source            TEXT NOT NULL,
    provider_event_id TEXT NOT NULL,
    event_id          TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    stored_sha256     TEXT NOT NULL,
    received_sha256   TEXT NOT NULL,
    body              BLOB NOT NULL,
    headers           TEXT NOT NULL,
    received_at       INTEGER NOT NULL
);
CREATE INDEX conflicts_event ON conflicts (event_id);
CREATE INDEX conflicts_received ON conflicts (received_at, id);
