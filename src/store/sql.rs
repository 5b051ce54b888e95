//! The SQL both backends share. Placeholders are `$n`, which SQLite also
//! understands.

pub const INSERT_EVENT: &str = "INSERT INTO events (id, source, provider_event_id, event_type, \
    body_sha256, body, headers, content_type, received_at, routed) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (source, provider_event_id) DO NOTHING";
pub const INSERT_DELIVERY: &str = "INSERT INTO deliveries (id, event_id, target, status, \
    attempts, next_attempt_at, locked_until, created_at, updated_at) \
    VALUES ($1, $2, $3, 'pending', 0, $4, 0, $4, $4)";
pub const FIND_BY_KEY: &str =
    "SELECT id, body_sha256, routed FROM events WHERE source = $1 AND provider_event_id = $2";
pub const INSERT_CONFLICT: &str = "INSERT INTO conflicts (id, source, provider_event_id, \
    event_id, stored_sha256, received_sha256, body, headers, received_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const CLAIMED_ROWS: &str = "SELECT d.id AS delivery_id, d.event_id, d.target, \
    d.attempts AS attempt, e.source, e.event_type, e.provider_event_id, e.content_type, e.body \
    FROM deliveries d JOIN events e ON e.id = d.event_id \
    WHERE d.lock_owner = $1 AND d.id IN ";
pub const RECORD_DELIVERY: &str = "UPDATE deliveries SET status = $1, next_attempt_at = $2, \
    locked_until = 0, lock_owner = NULL, last_status_code = $3, last_error = $4, \
    updated_at = $5, delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END \
    WHERE id = $6 AND lock_owner = $7 AND status = 'pending'";
pub const INSERT_ATTEMPT: &str = "INSERT INTO attempts (delivery_id, attempt, started_at, \
    duration_ms, status_code, error, response_excerpt, outcome) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub const RELEASE: &str = "UPDATE deliveries SET locked_until = 0, lock_owner = NULL, \
    attempts = attempts - 1 WHERE lock_owner = $1 AND status = 'pending' AND id IN ";
pub const BACKLOG: &str = "SELECT target, COUNT(*) AS pending, MIN(created_at) AS \
    oldest_created_at FROM deliveries WHERE status = 'pending' GROUP BY target";
pub const EVENT: &str = "SELECT id, source, provider_event_id, event_type, body_sha256, body, \
    headers, content_type, received_at, routed FROM events WHERE id = $1";
pub const DELIVERIES_OF: &str = "SELECT d.id, d.event_id, d.target, d.status, d.attempts, \
    d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, \
    d.delivered_at FROM deliveries d WHERE d.event_id = $1 ORDER BY d.id";
pub const ATTEMPTS_OF: &str = "SELECT a.delivery_id, a.attempt, a.started_at, a.duration_ms, \
    a.status_code, a.error, a.response_excerpt, a.outcome FROM attempts a \
    JOIN deliveries d ON d.id = a.delivery_id WHERE d.event_id = $1 ORDER BY a.id";
pub const LIST_EVENTS: &str = "SELECT * FROM (SELECT e.id, e.source, e.provider_event_id, \
    e.event_type, e.received_at, CAST(LENGTH(e.body) AS BIGINT) AS size, \
    CASE WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'dead') \
    THEN 'failed' \
    WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending') \
    THEN 'pending' \
    WHEN EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) THEN 'delivered' \
    ELSE 'unrouted' END AS status \
    FROM events e \
    WHERE (CAST($1 AS TEXT) IS NULL OR e.source = $1) \
    AND (CAST($2 AS TEXT) IS NULL OR e.event_type LIKE $2 ESCAPE '\\') \
    AND (CAST($3 AS BIGINT) IS NULL OR e.received_at >= $3) \
    AND (CAST($4 AS BIGINT) IS NULL OR e.received_at < $4) \
    AND (CAST($5 AS TEXT) IS NULL OR e.id < $5)) x \
    WHERE (CAST($6 AS TEXT) IS NULL OR x.status = $6) \
    ORDER BY x.id DESC LIMIT $7";
pub const LIST_DELIVERIES: &str = "SELECT d.id, d.event_id, d.target, d.status, d.attempts, \
    d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, \
    d.delivered_at FROM deliveries d \
    WHERE (CAST($1 AS TEXT) IS NULL OR d.status = $1) \
    AND (CAST($2 AS TEXT) IS NULL OR d.target = $2) \
    AND (CAST($3 AS TEXT) IS NULL OR d.id < $3) \
    ORDER BY d.id DESC LIMIT $4";
pub const LIST_CONFLICTS: &str = "SELECT id, source, provider_event_id, event_id, \
    stored_sha256, received_sha256, received_at FROM conflicts \
    WHERE (CAST($1 AS TEXT) IS NULL OR source = $1) AND (CAST($2 AS TEXT) IS NULL OR id < $2) \
    ORDER BY id DESC LIMIT $3";
pub const RETRY_ONE: &str = "UPDATE deliveries SET status = 'pending', attempts = 0, \
    next_attempt_at = $2, locked_until = 0, lock_owner = NULL, updated_at = $2 \
    WHERE id = $1 AND status = 'dead'";
pub const DELIVERY_STATUS: &str = "SELECT status FROM deliveries WHERE id = $1";
pub const RETRY_DEAD: &str = "UPDATE deliveries SET status = 'pending', attempts = 0, \
    next_attempt_at = $1, locked_until = 0, lock_owner = NULL, updated_at = $1 \
    WHERE status = 'dead' AND (CAST($2 AS TEXT) IS NULL OR target = $2)";
pub const SOURCE_COUNTS: &str = "SELECT source AS key, 'events' AS sub, COUNT(*) AS count \
    FROM events GROUP BY source UNION ALL \
    SELECT source AS key, 'conflicts' AS sub, COUNT(*) AS count FROM conflicts GROUP BY source";
pub const DELIVERY_COUNTS: &str = "SELECT target AS key, status AS sub, COUNT(*) AS count \
    FROM deliveries GROUP BY target, status";
pub const ATTEMPT_TOTALS: &str = "SELECT d.target, COUNT(*) AS attempts, \
    CAST(SUM(CASE WHEN a.outcome = 'delivered' THEN 1 ELSE 0 END) AS BIGINT) AS succeeded \
    FROM attempts a JOIN deliveries d ON d.id = a.delivery_id GROUP BY d.target";
pub const LAST_ERROR: &str = "SELECT a.error, a.status_code, a.started_at AS at \
    FROM attempts a JOIN deliveries d ON d.id = a.delivery_id \
    WHERE d.target = $1 AND a.outcome <> 'delivered' ORDER BY a.id DESC LIMIT 1";
pub const PRUNE_EVENTS: &str = "DELETE FROM events WHERE id IN (SELECT e.id FROM events e \
    WHERE e.received_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries d \
    WHERE d.event_id = e.id AND d.status = 'pending') ORDER BY e.received_at LIMIT $2)";
pub const PRUNE_CONFLICTS: &str = "DELETE FROM conflicts WHERE id IN (SELECT id FROM conflicts \
    WHERE received_at < $1 ORDER BY received_at LIMIT $2)";
pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM events), \
    (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM attempts), \
    (SELECT COUNT(*) FROM conflicts)";

/// `($first, $first+1, ...)` for an `IN` list of `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// Readiness probe: a one-row upsert that must reach the disk to commit.
pub const HEARTBEAT: &str = "INSERT INTO heartbeat (id, at) VALUES (1, $1) \
    ON CONFLICT (id) DO UPDATE SET at = excluded.at";
