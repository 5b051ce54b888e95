-- Target protection, shared by every process on this database: one row
-- per target name. `paused` keeps every delivery of the target pending.
-- The circuit breaker: `circuit` is closed, open or half_open, `failures`
-- counts consecutive failed attempts, `changed_at` is when `circuit` last
-- changed (epoch ms, 0 = never) and `probe_until` is the lease of the one
-- probe a half-open circuit lets out. `tokens` and `refilled_at` are the
-- target's rate budget (a token bucket), taken from in the claim.
CREATE TABLE target_state (
    target      TEXT PRIMARY KEY,
    paused      BOOLEAN NOT NULL DEFAULT FALSE,
    circuit     TEXT NOT NULL DEFAULT 'closed',
    failures    BIGINT NOT NULL DEFAULT 0,
    changed_at  BIGINT NOT NULL DEFAULT 0,
    probe_until BIGINT NOT NULL DEFAULT 0,
    tokens      DOUBLE PRECISION NOT NULL DEFAULT 0,
    refilled_at BIGINT NOT NULL DEFAULT 0
);

-- Ordered delivery: a claim checks, for a candidate with an ordering key,
-- whether another pending delivery of the same target and key came first
-- or is leased; this index answers that with a short range scan.
CREATE INDEX deliveries_ordering ON deliveries (target, ordering_key, id)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;
