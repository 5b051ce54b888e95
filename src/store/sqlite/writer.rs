//! The one SQLite writer: a task that owns the only write connection and
//! commits whatever is waiting in one transaction.
//!
//! Every kind of write (ingest, claims, attempt records, lease releases,
//! operator retries and replays, retention, the readiness probe) is a
//! [`Job`] on one bounded queue. The task takes every job waiting (up to
//! [`BATCH_MAX`]), runs them inside one `BEGIN IMMEDIATE` .. `COMMIT`, and
//! answers each caller only after that commit: many operations share one
//! fsync, and nothing is acknowledged before it is on disk.
//!
//! Trust nothing after an error. When SQLite fails inside a transaction
//! (full disk, I/O error, read-only file), it may already have rolled the
//! transaction back on its own, and a driver that keeps counting nested
//! transactions would from then on turn every `BEGIN` into a `SAVEPOINT`
//! inside an outer transaction that is never committed. So the writer issues
//! `BEGIN IMMEDIATE` / `COMMIT` itself (a stale open transaction makes
//! `BEGIN` fail loudly), treats any failed statement or `COMMIT` as "not
//! committed", and then closes the connection and opens a fresh one before
//! the next batch. Every job of a failed batch is answered with
//! [`Error::Unavailable`] (503 on ingest): the provider retries, and
//! deduplication absorbs the retry if the commit did happen after all.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};

use super::ops;
use crate::ids::{now_ms, DeliveryId};
use crate::store::{
    sql, AttemptRecord, BulkChange, Claimed, DeliveryMatch, Error, IngestOutcome, NewEvent, Result,
    RetryOutcome,
};

/// Most jobs committed in one transaction.
pub const BATCH_MAX: usize = 512;
/// Most jobs waiting for the writer; beyond this callers wait (then 503).
pub const QUEUE_MAX: usize = 4096;
/// How long a failed write keeps `/readyz` at 503 when nothing has been
/// committed since.
const UNHEALTHY_FOR_MS: i64 = 10_000;

type Reply<T> = oneshot::Sender<Result<T>>;

/// A lease request the writer can own.
#[derive(Debug)]
pub struct ClaimJob {
    pub target: String,
    pub limit: i64,
    pub now: i64,
    pub lease_until: i64,
    pub owner: String,
}

/// One write waiting for the writer, with where its answer goes.
pub enum Job {
    Ingest(NewEvent, Reply<IngestOutcome>),
    /// Leases for several targets at once, answered in the same order.
    Claim(Vec<ClaimJob>, Reply<Vec<Vec<Claimed>>>),
    Record(Vec<AttemptRecord>, Reply<Vec<bool>>),
    Release(String, Vec<DeliveryId>, Reply<u64>),
    AddDeliveries(String, Vec<(DeliveryId, String)>, i64, Reply<()>),
    RetryDelivery(String, i64, Reply<RetryOutcome>),
    Bulk(BulkChange, DeliveryMatch, i64, Reply<u64>),
    Prune(i64, i64, Reply<u64>),
    Probe(i64, Reply<()>),
    /// Close the connection and stop; answered once closed.
    Close(oneshot::Sender<()>),
}

/// A job's result, held until the batch's commit decides whether it stands.
enum Answer {
    Ingest(Reply<IngestOutcome>, IngestOutcome),
    Claim(Reply<Vec<Vec<Claimed>>>, Vec<Vec<Claimed>>),
    Record(Reply<Vec<bool>>, Vec<bool>),
    Count(Reply<u64>, u64),
    Unit(Reply<()>),
    Retry(Reply<RetryOutcome>, RetryOutcome),
}

impl Answer {
    fn send(self) {
        match self {
            Answer::Ingest(r, v) => drop(r.send(Ok(v))),
            Answer::Claim(r, v) => drop(r.send(Ok(v))),
            Answer::Record(r, v) => drop(r.send(Ok(v))),
            Answer::Count(r, v) => drop(r.send(Ok(v))),
            Answer::Unit(r) => drop(r.send(Ok(()))),
            Answer::Retry(r, v) => drop(r.send(Ok(v))),
        }
    }

