//! Persistence: one `Store` enum over SQLite and Postgres with the same
//! methods. Each method owns its transaction; callers never see SQL.
//!
//! The write paths that matter:
//! - [`Store::ingest`]: the event and one outbox row per routed target in one
//!   transaction; the unique index on (source, provider_event_id) is the
//!   atomic check-and-reserve of the idempotency key. Concurrent requests are
//!   group-committed, each answered only after the commit that holds it.
//! - [`Store::claim_many`] / [`Store::record_many`]: the dispatcher leases due
//!   deliveries in one short statement, sends with no transaction open, then
//!   records the attempt only if it still holds the lease.
//!
//! Rooms: `model` (what goes in and out), `error`, `availability` (one log
//! line when the store stops answering, one when it is back), [`sql`]
//! (statements both backends share), `writes` (write operations on one
//! connection), `reads` (read methods), and one module per backend that owns
//! its transactions ([`sqlite`]'s single writer task, [`postgres`]'s pool).

use crate::config::DatabaseConfig;
use crate::ids::DeliveryId;

mod availability;
mod error;
mod model;
pub mod postgres;
mod reads;
/// Public (hidden) so tests can `EXPLAIN` the lookups operators rely on
/// being indexed.
#[doc(hidden)]
pub mod sql;
pub mod sqlite;
mod status;
pub mod targets;
mod writes;

pub use error::{Error, Result};
pub use model::*;

pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

