//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`,
//! so a committed event survives a power cut.
//!
//! Every write goes through one writer task ([`writer`]) that owns the only
//! write connection and commits whatever is waiting in one transaction:
//! SQLite admits one writer at a time anyway, and batching lets many
//! operations share one fsync. Reads use a separate pool and run
//! concurrently with the writer thanks to WAL.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};

use super::{
    AttemptRecord, BulkChange, Claim, ClaimRequest, DeliveryMatch, Error, IngestOutcome,
    NewDelivery, NewEvent, Recorded, Result, RetryOutcome,
};
use crate::config::DatabaseConfig;
use crate::ids::{now_ms, DeliveryId};

mod claim;
mod health;
pub mod writer;

use claim::ClaimJob;
use health::Health;
use writer::Job;

pub(crate) mod ops {
    super::super::writes::write_ops!(
        sqlx::SqliteConnection,
        crate::store::sql::Params::Anonymous,
        true
    );
}

/// Target protection: the one writer serializes every change, so reads
/// need no lock.
pub(crate) mod target_ops {
    super::super::targets::target_ops!(sqlx::SqliteConnection, "");
}

pub struct SqliteStore {
    pub(crate) reader: SqlitePool,
    /// Kept for one-off connections (migrations); boxed, being large.
    options: Box<SqliteConnectOptions>,
    /// Where writes queue for the writer task.
    queue: mpsc::Sender<Job>,
    health: Arc<Health>,
    /// How long a write may wait for a place in the queue.
    acquire: Duration,
    pub(crate) availability: super::availability::Availability,
}

/// Why the SQLite file of `url` could not be created, if it could not:
/// the folder it goes in must exist or be creatable, and be writable. The
/// check creates and removes a probe folder beside the nearest existing
/// one, so it leaves nothing behind (`check-config` runs it).
pub fn folder_problem(url: &str) -> Option<String> {
    let options = match SqliteConnectOptions::from_str(url) {
        Ok(o) => o,
        Err(e) => return Some(e.to_string()),
    };
    let file = options.get_filename().to_path_buf();
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let existing = folder
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(std::path::Path::new("."));
    if !existing.is_dir() {
        return Some(format!(
            "cannot create folder {}: {} is not a folder",
            folder.display(),
            existing.display()
        ));
    }
    let probe = existing.join(format!(".hookgate-probe-{}", crate::ids::fresh_id("")));
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            None
        }
        Err(e) => Some(format!(
            "cannot create the database in {}: {e}",
            folder.display()
        )),
    }
}