    fn fail(self, e: &Error) {
        match self {
            Answer::Ingest(r, _) => drop(r.send(Err(e.clone()))),
            Answer::Claim(r, _) => drop(r.send(Err(e.clone()))),
            Answer::Record(r, _) => drop(r.send(Err(e.clone()))),
            Answer::Count(r, _) => drop(r.send(Err(e.clone()))),
            Answer::Unit(r) => drop(r.send(Err(e.clone()))),
            Answer::Retry(r, _) => drop(r.send(Err(e.clone()))),
        }
    }
}

impl Job {
    /// Whether the caller stopped waiting (its deadline passed).
    fn abandoned(&self) -> bool {
        match self {
            Job::Ingest(_, r) => r.is_closed(),
            Job::Claim(_, r) => r.is_closed(),
            Job::Record(_, r) => r.is_closed(),
            Job::Release(_, _, r) | Job::Prune(_, _, r) => r.is_closed(),
            Job::Bulk(_, _, _, r) => r.is_closed(),
            Job::AddDeliveries(_, _, _, r) | Job::Probe(_, r) => r.is_closed(),
            Job::RetryDelivery(_, _, r) => r.is_closed(),
            Job::Close(_) => false,
        }
    }

    fn fail(self, e: &Error) {
        match self {
            Job::Ingest(_, r) => drop(r.send(Err(e.clone()))),
            Job::Claim(_, r) => drop(r.send(Err(e.clone()))),
            Job::Record(_, r) => drop(r.send(Err(e.clone()))),
            Job::Release(_, _, r) | Job::Prune(_, _, r) => drop(r.send(Err(e.clone()))),
            Job::Bulk(_, _, _, r) => drop(r.send(Err(e.clone()))),
            Job::AddDeliveries(_, _, _, r) | Job::Probe(_, r) => drop(r.send(Err(e.clone()))),
            Job::RetryDelivery(_, _, r) => drop(r.send(Err(e.clone()))),
            Job::Close(r) => drop(r.send(())),
        }
    }
}

/// What `/readyz` knows about the writer without waiting for it.
#[derive(Debug, Default)]
pub struct Health {
    /// Whether the latest batch that carried data (not only a heartbeat
    /// or a claim) committed.
    last_ok: AtomicBool,
    /// When a batch last failed (epoch ms, 0 = never).
    last_failure_at: AtomicI64,
}

impl Health {
    /// False while the latest batch failed, for a short while after it.
    pub fn writes_ok(&self, now: i64) -> bool {
        self.last_ok.load(Ordering::Acquire)
            || now - self.last_failure_at.load(Ordering::Acquire) > UNHEALTHY_FOR_MS
    }

    fn committed(&self) {
        self.last_ok.store(true, Ordering::Release);
    }

    fn failed(&self) {
        self.last_failure_at.store(now_ms(), Ordering::Release);
        self.last_ok.store(false, Ordering::Release);
    }
}

pub struct Writer {
    options: SqliteConnectOptions,
    conn: Option<SqliteConnection>,
    health: Arc<Health>,
}

impl Writer {
    /// Opens the write connection now, so a bad database fails start-up.
    pub async fn open(options: SqliteConnectOptions, health: Arc<Health>) -> Result<Writer> {
        let conn = options.connect().await?;
        health.committed();
        Ok(Writer {
            options,
            conn: Some(conn),
            health,
        })
    }

