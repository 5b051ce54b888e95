//! The scale-out store: any number of `hookgate serve` processes share one
//! Postgres database. Claims use `FOR UPDATE SKIP LOCKED` plus a lease, so
//! dispatchers in different processes never lease the same delivery; the
//! pool reconnects by itself when Postgres comes back.
//!
//! Every write runs in a transaction this module opens with a plain `BEGIN`
//! and ends with `COMMIT`; a connection that saw any error inside one is
//! closed instead of going back to the pool. Ingest is group-committed: a
//! few committer tasks each take whatever requests are waiting and store
//! them in one transaction, so Postgres's own group commit overlaps them.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{
    AttemptRecord, BulkChange, Claim, ClaimRequest, Claimed, DeliveryMatch, Error, IngestOutcome,
    NewDelivery, NewEvent, Recorded, Result, RetryOutcome,
};
use crate::config::DatabaseConfig;
use crate::ids::{now_ms, DeliveryId};

pub(crate) mod ops {
    super::super::writes::write_ops!(
        sqlx::PgConnection,
        crate::store::sql::Params::Numbered,
        false
    );
}

/// Target protection: rows read before a write are locked, because other
/// processes claim and record at the same time.
pub(crate) mod target_ops {
    super::super::targets::target_ops!(sqlx::PgConnection, " FOR UPDATE");
}

/// Most events committed in one ingest transaction.
const BATCH_MAX: usize = 256;
/// Ingest transactions in flight at once.
const COMMITTERS: usize = 4;

type IngestJob = (NewEvent, oneshot::Sender<Result<IngestOutcome>>);

pub struct PostgresStore {
    /// The one pool; Postgres needs no reader/writer split.
    pub(crate) reader: PgPool,
    queue: mpsc::Sender<IngestJob>,
    acquire: Duration,
    pub(crate) availability: super::availability::Availability,
}

