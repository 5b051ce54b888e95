//! Persistence: one `Store` enum over SQLite and Postgres with the same
//! methods. Each method owns its transaction; callers never see SQL.
//!
//! The write paths that matter:
//! - [`Store::ingest`]: the event and one outbox row per routed target in one
//!   transaction; the unique index on (source, provider_event_id) is the
//!   atomic check-and-reserve of the idempotency key.
//! - [`Store::claim`] / [`Store::record`]: the dispatcher leases due
//!   deliveries in one short statement, sends with no transaction open, then
//!   records the attempt only if it still holds the lease.

use bytes::Bytes;
use serde::Serialize;

use crate::config::DatabaseConfig;
use crate::ids::{DeliveryId, EventId};
use crate::providers::Verified;

pub mod postgres;
mod shared;
pub mod sqlite;

use shared::shared_methods;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The store cannot take writes now (down, pool exhausted, disk full,
    /// locked): the caller should retry later. Ingest answers 503.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
    #[error("store error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::Protocol(_) => {
                Error::Unavailable(e.to_string())
            }
            E::RowNotFound => Error::NotFound,
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite: BUSY, LOCKED, IOERR, FULL, CANTOPEN (primary codes,
                // extended codes keep the primary in the low byte). Postgres:
                // connection exceptions (08), insufficient resources (53),
                // operator intervention (57), lock timeouts (55P03).
                let sqlite_transient = code
                    .parse::<i32>()
                    .map(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14))
                    .unwrap_or(false);
                let pg_transient = code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57")
                    || code == "55P03"
                    || code == "40001"
                    || code == "40P01";
                if sqlite_transient || pg_transient {
                    Error::Unavailable(e.to_string())
                } else {
                    Error::Internal(e.to_string())
                }
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration failed: {e}"))
    }
}

/// An event ready to be stored: only obtainable from a [`Verified`] request.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub source: String,
    pub provider_event_id: String,
    pub event_type: String,
    pub body_sha256: String,
    pub body: Bytes,
    /// JSON array of `[name, value]` pairs, secret headers already removed.
    pub headers: String,
    pub content_type: Option<String>,
    pub received_at: i64,
    pub deliveries: Vec<(DeliveryId, String)>,
}

impl NewEvent {
    pub fn from_verified(
        verified: &Verified,
        source: &str,
        body: Bytes,
        headers: String,
        content_type: Option<String>,
        targets: Vec<String>,
        received_at: i64,
    ) -> NewEvent {
        use sha2::Digest;
        NewEvent {
            id: EventId::generate(received_at),
            source: source.to_string(),
            provider_event_id: verified.provider_event_id().to_string(),
            event_type: verified.event_type().to_string(),
            body_sha256: hex::encode(sha2::Sha256::digest(&body)),
            body,
            headers,
            content_type,
            received_at,
            deliveries: targets
                .into_iter()
                .map(|t| (DeliveryId::generate(received_at), t))
                .collect(),
        }
    }
}

/// What the check-and-reserve of an idempotency key decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// New: stored with this many deliveries.
    Accepted { event_id: String, deliveries: i64 },
    /// Same key and same body as a stored event: nothing new stored.
    Duplicate { event_id: String, deliveries: i64 },
    /// Same key, different body: recorded as a conflict, nothing delivered.
    Conflict {
        event_id: String,
        conflict_id: String,
    },
}

/// A delivery leased to one dispatcher, with what it needs to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub delivery_id: String,
    pub event_id: String,
    pub target: String,
    /// The number of this attempt (1 for the first).
    pub attempt: i64,
    pub source: String,
    pub event_type: String,
    pub provider_event_id: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// A lease request: up to `limit` due deliveries of `target`.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub target: &'a str,
    pub limit: i64,
    pub now: i64,
    pub lease_until: i64,
    pub owner: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Retry { next_attempt_at: i64 },
    Dead,
}

impl AttemptOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Dead => "dead",
        }
    }

    fn delivery_status(&self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "pending",
            AttemptOutcome::Dead => "dead",
        }
    }

    fn next_attempt_at(&self, now: i64) -> i64 {
        match self {
            AttemptOutcome::Retry { next_attempt_at } => *next_attempt_at,
            _ => now,
        }
    }
}