impl SqliteStore {
    pub async fn connect(config: &DatabaseConfig) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(&config.url)
            .map_err(|e| Error::Internal(format!("database.url: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // LIKE (the admin API's type filter) is case-sensitive, as on Postgres.
            .pragma("case_sensitive_like", "ON")
            // Statement journals (kept so one multi-row statement can be
            // undone inside a batch) live in memory instead of a temporary
            // file opened and removed per statement. Durability is the WAL's.
            .pragma("temp_store", "MEMORY")
            .busy_timeout(Duration::from_millis(config.acquire_timeout_ms.max(1_000)));
        let path = options.get_filename();
        if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
            return Err(Error::Internal(
                "database.url: hookgate needs a SQLite file (sqlite://path/to/file.db), not an in-memory database".into(),
            ));
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::Unavailable(format!("cannot create folder {}: {e}", parent.display()))
            })?;
        }
        let acquire = Duration::from_millis(config.acquire_timeout_ms);
        let health = Arc::new(Health::default());
        let writer = writer::Writer::open(options.clone(), health.clone()).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(acquire)
            .connect_with(options.clone())
            .await?;
        let (queue, jobs) = mpsc::channel(writer::QUEUE_MAX);
        tokio::spawn(writer.run(jobs));
        Ok(SqliteStore {
            reader,
            options: Box::new(options),
            queue,
            health,
            acquire,
            availability: Default::default(),
        })
    }

    /// Queues a job for the writer and waits for its commit, at most
    /// `acquire` in all. A caller that gave up is skipped by the writer if its
    /// job has not started; one already in a transaction may still commit,
    /// which is why giving up means "outcome unknown" (503), never "not stored".
    async fn write<T>(&self, job: impl FnOnce(oneshot::Sender<Result<T>>) -> Job) -> Result<T> {
        tokio::time::timeout(self.acquire, async {
            let answer = self.enqueue(job).await?;
            answer.await.map_err(|_| writer_gone())?
        })
        .await
        .map_err(|_| Error::Unavailable("the write did not commit in time".into()))?
    }

    /// Queues a job, waiting at most `acquire` for room in the queue.
    async fn enqueue<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T>>) -> Job,
    ) -> Result<oneshot::Receiver<Result<T>>> {
        let (reply, answer) = oneshot::channel();
        tokio::time::timeout(self.acquire, self.queue.send(job(reply)))
            .await
            .map_err(|_| Error::Unavailable("the SQLite write queue is full".into()))?
            .map_err(|_| writer_gone())?;
        Ok(answer)
    }

    pub async fn migrate(&self) -> Result<()> {
        // Its own connection: the writer holds no transaction while idle.
        let mut conn = self.options.connect().await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut conn).await?;
        let _ = conn.close().await;
        Ok(())
    }

    /// Whether a write commits now: a heartbeat write commits, and the
    /// latest batch that carried data committed (or failed over ten seconds
    /// ago, so an idle store does not stay unready for ever).
    pub async fn probe(&self) -> Result<()> {
        self.write(|r| Job::Probe(now_ms(), r)).await?;
        if self.health.writes_ok(now_ms()) {
            Ok(())
        } else {
            Err(Error::Unavailable(
                "a recent SQLite write failed and none has committed since".into(),
            ))
        }
    }

    pub async fn ingest(&self, event: &NewEvent) -> Result<IngestOutcome> {
        self.write(|r| Job::Ingest(event.clone(), r)).await
    }

    /// Several events in one transaction, each with its own outcome.
    pub async fn ingest_batch(&self, events: &[NewEvent]) -> Result<Vec<IngestOutcome>> {
        // Queued back to back, they are taken by the writer together.
        let mut answers = Vec::with_capacity(events.len());
        for event in events {
            answers.push(self.enqueue(|r| Job::Ingest(event.clone(), r)).await?);
        }
        let mut outcomes = Vec::with_capacity(events.len());
        for answer in answers {
            outcomes.push(answer.await.map_err(|_| writer_gone())??);
        }
        Ok(outcomes)
    }

    /// Leases for several targets in one job, so they share one commit.
    pub async fn claim_many(&self, requests: &[ClaimRequest<'_>]) -> Result<Vec<Claim>> {
        let jobs = requests.iter().map(ClaimJob::from).collect();
        self.write(|r| Job::Claim(jobs, r)).await
    }

    pub async fn record_many(&self, records: &[AttemptRecord]) -> Result<Recorded> {
        if records.is_empty() {
            return Ok(Recorded::default());
        }
        self.write(|r| Job::Record(records.to_vec(), r)).await
    }

    pub async fn set_paused(&self, target: &str, paused: bool) -> Result<()> {
        self.write(|r| Job::SetPaused(target.to_string(), paused, r))
            .await
    }

    pub async fn release(&self, owner: &str, delivery_ids: &[DeliveryId]) -> Result<u64> {
        if delivery_ids.is_empty() {
            return Ok(0);
        }
        self.write(|r| Job::Release(owner.to_string(), delivery_ids.to_vec(), r))
            .await
    }

    pub async fn add_deliveries(
        &self,
        event_id: &str,
        deliveries: &[NewDelivery],
        now: i64,
    ) -> Result<()> {
        self.write(|r| Job::AddDeliveries(event_id.to_string(), deliveries.to_vec(), now, r))
            .await
    }

    pub async fn retry_delivery(&self, delivery_id: &str, now: i64) -> Result<RetryOutcome> {
        self.write(|r| Job::RetryDelivery(delivery_id.to_string(), now, r))
            .await
    }

    pub async fn bulk_change(
        &self,
        change: BulkChange,
        m: &DeliveryMatch,
        now: i64,
    ) -> Result<u64> {
        self.write(|r| Job::Bulk(change, m.clone(), now, r)).await
    }

    pub async fn prune(&self, cutoff: i64, batch: i64) -> Result<u64> {
        self.write(|r| Job::Prune(cutoff, batch, r)).await
    }

    super::reads::read_methods!();

    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Job::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
        self.reader.close().await;
    }
}

fn writer_gone() -> Error {
    Error::Unavailable("the SQLite writer is not running".into())
}