    /// Runs until a [`Job::Close`] arrives or every sender is gone.
    pub async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut batch = Vec::with_capacity(BATCH_MAX);
        while jobs.recv_many(&mut batch, BATCH_MAX).await > 0 {
            let close = batch
                .iter()
                .position(|j| matches!(j, Job::Close(_)))
                .map(|i| batch.remove(i));
            // Work nobody waits for any more is not done.
            batch.retain(|job| !job.abandoned());
            if !batch.is_empty() {
                self.commit_batch(&mut batch).await;
            }
            if let Some(Job::Close(done)) = close {
                if let Some(conn) = self.conn.take() {
                    let _ = conn.close().await;
                }
                jobs.close();
                while let Some(job) = jobs.recv().await {
                    job.fail(&Error::Unavailable("the store is closed".into()));
                }
                let _ = done.send(());
                return;
            }
        }
    }

    /// Runs `batch` in one transaction and answers every job in it.
    async fn commit_batch(&mut self, batch: &mut Vec<Job>) {
        // A heartbeat or an empty claim can commit on a full disk (they need
        // no new space), so only batches carrying data speak for health;
        // any failure speaks against it.
        let carries_data = batch
            .iter()
            .any(|j| !matches!(j, Job::Probe(..) | Job::Claim(..)));
        if self.conn.is_none() {
            match self.options.connect().await {
                Ok(conn) => self.conn = Some(conn),
                Err(e) => {
                    let e = unavailable("cannot open the SQLite writer", Error::from(e));
                    self.health.failed();
                    for job in batch.drain(..) {
                        job.fail(&e);
                    }
                    return;
                }
            }
        }
        let conn = self.conn.as_mut().expect("opened above");
        let mut answers = Vec::with_capacity(batch.len());
        let result = run_jobs(conn, batch, &mut answers).await;
        let result = match result {
            Ok(()) => sqlx::query("COMMIT")
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(|e| {
                    unavailable("COMMIT failed; nothing of this batch is trusted", e.into())
                }),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                if carries_data {
                    self.health.committed();
                }
                for answer in answers {
                    answer.send();
                }
            }
            Err(e) => {
                self.health.failed();
                tracing::warn!(error = %e, jobs = answers.len() + batch.len(), "SQLite write batch failed; replacing the writer connection");
                if let Some(mut conn) = self.conn.take() {
                    // Best effort: SQLite may have rolled back already.
                    let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                    let _ = tokio::time::timeout(Duration::from_secs(5), conn.close()).await;
                }
                let e = unavailable("write not committed", e);
                for answer in answers {
                    answer.fail(&e);
                }
                for job in batch.drain(..) {
                    job.fail(&e);
                }
            }
        }
    }
}

/// Begins the transaction and runs every job, collecting answers. Jobs left
/// in `batch` on error were not run.
async fn run_jobs(
    conn: &mut SqliteConnection,
    batch: &mut Vec<Job>,
    answers: &mut Vec<Answer>,
) -> Result<()> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    // Ingests first, then attempt records, each kind together so they share
    // multi-row statements; then everything else in arrival order.
    let mut events = Vec::new();
    let mut event_replies = Vec::new();
    let mut records = Vec::new();
    let mut record_replies = Vec::new();
    let mut rest = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        match job {
            Job::Ingest(event, reply) => {
                events.push(event);
                event_replies.push(reply);
            }
            Job::Record(recs, reply) => {
                record_replies.push((recs.len(), reply));
                records.extend(recs);
            }
            other => rest.push(other),
        }
    }
    *batch = rest;
    let failed = |e: Error| unavailable("write not committed", e);
    if !events.is_empty() {
        match ops::ingest(conn, &events).await {
            Ok(outcomes) => {
                for (reply, outcome) in event_replies.into_iter().zip(outcomes) {
                    answers.push(Answer::Ingest(reply, outcome));
                }
            }
            Err(e) => {
                // Fail these callers here; the rest stay in `batch`.
                let e = failed(e);
                for reply in event_replies {
                    let _ = reply.send(Err(e.clone()));
                }
                for (_, reply) in record_replies {
                    let _ = reply.send(Err(e.clone()));
                }
                return Err(e);
            }
        }
    }
    if !records.is_empty() {
        match ops::record(conn, &records).await {
            Ok(kept) => {
                let mut kept = kept.into_iter();
                for (n, reply) in record_replies {
                    answers.push(Answer::Record(reply, kept.by_ref().take(n).collect()));
                }
            }
            Err(e) => {
                let e = failed(e);
                for (_, reply) in record_replies {
                    let _ = reply.send(Err(e.clone()));
                }
                return Err(e);
            }
        }
    }
    // Popped from the end; on error what is left is failed by the caller.
    batch.reverse();
    while let Some(job) = batch.pop() {
        answers.push(run_one(conn, job).await?);
    }
    Ok(())
}

