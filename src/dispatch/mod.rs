//! The outbox dispatcher: claim -> send -> record.
//!
//! 1. **Claim.** For every target with free `max_in_flight` slots, up to
//!    that many due deliveries are leased, all targets in one short
//!    transaction (`locked_until`, a fresh owner token per claim, the attempt
//!    count raised). No transaction stays open.
//! 2. **Send.** Each leased delivery is POSTed by its own task; the HTTP call
//!    happens outside any transaction.
//! 3. **Record.** Finished attempts queue for one recorder task, which
//!    stores every attempt waiting, with its outcome, in one transaction, and
//!    only where the lease is still ours. The attempt's task ends when its
//!    outcome is queued; the recorder frees the target's slot after the
//!    commit (one wake-up per batch, not one per delivery), so a delivery
//!    holds its slot until its outcome is stored. A process that dies between send and record
//!    leaves a lease that expires, and the delivery is sent again with the
//!    same `webhook-id`: the only way a target sees a repeat.
//!
//! The backlog lives in the database; memory holds at most the in-flight
//! deliveries. New events wake the loop through an in-process [`Notify`];
//! polling is the fallback (other processes, retries coming due).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{ConfigError, DispatcherConfig};
use crate::ids::now_ms;
use crate::routes::{EventParts, Routes};
use crate::store::{AttemptOutcome, AttemptRecord, Claim, ClaimRequest, Claimed, Store};
use crate::time::UnixMs;

pub mod protection;
pub mod retry;
pub mod send;
mod target_metrics;

pub use send::TargetSpec;

struct Target {
    spec: TargetSpec,
    slots: Arc<Semaphore>,
    /// Free slots that make a refill worth a claim outside the poll sweep.
    refill_at: usize,
    metrics: target_metrics::TargetMetrics,
}

/// A finished attempt waiting for the recorder, with its target and the
/// slot it holds until its outcome is stored.
struct Finished {
    record: AttemptRecord,
    target: Arc<Target>,
    slot: OwnedSemaphorePermit,
}

/// The shortest wait before claiming again for a target its protection
/// held back, so a rate-limited target is claimed in small batches rather
/// than once per token.
const MIN_WAIT_MS: i64 = 5;

/// Whose lease an attempt runs under.
struct Lease {
    owner: String,
    /// The attempt is a half-open circuit's one probe.
    probe: bool,
}

/// Most attempts recorded in one transaction.
const RECORD_BATCH: usize = 512;
/// Record transactions in flight at once.
const RECORDERS: usize = 4;

pub struct Dispatcher {
    store: Arc<Store>,
    records: mpsc::Sender<Finished>,
    targets: Vec<Arc<Target>>,
    client: reqwest::Client,
    wake: Arc<Notify>,
    freed: Arc<Notify>,
    schedule: retry::Schedule,
    settings: DispatcherConfig,
    grace: Duration,
    instance: String,
    claims: AtomicU64,
    /// Routes whose transforms shape what a target receives.
    routes: Routes,
}