/// One finished HTTP attempt, recorded only while its lease is held.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: String,
    pub owner: String,
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub outcome: AttemptOutcome,
    pub finished_at: i64,
}

/// Outbox depth of one target, for the `hookgate_outbox_*` gauges.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Backlog {
    pub target: String,
    pub pending: i64,
    pub oldest_created_at: Option<i64>,
}

/// A stored event, with its raw body and headers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_type: String,
    pub body_sha256: String,
    pub body: Vec<u8>,
    /// JSON array of `[name, value]` pairs.
    pub headers: String,
    pub content_type: Option<String>,
    pub received_at: i64,
    pub routed: i64,
}

/// A delivery as operators see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub target: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
}

/// One recorded HTTP attempt.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub outcome: String,
}

/// One line of the admin events list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventSummary {
    pub id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_type: String,
    pub received_at: i64,
    pub size: i64,
    /// `pending`, `delivered`, `failed` (a delivery is dead) or `unrouted`.
    pub status: String,
}

/// Filters of the admin events list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub source: Option<String>,
    /// A SQL `LIKE` pattern (the admin API turns `*` globs into one).
    pub type_like: Option<String>,
    pub status: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only events whose ID sorts before this one (the page cursor).
    pub before: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<String>,
    pub target: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
}

/// A refused same-ID, different-body request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConflictRow {
    pub id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_id: String,
    pub stored_sha256: String,
    pub received_sha256: String,
    pub received_at: i64,
}

/// A count grouped by two keys (target and status, source and nothing...).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct GroupCount {
    pub key: String,
    pub sub: String,
    pub count: i64,
}

/// Attempts of one target and how many of them succeeded.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptTotals {
    pub target: String,
    pub attempts: i64,
    pub succeeded: i64,
}

/// The latest failed attempt of a target.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LastError {
    pub error: Option<String>,
    pub status_code: Option<i64>,
    pub at: i64,
}

/// What retrying one delivery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    Requeued,
    NotDead(String),
    NotFound,
}

/// Counts for tests and operators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub events: i64,
    pub deliveries: i64,
    pub attempts: i64,
    pub conflicts: i64,
}

pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

