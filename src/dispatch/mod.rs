//! The outbox dispatcher: claim -> send -> record.
//!
//! 1. **Claim.** Per target, up to its free `max_in_flight` slots of due
//!    deliveries are leased in one short statement (`locked_until`, a fresh
//!    owner token per claim, the attempt count raised). No transaction stays
//!    open.
//! 2. **Send.** Each leased delivery is POSTed by its own task; the HTTP call
//!    happens outside any transaction.
//! 3. **Record.** One short write stores the attempt and the outcome, and only
//!    if the lease is still ours. A process that dies between send and record
//!    leaves a lease that expires, and the delivery is sent again with the
//!    same `webhook-id`: the only way a target sees a repeat.
//!
//! The backlog lives in the database; memory holds at most the in-flight
//! deliveries. New events wake the loop through an in-process [`Notify`];
//! polling is the fallback (other processes, retries coming due).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, ConfigError, DispatcherConfig};
use crate::ids::now_ms;
use crate::store::{AttemptOutcome, AttemptRecord, ClaimRequest, Claimed, Store};

pub mod retry;
pub mod send;

pub use send::TargetSpec;

struct Target {
    spec: TargetSpec,
    slots: Arc<Semaphore>,
}

pub struct Dispatcher {
    store: Arc<Store>,
    targets: Vec<Arc<Target>>,
    client: reqwest::Client,
    wake: Arc<Notify>,
    freed: Arc<Notify>,
    schedule: retry::Schedule,
    settings: DispatcherConfig,
    grace: Duration,
    instance: String,
    claims: AtomicU64,
}

impl Dispatcher {
    /// `wake` is notified by ingest after each commit.
    pub fn new(
        store: Arc<Store>,
        config: &Config,
        wake: Arc<Notify>,
    ) -> Result<Dispatcher, ConfigError> {
        let mut targets = Vec::new();
        for (i, t) in config.targets.iter().enumerate() {
            let spec = TargetSpec::from_config(t, &format!("targets[{i}]"))?;
            targets.push(Arc::new(Target {
                slots: Arc::new(Semaphore::new(spec.max_in_flight as usize)),
                spec,
            }));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hookgate/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ConfigError::new("targets", format!("HTTP client: {e}")))?;
        let settings = config.dispatcher.clone();
        Ok(Dispatcher {
            store,
            targets,
            client,
            wake,
            freed: Arc::new(Notify::new()),
            schedule: retry::Schedule {
                base: Duration::from_millis(settings.retry_base_ms),
                max: Duration::from_millis(settings.retry_max_ms),
                retry_after_max: Duration::from_millis(settings.retry_after_max_ms),
            },
            settings,
            grace: Duration::from_millis(config.server.shutdown_grace_ms),
            instance: format!("{:08x}", rand::random::<u32>()),
            claims: AtomicU64::new(0),
        })
    }