/// Forwards a call to whichever backend this store is, and notes its
/// outcome for the availability log: `both!(self, s => ...)` for a read,
/// `both!(write self, s => ...)` for a call that commits a write.
macro_rules! both {
    ($self:ident, $s:ident => $call:expr) => {
        both!(@ Read, $self, $s => $call)
    };
    (write $self:ident, $s:ident => $call:expr) => {
        both!(@ Write, $self, $s => $call)
    };
    (@ $kind:ident, $self:ident, $s:ident => $call:expr) => {{
        let started = std::time::Instant::now();
        let result = match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        };
        $self
            .availability()
            .observe(availability::Call::$kind, started, &result);
        result
    }};
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
        both!(write self, s => s.migrate().await)
    }

    /// Whether the store can commit a write now (`/readyz`): a small write is
    /// committed, and on SQLite the writer's latest batch must have committed.
    pub async fn probe(&self) -> Result<()> {
        both!(write self, s => s.probe().await)
    }

    /// Stores a new event with its deliveries, or decides duplicate/conflict.
    /// Concurrent calls are group-committed.
    pub async fn ingest(&self, event: &NewEvent) -> Result<IngestOutcome> {
        both!(write self, s => s.ingest(event).await)
    }

    /// [`Store::ingest`] for several events in one transaction, sharing one
    /// commit (and one fsync) between them.
    /// Outcomes come in the order of `events`; a duplicate within the batch
    /// is answered as a duplicate of the earlier one.
    pub async fn ingest_batch(&self, events: &[NewEvent]) -> Result<Vec<IngestOutcome>> {
        both!(write self, s => s.ingest_batch(events).await)
    }

    /// Leases up to `limit` due deliveries for each of several targets, in
    /// one transaction, as far as each target's protection admits (see
    /// [`targets`]); answers in the order of `requests`.
    pub async fn claim_many(&self, requests: &[ClaimRequest<'_>]) -> Result<Vec<Claim>> {
        both!(write self, s => s.claim_many(requests).await)
    }

    /// Records attempts and their outcomes in one transaction, and feeds
    /// them to their targets' circuit breakers; for each, in the order of
    /// `records`, `false` when its lease was lost (the delivery belongs to
    /// someone else now) and nothing was written for it.
    pub async fn record_many(&self, records: &[AttemptRecord]) -> Result<Recorded> {
        both!(write self, s => s.record_many(records).await)
    }

    /// Pauses or resumes a target, for every process sharing the store.
    pub async fn set_paused(&self, target: &str, paused: bool) -> Result<()> {
        both!(write self, s => s.set_paused(target, paused).await)
    }

    /// Ordering keys of `target` with deliveries waiting behind their
    /// first pending one (at most 20, oldest first).
    pub async fn blocked_keys(&self, target: &str) -> Result<Vec<BlockedKey>> {
        both!(self, s => s.blocked_keys(target).await)
    }

    /// The protection state of every target that has one (pause, circuit).
    pub async fn target_states(&self) -> Result<Vec<TargetState>> {
        both!(self, s => s.target_states().await)
    }

    /// Gives unsent leased deliveries back (shutdown), undoing their attempt
    /// count. Returns how many were released.
    pub async fn release(&self, owner: &str, delivery_ids: &[DeliveryId]) -> Result<u64> {
        both!(write self, s => s.release(owner, delivery_ids).await)
    }

    pub async fn backlog(&self) -> Result<Vec<Backlog>> {
        both!(self, s => s.backlog().await)
    }

    /// One target's pending deliveries, counted up to `cap`, and the
    /// creation time of the oldest: bounded work whatever the backlog.
    pub async fn target_backlog(&self, target: &str, cap: i64) -> Result<TargetBacklog> {
        both!(self, s => s.target_backlog(target, cap).await)
    }

    pub async fn event(&self, event_id: &str) -> Result<Option<EventRow>> {
        both!(self, s => s.event(event_id).await)
    }

    /// The status of one event, from its deliveries, as the events list
    /// shows it; `None` when there is no such event.
    pub async fn event_status(&self, event_id: &str) -> Result<Option<EventStatus>> {
        both!(self, s => s.event_status(event_id).await)
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
        deliveries: &[NewDelivery],
        now: i64,
    ) -> Result<()> {
        both!(write self, s => s.add_deliveries(event_id, deliveries, now).await)
    }

    /// Puts one dead delivery back to pending with a fresh attempt budget.
    pub async fn retry_delivery(&self, delivery_id: &str, now: i64) -> Result<RetryOutcome> {
        both!(write self, s => s.retry_delivery(delivery_id, now).await)
    }

    /// [`Store::list_events`] narrowed to one provider event ID, answered
    /// from an index on that ID.
    pub async fn list_events_by_provider_id(
        &self,
        filter: &EventFilter,
        provider_event_id: &str,
    ) -> Result<Vec<EventSummary>> {
        both!(self, s => s.list_events_by_provider_id(filter, provider_event_id).await)
    }

    /// How many deliveries in `status` match (a bulk change's dry run).
    pub async fn count_matching(&self, status: &str, m: &DeliveryMatch) -> Result<i64> {
        both!(self, s => s.count_matching(status, m).await)
    }

    /// Puts every dead delivery that matches back to pending with a fresh
    /// attempt budget. Returns how many.
    pub async fn retry_matching(&self, m: &DeliveryMatch, now: i64) -> Result<u64> {
        both!(write self, s => s.bulk_change(BulkChange::Retry, m, now).await)
    }

    /// Marks every pending delivery that matches `cancelled`: it is never
    /// sent (again). Returns how many.
    pub async fn cancel_matching(&self, m: &DeliveryMatch, now: i64) -> Result<u64> {
        both!(write self, s => s.bulk_change(BulkChange::Cancel, m, now).await)
    }

    /// One refused request with its body and headers.
    pub async fn conflict(&self, conflict_id: &str) -> Result<Option<ConflictDetailRow>> {
        both!(self, s => s.conflict(conflict_id).await)
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
        both!(write self, s => s.prune(cutoff, batch).await)
    }

    pub async fn counts(&self) -> Result<Counts> {
        both!(self, s => s.counts().await)
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }

    fn availability(&self) -> &availability::Availability {
        match self {
            Store::Sqlite(s) => &s.availability,
            Store::Postgres(s) => &s.availability,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The two backends' migrations stay version for version (a change
    /// one backend does not need still gets its numbered, no-op file).
    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let versions = |dir: &str| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let mut names: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let sqlite = versions("migrations/sqlite");
        assert!(sqlite.len() >= 4, "{sqlite:?}");
        assert_eq!(sqlite, versions("migrations/postgres"));
    }
}