/// Forwards a call to whichever backend this store is.
macro_rules! both {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

impl Store {
    /// Opens the database named by `database.url` (creating a SQLite file and
    /// its folder when missing). Does not migrate.
    pub async fn connect(config: &DatabaseConfig) -> Result<Store> {
        if config.url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::SqliteStore::connect(config).await?))
        } else {
            Ok(Store::Postgres(
                postgres::PostgresStore::connect(config).await?,
            ))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        both!(self, s => s.migrate().await)
    }

    /// Whether the store answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        both!(self, s => s.ping().await)
    }

    /// Stores a new event with its deliveries, or decides duplicate/conflict.
    /// On SQLite this goes through group commit (see [`sqlite`]).
    pub async fn ingest(&self, event: &NewEvent) -> Result<IngestOutcome> {
        match self {
            Store::Sqlite(s) => s.ingest(event).await,
            Store::Postgres(p) => {
                let mut outcomes = p.ingest_batch(std::slice::from_ref(event)).await?;
                outcomes
                    .pop()
                    .ok_or_else(|| Error::Internal("ingest produced no outcome".into()))
            }
        }
    }

    /// [`Store::ingest`] for several events in one transaction, sharing one
    /// commit (and one fsync) between them.
    /// Outcomes come in the order of `events`; a duplicate within the batch
    /// is answered as a duplicate of the earlier one.
    pub async fn ingest_batch(&self, events: &[NewEvent]) -> Result<Vec<IngestOutcome>> {
        both!(self, s => s.ingest_batch(events).await)
    }

    /// Leases up to `limit` due deliveries of one target.
    pub async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
        both!(self, s => s.claim(req).await)
    }

    /// Records an attempt and its outcome; `false` when the lease was lost
    /// (the delivery belongs to someone else now) and nothing was written.
    pub async fn record(&self, rec: &AttemptRecord) -> Result<bool> {
        both!(self, s => s.record(rec).await)
    }

    /// Gives unsent leased deliveries back (shutdown), undoing their attempt
    /// count. Returns how many were released.
    pub async fn release(&self, owner: &str, delivery_ids: &[String]) -> Result<u64> {
        both!(self, s => s.release(owner, delivery_ids).await)
    }

    pub async fn backlog(&self) -> Result<Vec<Backlog>> {
        both!(self, s => s.backlog().await)
    }

    pub async fn event(&self, event_id: &str) -> Result<Option<EventRow>> {
        both!(self, s => s.event(event_id).await)
    }

    /// The deliveries of one event, oldest first.
    pub async fn deliveries_of(&self, event_id: &str) -> Result<Vec<DeliveryRow>> {
        both!(self, s => s.deliveries_of(event_id).await)
    }

    /// Every attempt of one event's deliveries, in order.
    pub async fn attempts_of(&self, event_id: &str) -> Result<Vec<AttemptRow>> {
        both!(self, s => s.attempts_of(event_id).await)
    }

    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventSummary>> {
        both!(self, s => s.list_events(filter).await)
    }

    pub async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRow>> {
        both!(self, s => s.list_deliveries(filter).await)
    }

    pub async fn list_conflicts(
        &self,
        source: Option<&str>,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ConflictRow>> {
        both!(self, s => s.list_conflicts(source, before, limit).await)
    }

    /// New pending deliveries of a stored event (an operator's replay).
    pub async fn add_deliveries(
        &self,
        event_id: &str,
        deliveries: &[(DeliveryId, String)],
        now: i64,
    ) -> Result<()> {
        both!(self, s => s.add_deliveries(event_id, deliveries, now).await)
    }

    /// Puts one dead delivery back to pending with a fresh attempt budget.
    pub async fn retry_delivery(&self, delivery_id: &str, now: i64) -> Result<RetryOutcome> {
        both!(self, s => s.retry_delivery(delivery_id, now).await)
    }

    /// Puts every dead delivery (of one target, if named) back to pending.
    pub async fn retry_dead(&self, target: Option<&str>, now: i64) -> Result<u64> {
        both!(self, s => s.retry_dead(target, now).await)
    }

    /// Events per source (`key` = source, `sub` = "events" or "conflicts").
    pub async fn source_counts(&self) -> Result<Vec<GroupCount>> {
        both!(self, s => s.source_counts().await)
    }

    /// Deliveries per target and status.
    pub async fn delivery_counts(&self) -> Result<Vec<GroupCount>> {
        both!(self, s => s.delivery_counts().await)
    }

    pub async fn attempt_totals(&self) -> Result<Vec<AttemptTotals>> {
        both!(self, s => s.attempt_totals().await)
    }

    pub async fn last_error(&self, target: &str) -> Result<Option<LastError>> {
        both!(self, s => s.last_error(target).await)
    }

    /// Deletes up to `batch` events received before `cutoff` whose
    /// deliveries are all finished (with their deliveries, attempts and
    /// conflicts), and old conflicts. Returns the rows deleted.
    pub async fn prune(&self, cutoff: i64, batch: i64) -> Result<u64> {
        both!(self, s => s.prune(cutoff, batch).await)
    }

    pub async fn counts(&self) -> Result<Counts> {
        both!(self, s => s.counts().await)
    }

    pub async fn close(&self) {
        both!(self, s => s.close().await)
    }
}

/// The SQL both backends share. Placeholders are `$n`, which SQLite also
/// understands.
mod sql {
    pub const INSERT_EVENT: &str =
        "INSERT INTO events (id, source, provider_event_id, event_type, \
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
    pub const PRUNE_CONFLICTS: &str =
        "DELETE FROM conflicts WHERE id IN (SELECT id FROM conflicts \
        WHERE received_at < $1 ORDER BY received_at LIMIT $2)";
    pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM events), \
        (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM attempts), \
        (SELECT COUNT(*) FROM conflicts)";

    /// `($first, $first+1, ...)` for an `IN` list of `n` values.
    pub fn placeholders(first: usize, n: usize) -> String {
        let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
        format!("({})", list.join(", "))
    }
}