impl PostgresStore {
    pub async fn connect(config: &DatabaseConfig) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(&config.url)
            .map_err(|e| Error::Internal(format!("database.url: {e}")))?
            .application_name("hookgate");
        let acquire = Duration::from_millis(config.acquire_timeout_ms);
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(acquire)
            .connect_with(options)
            .await?;
        let (queue, jobs) = mpsc::channel(BATCH_MAX * 16);
        let jobs = Arc::new(Mutex::new(jobs));
        for _ in 0..COMMITTERS {
            tokio::spawn(group_commit(pool.clone(), jobs.clone()));
        }
        Ok(PostgresStore {
            reader: pool,
            queue,
            acquire,
            availability: Default::default(),
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        // sqlx takes an advisory lock, so processes starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&self.reader)
            .await?;
        Ok(())
    }

    /// Whether a write commits now.
    pub async fn probe(&self) -> Result<()> {
        let now = now_ms();
        in_tx(&self.reader, async |c| ops::probe(c, now).await).await
    }

    /// Stores one event through the group-commit queue.
    /// Waits at most `acquire` in all; see the SQLite store on what giving up
    /// means.
    pub async fn ingest(&self, event: &NewEvent) -> Result<IngestOutcome> {
        let (reply, answer) = oneshot::channel();
        tokio::time::timeout(self.acquire, async {
            self.queue
                .send((event.clone(), reply))
                .await
                .map_err(|_| committer_gone())?;
            answer.await.map_err(|_| committer_gone())?
        })
        .await
        .map_err(|_| Error::Unavailable("the event was not committed in time".into()))?
    }

    /// Several events in one transaction, each with its own outcome.
    pub async fn ingest_batch(&self, events: &[NewEvent]) -> Result<Vec<IngestOutcome>> {
        in_tx(&self.reader, async |c| ops::ingest(c, events).await).await
    }

    /// Leases for several targets in one transaction.
    pub async fn claim_many(&self, requests: &[ClaimRequest<'_>]) -> Result<Vec<Claim>> {
        const CLAIM: &str = concat!(
            "WITH due AS (SELECT id FROM deliveries d WHERE target = $4 AND status = 'pending' \
             AND next_attempt_at <= $3 AND locked_until <= $3 AND ",
            super::sql::key_free!(),
            " ORDER BY next_attempt_at LIMIT $5 \
             FOR UPDATE SKIP LOCKED), \
             leased AS (UPDATE deliveries d SET locked_until = $1, lock_owner = $2, \
             attempts = d.attempts + 1, updated_at = $3 FROM due WHERE d.id = due.id \
             RETURNING d.id, d.event_id, d.target, d.attempts) \
             SELECT l.id AS delivery_id, l.event_id, l.target, l.attempts AS attempt, e.source, \
             e.event_type, e.provider_event_id, e.content_type, e.body, e.headers \
             FROM leased l JOIN events e ON e.id = l.event_id"
        );
        in_tx(&self.reader, async |c| {
            let mut claims = Vec::with_capacity(requests.len());
            for req in requests {
                let admitted = target_ops::admit(
                    c,
                    req.target,
                    &req.protection,
                    req.limit,
                    req.now,
                    req.lease_until,
                )
                .await?;
                let leased = if admitted.limit > 0 {
                    sqlx::query_as::<_, Claimed>(CLAIM)
                        .bind(req.lease_until)
                        .bind(req.owner)
                        .bind(req.now)
                        .bind(req.target)
                        .bind(admitted.limit)
                        .fetch_all(&mut *c)
                        .await?
                } else {
                    Vec::new()
                };
                target_ops::settle(c, req.target, &admitted, leased.len()).await?;
                claims.push(Claim {
                    probe: admitted.probe && !leased.is_empty(),
                    wait_until: admitted.wait_until,
                    leased,
                });
            }
            Ok(claims)
        })
        .await
    }

    pub async fn record_many(&self, records: &[AttemptRecord]) -> Result<Recorded> {
        in_tx(&self.reader, async |c| {
            let kept = ops::record(c, records).await?;
            let changes = target_ops::record_outcomes(c, records, &kept).await?;
            Ok(Recorded { kept, changes })
        })
        .await
    }

    pub async fn set_paused(&self, target: &str, paused: bool) -> Result<()> {
        in_tx(&self.reader, async |c| {
            target_ops::set_paused(c, target, paused).await
        })
        .await
    }

    pub async fn release(&self, owner: &str, delivery_ids: &[DeliveryId]) -> Result<u64> {
        in_tx(&self.reader, async |c| {
            ops::release(c, owner, delivery_ids).await
        })
        .await
    }

    pub async fn add_deliveries(
        &self,
        event_id: &str,
        deliveries: &[NewDelivery],
        now: i64,
    ) -> Result<()> {
        in_tx(&self.reader, async |c| {
            ops::add_deliveries(c, event_id, deliveries, now).await
        })
        .await
    }

    pub async fn retry_delivery(&self, delivery_id: &str, now: i64) -> Result<RetryOutcome> {
        in_tx(&self.reader, async |c| {
            ops::retry_delivery(c, delivery_id, now).await
        })
        .await
    }

    pub async fn bulk_change(
        &self,
        change: BulkChange,
        m: &DeliveryMatch,
        now: i64,
    ) -> Result<u64> {
        in_tx(&self.reader, async |c| {
            ops::bulk_change(c, change, m, now).await
        })
        .await
    }

    pub async fn prune(&self, cutoff: i64, batch: i64) -> Result<u64> {
        in_tx(&self.reader, async |c| ops::prune(c, cutoff, batch).await).await
    }

    super::reads::read_methods!();

    pub async fn close(&self) {
        self.reader.close().await;
    }
}

/// Runs `work` between `BEGIN` and `COMMIT` on one pooled connection. On any
/// error the connection is closed rather than returned to the pool: after a
/// failure nothing about its state is trusted.
async fn in_tx<T>(
    pool: &PgPool,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    let mut conn = pool.acquire().await?;
    let result = async {
        sqlx::query("BEGIN").execute(&mut *conn).await?;
        let value = work(&mut conn).await?;
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(value)
    }
    .await;
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

/// One committer: takes every ingest request waiting (up to [`BATCH_MAX`])
/// and stores them in one transaction, answering each after the commit.
async fn group_commit(pool: PgPool, jobs: Arc<Mutex<mpsc::Receiver<IngestJob>>>) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    loop {
        let taken = jobs.lock().await.recv_many(&mut batch, BATCH_MAX).await;
        if taken == 0 {
            return;
        }
        // Requests whose callers gave up are not stored.
        batch.retain(|(_, reply)| !reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        // In key order, so two concurrent batches holding the same keys take
        // their row locks in the same order and cannot deadlock. The sort is
        // stable: a repeat stays behind the copy it repeats.
        batch.sort_by(|a, b| {
            (&a.0.source, &a.0.provider_event_id).cmp(&(&b.0.source, &b.0.provider_event_id))
        });
        let (events, replies): (Vec<NewEvent>, Vec<_>) = batch.drain(..).unzip();
        match in_tx(&pool, async |c| ops::ingest(c, &events).await).await {
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

fn committer_gone() -> Error {
    Error::Unavailable("the ingest committer is not running".into())
}