/// Runs one job that is not an ingest or a record. On error its caller is
/// answered here and the error returned.
async fn run_one(conn: &mut SqliteConnection, job: Job) -> Result<Answer> {
    match job {
        Job::Claim(requests, r) => settle(r, claim_all(conn, &requests).await, Answer::Claim),
        Job::Release(owner, ids, r) => {
            settle(r, ops::release(conn, &owner, &ids).await, Answer::Count)
        }
        Job::AddDeliveries(event_id, deliveries, now, r) => settle(
            r,
            ops::add_deliveries(conn, &event_id, &deliveries, now).await,
            |r, ()| Answer::Unit(r),
        ),
        Job::RetryDelivery(id, now, r) => {
            settle(r, ops::retry_delivery(conn, &id, now).await, Answer::Retry)
        }
        Job::Bulk(change, m, now, r) => settle(
            r,
            ops::bulk_change(conn, change, &m, now).await,
            Answer::Count,
        ),
        Job::Prune(cutoff, size, r) => {
            settle(r, ops::prune(conn, cutoff, size).await, Answer::Count)
        }
        Job::Probe(now, r) => settle(r, ops::probe(conn, now).await, |r, ()| Answer::Unit(r)),
        Job::Ingest(..) | Job::Record(..) | Job::Close(_) => {
            unreachable!("taken out of the batch before")
        }
    }
}

/// The answer to hold until commit, or, on error, the caller told now.
fn settle<T>(
    reply: Reply<T>,
    result: Result<T>,
    answer: impl FnOnce(Reply<T>, T) -> Answer,
) -> Result<Answer> {
    match result {
        Ok(value) => Ok(answer(reply, value)),
        Err(e) => {
            let _ = reply.send(Err(e.clone()));
            Err(e)
        }
    }
}

async fn claim_all(
    conn: &mut SqliteConnection,
    requests: &[ClaimJob],
) -> Result<Vec<Vec<Claimed>>> {
    let mut leased = Vec::with_capacity(requests.len());
    for c in requests {
        leased.push(claim(conn, c).await?);
    }
    Ok(leased)
}

/// Leases up to `limit` due deliveries of one target. Inside the writer's
/// transaction the compare-and-set on `locked_until` cannot interleave with
/// another claim.
async fn claim(conn: &mut SqliteConnection, c: &ClaimJob) -> Result<Vec<Claimed>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE deliveries SET locked_until = $1, lock_owner = $2, attempts = attempts + 1, \
         updated_at = $3 WHERE id IN (SELECT id FROM deliveries WHERE target = $4 \
         AND status = 'pending' AND next_attempt_at <= $3 AND locked_until <= $3 \
         ORDER BY next_attempt_at LIMIT $5) RETURNING id",
    )
    .bind(c.lease_until)
    .bind(&c.owner)
    .bind(c.now)
    .bind(&c.target)
    .bind(c.limit)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = format!("{}{}", sql::CLAIMED_ROWS, sql::placeholders(2, ids.len()));
    let mut q = sqlx::query_as::<_, Claimed>(&query).bind(&c.owner);
    for id in &ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}

/// Any failure of a write batch is "not committed, retry later".
fn unavailable(context: &str, e: Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m),
        other => Error::Unavailable(format!("{context}: {other}")),
    }
}
