//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`,
//! so a committed event survives a power cut.
//!
//! All writes go through a pool of exactly one connection: SQLite admits one
//! writer at a time anyway, and serializing in-process means writers queue
//! on the pool (with a deadline, then 503) instead of failing with
//! `SQLITE_BUSY`. Reads use a separate pool and run concurrently with the
//! writer thanks to WAL.
//!
//! Ingest uses group commit: requests queue for one writer task, which takes
//! every request waiting (up to [`GROUP_MAX`]) and stores them in one
//! transaction, so concurrent requests share one fsync. Each request is
//! answered only after that commit. A lone request is committed at once: no
//! batch is ever held back waiting for company.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use tokio::sync::{mpsc, oneshot};

use super::{sql, ClaimRequest, Claimed, Error, IngestOutcome, NewEvent, Result};
use crate::config::DatabaseConfig;

/// Most events committed in one group-commit transaction.
pub const GROUP_MAX: usize = 128;

type IngestJob = (NewEvent, oneshot::Sender<Result<IngestOutcome>>);

pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    /// Where ingest requests queue for the group-commit task.
    queue: Option<mpsc::Sender<IngestJob>>,
    /// How long a request may wait for a place in the queue.
    acquire: Duration,
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(acquire)
            .connect_with(options)
            .await?;
        let (queue, jobs) = mpsc::channel(GROUP_MAX * 8);
        let committer = SqliteStore {
            writer: writer.clone(),
            reader: reader.clone(),
            queue: None,
            acquire,
        };
        tokio::spawn(committer.group_commit(jobs));
        Ok(SqliteStore {
            writer,
            reader,
            queue: Some(queue),
            acquire,
        })
    }

    /// Stores one event through the group-commit queue.
    pub async fn ingest(&self, event: &NewEvent) -> Result<IngestOutcome> {
        let Some(queue) = &self.queue else {
            let mut outcomes = self.ingest_batch(std::slice::from_ref(event)).await?;
            return outcomes
                .pop()
                .ok_or_else(|| Error::Internal("no outcome".into()));
        };
        let (reply, answer) = oneshot::channel();
        let gone = || Error::Unavailable("the SQLite writer is not running".into());
        tokio::time::timeout(self.acquire, queue.send((event.clone(), reply)))
            .await
            .map_err(|_| Error::Unavailable("the SQLite write queue is full".into()))?
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// The writer task: takes every request waiting, commits them together,
    /// answers each with its own outcome (or the shared error).
    async fn group_commit(self, mut jobs: mpsc::Receiver<IngestJob>) {
        let mut batch = Vec::with_capacity(GROUP_MAX);
        while jobs.recv_many(&mut batch, GROUP_MAX).await > 0 {
            let (events, replies): (Vec<NewEvent>, Vec<_>) = batch.drain(..).unzip();
            match self.ingest_batch(&events).await {
                Ok(outcomes) => {
                    for (reply, outcome) in replies.into_iter().zip(outcomes) {
                        let _ = reply.send(Ok(outcome));
                    }
                }
                Err(e) => {
                    for reply in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
        // One statement, one writer: the compare-and-set on `locked_until`
        // cannot interleave with another claim.
        let mut conn = self.writer.acquire().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "UPDATE deliveries SET locked_until = $1, lock_owner = $2, attempts = attempts + 1, \
             updated_at = $3 WHERE id IN (SELECT id FROM deliveries WHERE target = $4 \
             AND status = 'pending' AND next_attempt_at <= $3 AND locked_until <= $3 \
             ORDER BY next_attempt_at LIMIT $5) RETURNING id",
        )
        .bind(req.lease_until)
        .bind(req.owner)
        .bind(req.now)
        .bind(req.target)
        .bind(req.limit)
        .fetch_all(&mut *conn)
        .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let query = format!("{}{}", sql::CLAIMED_ROWS, sql::placeholders(2, ids.len()));
        let mut q = sqlx::query_as::<_, Claimed>(&query).bind(req.owner);
        for id in &ids {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&mut *conn).await?)
    }

    super::shared_methods!();

    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}