    fn owner_token(&self) -> String {
        format!(
            "{}-{}",
            self.instance,
            self.claims.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Leases due deliveries of one target, at most `limit`.
    async fn claim(
        &self,
        target: &Target,
        limit: usize,
    ) -> crate::store::Result<(String, Vec<Claimed>)> {
        let owner = self.owner_token();
        let now = now_ms();
        let lease = target.spec.timeout.as_millis() as i64 + self.settings.lease_margin_ms as i64;
        let claimed = self
            .store
            .claim(&ClaimRequest {
                target: &target.spec.name,
                limit: limit as i64,
                now,
                lease_until: now + lease,
                owner: &owner,
            })
            .await?;
        Ok((owner, claimed))
    }

    /// One step for tests and tools: claims every due delivery that fits in
    /// the targets' free slots, sends them all and records the outcomes.
    /// Returns how many deliveries were attempted.
    pub async fn run_once(self: &Arc<Self>) -> crate::store::Result<usize> {
        let tracker = TaskTracker::new();
        let mut attempted = 0;
        for target in &self.targets {
            let free = target.slots.available_permits();
            if free == 0 {
                continue;
            }
            let (owner, batch) = self.claim(target, free).await?;
            attempted += batch.len();
            self.spawn_attempts(&tracker, target, &owner, batch, &CancellationToken::new());
        }
        tracker.close();
        tracker.wait().await;
        Ok(attempted)
    }

    /// Runs until `stop` is cancelled, then lets in-flight deliveries finish
    /// within `shutdown_grace_ms` and releases the leases of the rest.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let tracker = TaskTracker::new();
        let abort = CancellationToken::new();
        tracing::info!(targets = self.targets.len(), "dispatcher started");
        while !stop.is_cancelled() {
            let mut more_due = false;
            let mut failed = false;
            for target in &self.targets {
                let free = target.slots.available_permits();
                if free == 0 {
                    continue;
                }
                let limit = free.min(self.settings.batch_size as usize);
                match self.claim(target, limit).await {
                    Ok((owner, batch)) => {
                        more_due |= batch.len() == limit;
                        self.spawn_attempts(&tracker, target, &owner, batch, &abort);
                    }
                    Err(e) => {
                        tracing::warn!(target = %target.spec.name, error = %e, "claiming deliveries failed");
                        failed = true;
                    }
                }
            }
            if more_due && !failed {
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = self.freed.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(self.settings.poll_interval_ms)) => {}
            }
        }
        tracker.close();
        let in_flight = tracker.len();
        if tokio::time::timeout(self.grace, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = tracker.len(),
                "shutdown grace over; releasing unfinished deliveries"
            );
            abort.cancel();
            tracker.wait().await;
        }
        tracing::info!(drained = in_flight, "dispatcher stopped");
    }

    /// Starts one task per leased delivery, each holding a slot of its target.
    fn spawn_attempts(
        self: &Arc<Self>,
        tracker: &TaskTracker,
        target: &Arc<Target>,
        owner: &str,
        batch: Vec<Claimed>,
        abort: &CancellationToken,
    ) {
        for delivery in batch {
            let slot = take_slot(target);
            tracker.spawn(self.clone().attempt(
                target.clone(),
                slot,
                owner.to_string(),
                delivery,
                abort.clone(),
            ));
        }
    }

    /// Sends one leased delivery and records the outcome. When `abort` fires
    /// first, the request is dropped and the lease released instead.
    async fn attempt(
        self: Arc<Self>,
        target: Arc<Target>,
        slot: OwnedSemaphorePermit,
        owner: String,
        delivery: Claimed,
        abort: CancellationToken,
    ) {
        let this = &*self;
        let started_at = now_ms();
        let answer = tokio::select! {
            answer = send::send(&this.client, &target.spec, &delivery, started_at / 1000) => answer,
            _ = abort.cancelled() => {
                if let Err(e) = this.store.release(&owner, std::slice::from_ref(&delivery.delivery_id)).await {
                    tracing::warn!(delivery_id = %delivery.delivery_id, error = %e, "releasing lease failed; it will expire");
                }
                return;
            }
        };
        let finished_at = now_ms();
        let outcome = if answer.is_success() {
            AttemptOutcome::Delivered
        } else if delivery.attempt >= target.spec.max_attempts as i64 {
            AttemptOutcome::Dead
        } else {
            let delay = this.schedule.delay(delivery.attempt, answer.retry_after);
            AttemptOutcome::Retry {
                next_attempt_at: finished_at + delay.as_millis() as i64,
            }
        };
        let status_class = match answer.status {
            Some(s) => format!("{}xx", s / 100),
            None => "error".into(),
        };
        let name = target.spec.name.clone();
        metrics::counter!("hookgate_delivery_attempts_total", "target" => name.clone(), "status_class" => status_class).increment(1);
        metrics::histogram!("hookgate_delivery_duration_seconds", "target" => name.clone())
            .record(answer.duration.as_secs_f64());
        tracing::info!(
            target = %name,
            delivery_id = %delivery.delivery_id,
            event_id = %delivery.event_id,
            attempt = delivery.attempt,
            status = answer.status,
            outcome = outcome.as_str(),
            duration_ms = answer.duration.as_millis() as u64,
            error = answer.error.as_deref(),
            "delivery attempt"
        );
        let record = AttemptRecord {
            delivery_id: delivery.delivery_id.clone(),
            owner,
            attempt: delivery.attempt,
            started_at,
            duration_ms: answer.duration.as_millis() as i64,
            status_code: answer.status.map(i64::from),
            error: answer.error,
            response_excerpt: answer.excerpt,
            outcome,
            finished_at,
        };
        match record_with_retries(&this.store, &record).await {
            Ok(true) => {
                metrics::counter!("hookgate_deliveries_total", "target" => name, "outcome" => outcome.as_str())
                    .increment(1);
            }
            Ok(false) => tracing::warn!(
                delivery_id = %record.delivery_id,
                "lease lost before the outcome was recorded; another dispatcher owns this delivery"
            ),
            Err(e) => tracing::error!(
                delivery_id = %record.delivery_id,
                error = %e,
                "recording the attempt failed; the delivery is sent again when its lease expires"
            ),
        }
        drop(slot);
        this.freed.notify_one();
    }
}

/// Records an attempt, retrying a few times over about two seconds while the
/// store is unavailable: a blip between the target's answer and the record
/// would otherwise make the delivery go out again when its lease expires.
async fn record_with_retries(store: &Store, record: &AttemptRecord) -> crate::store::Result<bool> {
    let mut waits = [200u64, 600, 1200].into_iter();
    loop {
        match store.record(record).await {
            Err(crate::store::Error::Unavailable(e)) => match waits.next() {
                Some(ms) => {
                    tracing::warn!(delivery_id = %record.delivery_id, error = %e, "recording the attempt failed; trying again");
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                None => return Err(crate::store::Error::Unavailable(e)),
            },
            other => return other,
        }
    }
}

/// A free slot of `target`. Only the claiming loop takes slots, and it never
/// claims more deliveries than there were free slots, so one is always there.
fn take_slot(target: &Target) -> OwnedSemaphorePermit {
    target
        .slots
        .clone()
        .try_acquire_owned()
        .expect("claimed no more deliveries than free slots")
}