impl Dispatcher {
    /// Delivers to the built `targets`; `wake` is notified by ingest after
    /// each commit; `grace` bounds the drain at shutdown.
    pub fn new(
        store: Arc<Store>,
        targets: Vec<TargetSpec>,
        settings: &DispatcherConfig,
        grace: Duration,
        wake: Arc<Notify>,
    ) -> Result<Dispatcher, ConfigError> {
        let targets: Vec<Arc<Target>> = targets
            .into_iter()
            .map(|spec| {
                let slots = spec.max_in_flight as usize;
                Arc::new(Target {
                    slots: Arc::new(Semaphore::new(slots)),
                    refill_at: (slots / 4).clamp(1, settings.batch_size.max(1) as usize),
                    metrics: target_metrics::TargetMetrics::new(&spec.name),
                    spec,
                })
            })
            .collect();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hookgate/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ConfigError::new("targets", format!("HTTP client: {e}")))?;
        let settings = settings.clone();
        let in_flight: usize = targets.iter().map(|t| t.spec.max_in_flight as usize).sum();
        let (records, queue) = mpsc::channel(in_flight.max(1));
        let freed = Arc::new(Notify::new());
        tokio::spawn(record_loop(store.clone(), queue, freed.clone()));
        Ok(Dispatcher {
            store,
            records,
            targets,
            client,
            wake,
            freed,
            schedule: retry::Schedule {
                base: Duration::from_millis(settings.retry_base_ms),
                max: Duration::from_millis(settings.retry_max_ms),
                retry_after_max: Duration::from_millis(settings.retry_after_max_ms),
            },
            settings,
            grace,
            instance: format!("{:08x}", rand::random::<u32>()),
            claims: AtomicU64::new(0),
            routes: Routes::default(),
        })
    }

    /// Sends with the transforms of `routes` (none by default).
    pub fn with_routes(mut self, routes: Routes) -> Dispatcher {
        self.routes = routes;
        self
    }

    /// The body a delivery is sent with: its route's transform output, or
    /// the stored body. `Err` (with the route) when the transform failed:
    /// the delivery is dead without a request.
    async fn transformed(
        &self,
        delivery: &Claimed,
    ) -> Result<Option<(String, Vec<u8>)>, (String, String)> {
        let parts = EventParts {
            source: &delivery.source,
            provider: self.routes.provider_of(&delivery.source),
            event_type: &delivery.event_type,
            provider_event_id: &delivery.provider_event_id,
            headers: &delivery.headers,
            content_type: delivery.content_type.as_deref(),
            body: &delivery.body,
        };
        match self.routes.transform(&delivery.target, &parts).await {
            None => Ok(None),
            Some((label, Ok(body))) => Ok(Some((label, body))),
            Some((label, Err(error))) => Err((label, error)),
        }
    }

    fn owner_token(&self) -> String {
        format!(
            "{}-{}",
            self.instance,
            self.claims.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Leases due deliveries for every target with free slots (at most
    /// `cap` each), all in one transaction, as far as each target's
    /// protection admits. With `sweep` false, a target is left out until a
    /// quarter of its slots are free (see [`Self::run`]). Returns each
    /// target with its owner token and claim.
    async fn claim_all(
        &self,
        cap: usize,
        sweep: bool,
    ) -> crate::store::Result<Vec<(&Arc<Target>, String, Claim)>> {
        let now = now_ms();
        let wanted: Vec<(&Arc<Target>, String, usize)> = self
            .targets
            .iter()
            .filter_map(|t| {
                let free = t.slots.available_permits();
                let enough = if sweep { 1 } else { t.refill_at };
                (free >= enough).then(|| (t, self.owner_token(), free.min(cap)))
            })
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<ClaimRequest<'_>> = wanted
            .iter()
            .map(|(t, owner, limit)| ClaimRequest {
                target: &t.spec.name,
                limit: *limit as i64,
                now,
                lease_until: now
                    + t.spec.timeout.as_millis() as i64
                    + self.settings.lease_margin_ms as i64,
                owner,
                protection: t.spec.protection,
            })
            .collect();
        let leased = self.store.claim_many(&requests).await?;
        Ok(wanted
            .into_iter()
            .zip(leased)
            .map(|((t, owner, _), batch)| (t, owner, batch))
            .collect())
    }

    /// One step for tests and tools: claims every due delivery that fits in
    /// the targets' free slots, sends them all and records the outcomes.
    /// Returns how many deliveries were attempted.
    pub async fn run_once(self: &Arc<Self>) -> crate::store::Result<usize> {
        let tracker = TaskTracker::new();
        let mut attempted = 0;
        for (target, owner, claim) in self.claim_all(usize::MAX, true).await? {
            attempted += claim.leased.len();
            self.spawn_attempts(&tracker, target, &owner, claim, &CancellationToken::new());
        }
        tracker.close();
        tracker.wait().await;
        self.recorded(Duration::MAX).await;
        Ok(attempted)
    }

    /// Waits (at most `limit`) until every finished attempt's outcome is
    /// stored: the recorder frees a slot only after its commit, so all
    /// slots free means nothing is waiting to be recorded.
    async fn recorded(&self, limit: Duration) {
        let all = async {
            for target in &self.targets {
                let _ = target.slots.acquire_many(target.spec.max_in_flight).await;
            }
        };
        let _ = tokio::time::timeout(limit, all).await;
    }

    /// Runs until `stop` is cancelled, then lets in-flight deliveries finish
    /// within `shutdown_grace_ms` and releases the leases of the rest.
    ///
    /// Claims are refills, not one per finished delivery: woken by a new
    /// event or a freed slot, the loop leases for a target only once a
    /// quarter of its slots are free, so a busy target is refilled in
    /// batches (one claim transaction per many deliveries rather than one
    /// or two). The poll sweep and the first pass fill any free slot, so a
    /// target waiting on a few slow deliveries is never starved.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let tracker = TaskTracker::new();
        let abort = CancellationToken::new();
        tracing::info!(targets = self.targets.len(), "dispatcher started");
        let mut sweep = true;
        while !stop.is_cancelled() {
            let limit = self.settings.batch_size as usize;
            let mut more_due = false;
            let mut poll = Duration::from_millis(self.settings.poll_interval_ms);
            match self.claim_all(limit, std::mem::take(&mut sweep)).await {
                Ok(leased) => {
                    for (target, owner, claim) in leased {
                        let n = claim.leased.len();
                        // A full lease means more may be due; a target
                        // whose slots are all taken is woken when one frees.
                        more_due |= n == limit.min(target.spec.max_in_flight as usize)
                            && target.slots.available_permits() > n;
                        // A target held back by its protection is claimed
                        // again when it may admit more (a token is due, a
                        // cool-down ends), if that comes before the poll.
                        if let Some(at) = claim.wait_until {
                            let wait = (at - now_ms()).max(MIN_WAIT_MS) as u64;
                            poll = poll.min(Duration::from_millis(wait));
                        }
                        self.spawn_attempts(&tracker, target, &owner, claim, &abort);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming deliveries failed"),
            }
            if more_due {
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = self.freed.notified() => {}
                _ = tokio::time::sleep(poll) => sweep = true,
            }
        }
        let in_flight = tracker.len();
        crate::shutdown::drain(&tracker, self.grace, &abort, |in_flight| {
            tracing::warn!(
                in_flight,
                "shutdown grace over; releasing unfinished deliveries"
            );
        })
        .await;
        // Sent is not yet recorded: wait for the recorder (which retries for
        // about two seconds), or the target would see these again.
        self.recorded(Duration::from_secs(5)).await;
        tracing::info!(drained = in_flight, "dispatcher stopped");
    }

    /// Starts one task per leased delivery, each holding a slot of its target.
    fn spawn_attempts(
        self: &Arc<Self>,
        tracker: &TaskTracker,
        target: &Arc<Target>,
        owner: &str,
        claim: Claim,
        abort: &CancellationToken,
    ) {
        if claim.probe {
            tracing::info!(target = %target.spec.name, "circuit half-open: sending one probe");
        }
        for delivery in claim.leased {
            let slot = take_slot(target);
            tracker.spawn(self.clone().attempt(
                target.clone(),
                slot,
                Lease {
                    owner: owner.to_string(),
                    probe: claim.probe,
                },
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
        lease: Lease,
        mut delivery: Claimed,
        abort: CancellationToken,
    ) {
        let this = &*self;
        let started_at = now_ms();
        let (transformed_by, body) = match this.transformed(&delivery).await {
            Ok(Some((label, body))) => (Some(label), Some(body)),
            Ok(None) => (None, None),
            Err((label, error)) => {
                // No request: the expression, not the target, failed, and it
                // fails the same way on every attempt. Dead at once.
                let answer = send::Answer::failed(error);
                return this
                    .finish(
                        target,
                        slot,
                        lease,
                        delivery,
                        started_at,
                        answer,
                        Some(label),
                        true,
                    )
                    .await;
            }
        };
        // The body moves into the request; nothing after the send reads it.
        let stored = std::mem::take(&mut delivery.body);
        let payload = match body {
            Some(json) => send::Payload::json(json),
            None => send::Payload::stored(stored, &delivery),
        };
        let answer = tokio::select! {
            answer = send::send(&this.client, &target.spec, &delivery, payload, UnixMs::from_millis(started_at)) => answer,
            _ = abort.cancelled() => {
                if let Err(e) = this.store.release(&lease.owner, std::slice::from_ref(&delivery.delivery_id)).await {
                    tracing::warn!(delivery_id = %delivery.delivery_id, error = %e, "releasing lease failed; it will expire");
                }
                return;
            }
        };
        this.finish(
            target,
            slot,
            lease,
            delivery,
            started_at,
            answer,
            transformed_by,
            false,
        )
        .await;
    }

    /// Decides the outcome of one attempt (`dead` when `fatal`), records
    /// it and frees the slot.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        target: Arc<Target>,
        slot: OwnedSemaphorePermit,
        lease: Lease,
        delivery: Claimed,
        started_at: i64,
        answer: send::Answer,
        transformed_by: Option<String>,
        fatal: bool,
    ) {
        let this = self;
        let finished_at = now_ms();
        let outcome = if answer.is_success() {
            AttemptOutcome::Delivered
        } else if fatal || delivery.attempt >= target.spec.max_attempts as i64 {
            AttemptOutcome::Dead
        } else {
            let delay = this.schedule.delay(delivery.attempt, answer.retry_after);
            AttemptOutcome::Retry {
                next_attempt_at: finished_at + delay.as_millis() as i64,
            }
        };
        target.metrics.attempt(answer.status, answer.duration);
        log_attempt(&target.spec.name, &delivery, &answer, &outcome);
        let record = AttemptRecord {
            delivery_id: delivery.delivery_id.clone(),
            target: target.spec.name.clone(),
            probe: lease.probe,
            // An expression that failed before any request says nothing
            // of the target's health.
            circuit_failures: target.spec.protection.circuit_failures,
            reached_target: !fatal,
            owner: lease.owner,
            attempt: delivery.attempt,
            started_at,
            duration_ms: answer.duration.as_millis() as i64,
            status_code: answer.status.map(i64::from),
            error: answer.error,
            response_excerpt: answer.excerpt,
            outcome,
            finished_at,
            transformed_by,
        };
        let finished = Finished {
            record,
            target,
            slot,
        };
        if let Err(lost) = this.records.send(finished).await {
            tracing::error!(
                delivery_id = %lost.0.record.delivery_id,
                "the recorder stopped; the delivery is sent again when its lease expires"
            );
        }
    }
}

/// The line of one attempt. A delivered attempt is logged at DEBUG (at
/// thousands per second a line each would cost more than the delivery;
/// `hookgate_deliveries_total` counts them); a failed one at INFO.
fn log_attempt(target: &str, delivery: &Claimed, answer: &send::Answer, outcome: &AttemptOutcome) {
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                target = %target,
                delivery_id = %delivery.delivery_id,
                event_id = %delivery.event_id,
                attempt = delivery.attempt,
                status = answer.status,
                outcome = outcome.as_str(),
                duration_ms = answer.duration.as_millis() as u64,
                error = answer.error.as_deref(),
                "delivery attempt"
            )
        };
    }
    if matches!(outcome, AttemptOutcome::Delivered) {
        line!(debug)
    } else {
        line!(info)
    }
}

/// The recorder: takes every finished attempt waiting and records them in
/// one transaction; after the commit it counts each outcome and frees each
/// attempt's slot, then wakes the claiming loop once. Up to [`RECORDERS`]
/// such transactions run at once, so a slow commit (Postgres busy with
/// ingest) does not hold every finished attempt, and its slot, behind it;
/// while all are busy, attempts gather into the next batch.
async fn record_loop(store: Arc<Store>, mut queue: mpsc::Receiver<Finished>, freed: Arc<Notify>) {
    let running = Arc::new(Semaphore::new(RECORDERS));
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    loop {
        let Ok(permit) = running.clone().acquire_owned().await else {
            return;
        };
        if queue.recv_many(&mut batch, RECORD_BATCH).await == 0 {
            return;
        }
        // The slots stay held until the outcomes are stored.
        let (records, held): (Vec<AttemptRecord>, Vec<_>) = batch
            .drain(..)
            .map(|f| (f.record, (f.target, f.slot)))
            .unzip();
        let (store, freed) = (store.clone(), freed.clone());
        tokio::spawn(async move {
            match record_with_retries(&store, &records).await {
                Ok(recorded) => {
                    recorded.changes.iter().for_each(protection::log_change);
                    for ((record, (target, _)), kept) in
                        records.iter().zip(&held).zip(recorded.kept)
                    {
                        if kept {
                            target.metrics.recorded(&record.outcome);
                        } else {
                            tracing::warn!(
                                delivery_id = %record.delivery_id,
                                "lease lost before the outcome was recorded; another dispatcher owns this delivery"
                            );
                        }
                    }
                }
                Err(e) => {
                    for record in &records {
                        tracing::error!(
                            delivery_id = %record.delivery_id,
                            error = %e,
                            "recording the attempt failed; the delivery is sent again when its lease expires"
                        );
                    }
                }
            }
            drop(held);
            drop(permit);
            freed.notify_one();
        });
    }
}

/// Records attempts, retrying a few times over about two seconds while the
/// store is unavailable: a blip between the target's answer and the record
/// would otherwise make the deliveries go out again when their leases expire.
async fn record_with_retries(
    store: &Store,
    records: &[AttemptRecord],
) -> crate::store::Result<crate::store::Recorded> {
    let mut waits = [200u64, 600, 1200].into_iter();
    loop {
        match store.record_many(records).await {
            Err(crate::store::Error::Unavailable(e)) => match waits.next() {
                Some(ms) => {
                    tracing::warn!(attempts = records.len(), error = %e, "recording attempts failed; trying again");
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
