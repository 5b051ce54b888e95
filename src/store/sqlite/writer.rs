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

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{mpsc, oneshot};

use super::claim::{claim_all, ClaimJob};
use super::health::Health;
use super::{ops, target_ops};
use crate::ids::DeliveryId;
use crate::store::{
    AttemptRecord, BulkChange, Claim, DeliveryMatch, Error, IngestOutcome, NewDelivery, NewEvent,
    Recorded, Result, RetryOutcome,
};

/// Most jobs committed in one transaction.
pub const BATCH_MAX: usize = 512;
/// Most jobs waiting for the writer; beyond this callers wait (then 503).
pub const QUEUE_MAX: usize = 4096;

type Reply<T> = oneshot::Sender<Result<T>>;

/// One write waiting for the writer, with where its answer goes.
pub enum Job {
    Ingest(NewEvent, Reply<IngestOutcome>),
    /// Leases for several targets at once, answered in the same order.
    Claim(Vec<ClaimJob>, Reply<Vec<Claim>>),
    Record(Vec<AttemptRecord>, Reply<Recorded>),
    /// Pause (true) or resume a target.
    SetPaused(String, bool, Reply<()>),
    Release(String, Vec<DeliveryId>, Reply<u64>),
    AddDeliveries(String, Vec<NewDelivery>, i64, Reply<()>),
    RetryDelivery(String, i64, Reply<RetryOutcome>),
    Bulk(BulkChange, DeliveryMatch, i64, Reply<u64>),
    Prune(i64, i64, Reply<u64>),
    Probe(i64, Reply<()>),
    /// Close the connection and stop; answered once closed.
    Close(oneshot::Sender<()>),
}

/// `$body` with `$r` bound to the job's reply, whatever its type; `$close`
/// for [`Job::Close`]. The one place that lists where every job keeps it.
macro_rules! with_reply {
    ($job:expr, $r:ident => $body:expr, $c:ident => $close:expr) => {
        match $job {
            Job::Ingest(_, $r) => $body,
            Job::Claim(_, $r) => $body,
            Job::Record(_, $r) => $body,
            Job::Release(_, _, $r) | Job::Bulk(_, _, _, $r) | Job::Prune(_, _, $r) => $body,
            Job::AddDeliveries(_, _, _, $r) | Job::Probe(_, $r) => $body,
            Job::RetryDelivery(_, _, $r) => $body,
            Job::SetPaused(_, _, $r) => $body,
            Job::Close($c) => $close,
        }
    };
}

impl Job {
    /// Whether the caller stopped waiting (its deadline passed).
    fn abandoned(&self) -> bool {
        with_reply!(self, r => r.is_closed(), _c => false)
    }

    fn fail(self, e: &Error) {
        with_reply!(self, r => drop(r.send(Err(e.clone()))), c => drop(c.send(())))
    }
}

/// A job's result, held until the batch's commit decides whether it
/// stands: called with `None` after the commit, with the error otherwise.
type Answer = Box<dyn FnOnce(Option<&Error>) + Send>;

fn hold<T: Send + 'static>(reply: Reply<T>, value: T) -> Answer {
    Box::new(move |failed| {
        let _ = reply.send(match failed {
            None => Ok(value),
            Some(e) => Err(e.clone()),
        });
    })
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
                    answer(None);
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
                    answer(Some(&e));
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
                    answers.push(hold(reply, outcome));
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
        let recorded = match ops::record(conn, &records).await {
            Ok(kept) => target_ops::record_outcomes(conn, &records, &kept)
                .await
                .map(|changes| (kept, changes)),
            Err(e) => Err(e),
        };
        match recorded {
            Ok((kept, mut changes)) => {
                let mut kept = kept.into_iter();
                for (n, reply) in record_replies {
                    // The batch's circuit changes go to one caller, so
                    // each is logged once.
                    let recorded = Recorded {
                        kept: kept.by_ref().take(n).collect(),
                        changes: std::mem::take(&mut changes),
                    };
                    answers.push(hold(reply, recorded));
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
        Job::Claim(requests, r) => settle(r, claim_all(conn, &requests).await),
        Job::Release(owner, ids, r) => settle(r, ops::release(conn, &owner, &ids).await),
        Job::AddDeliveries(event_id, deliveries, now, r) => settle(
            r,
            ops::add_deliveries(conn, &event_id, &deliveries, now).await,
        ),
        Job::RetryDelivery(id, now, r) => settle(r, ops::retry_delivery(conn, &id, now).await),
        Job::Bulk(change, m, now, r) => settle(r, ops::bulk_change(conn, change, &m, now).await),
        Job::Prune(cutoff, size, r) => settle(r, ops::prune(conn, cutoff, size).await),
        Job::Probe(now, r) => settle(r, ops::probe(conn, now).await),
        Job::SetPaused(target, paused, r) => {
            settle(r, target_ops::set_paused(conn, &target, paused).await)
        }
        Job::Ingest(..) | Job::Record(..) | Job::Close(_) => {
            unreachable!("taken out of the batch before")
        }
    }
}

/// The answer to hold until commit, or, on error, the caller told now.
fn settle<T: Send + 'static>(reply: Reply<T>, result: Result<T>) -> Result<Answer> {
    match result {
        Ok(value) => Ok(hold(reply, value)),
        Err(e) => {
            let _ = reply.send(Err(e.clone()));
            Err(e)
        }
    }
}

/// Any failure of a write batch is "not committed, retry later".
fn unavailable(context: &str, e: Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m),
        other => Error::Unavailable(format!("{context}: {other}")),
    }
}
