//! What goes into and comes out of the store: events, deliveries, attempts
//! and the admin views of them.

use bytes::Bytes;
use serde::Serialize;

pub use super::status::{DeliveryStatus, EventStatus};
pub use super::targets::{BlockedKey, Circuit, CircuitChange, Protection, RateLimit, TargetState};
use crate::ids::{DeliveryId, EventId};
use crate::providers::Verified;

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
    pub deliveries: Vec<NewDelivery>,
    /// The errors its route expressions raised, as a JSON array.
    pub route_errors: Option<String>,
}

/// Where an event goes: the targets with their ordering keys, and the
/// errors its route expressions raised (a JSON array).
#[derive(Debug, Clone, Default)]
pub struct Routing {
    pub targets: Vec<(String, Option<String>)>,
    pub errors: Option<String>,
}

/// A new pending delivery of an event.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: DeliveryId,
    pub target: String,
    /// Deliveries to one target with equal keys go one at a time.
    pub ordering_key: Option<String>,
}

impl NewDelivery {
    pub fn new(target: String, ordering_key: Option<String>, at: i64) -> NewDelivery {
        NewDelivery {
            id: DeliveryId::generate(at),
            target,
            ordering_key,
        }
    }
}

impl NewEvent {
    #[allow(clippy::too_many_arguments)]
    pub fn from_verified(
        verified: &Verified,
        source: &str,
        body: Bytes,
        headers: String,
        content_type: Option<String>,
        routing: Routing,
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
            deliveries: routing
                .targets
                .into_iter()
                .map(|(target, key)| NewDelivery::new(target, key, received_at))
                .collect(),
            route_errors: routing.errors,
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
    pub delivery_id: DeliveryId,
    pub event_id: EventId,
    pub target: String,
    /// The number of this attempt (1 for the first).
    pub attempt: i64,
    pub source: String,
    pub event_type: String,
    pub provider_event_id: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The stored headers (a JSON array of pairs), for transforms.
    pub headers: String,
}

/// A lease request: up to `limit` due deliveries of `target`, fewer when
/// its `protection` (pause, circuit, rate budget) says so.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub target: &'a str,
    pub limit: i64,
    pub now: i64,
    pub lease_until: i64,
    pub owner: &'a str,
    pub protection: Protection,
}

/// What one target's claim leased.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub leased: Vec<Claimed>,
    /// The lease is the one probe of a half-open circuit.
    pub probe: bool,
    /// When the target's protection held deliveries back: when it may
    /// admit more (a token due, a cool-down over).
    pub wait_until: Option<i64>,
}

/// What recording a batch of attempts did.
#[derive(Debug, Clone, Default)]
pub struct Recorded {
    /// For each record, in order, `false` when its lease was lost.
    pub kept: Vec<bool>,
    /// Circuits those attempts opened or closed.
    pub changes: Vec<CircuitChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    Retry { next_attempt_at: i64 },
    Dead,
}

impl AttemptOutcome {
    pub fn is_success(&self) -> bool {
        matches!(self, AttemptOutcome::Delivered)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::Dead => "dead",
        }
    }

    pub(crate) fn delivery_status(&self) -> DeliveryStatus {
        match self {
            AttemptOutcome::Delivered => DeliveryStatus::Delivered,
            AttemptOutcome::Retry { .. } => DeliveryStatus::Pending,
            AttemptOutcome::Dead => DeliveryStatus::Dead,
        }
    }

    pub(crate) fn next_attempt_at(&self, now: i64) -> i64 {
        match self {
            AttemptOutcome::Retry { next_attempt_at } => *next_attempt_at,
            _ => now,
        }
    }
}

/// One finished HTTP attempt, recorded only while its lease is held.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: DeliveryId,
    pub target: String,
    /// The attempt was a half-open circuit's probe.
    pub probe: bool,
    /// The target's `circuit_failures`, for its breaker.
    pub circuit_failures: u32,
    /// A request was made (or tried): the outcome speaks for the target's
    /// health. False when the delivery failed before any request.
    pub reached_target: bool,
    pub owner: String,
    pub attempt: i64,
    pub started_at: i64,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub outcome: AttemptOutcome,
    pub finished_at: i64,
    /// The route whose transform shaped the body sent, if any.
    pub transformed_by: Option<String>,
}

/// Outbox depth of one target, for the `hookgate_outbox_*` gauges.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Backlog {
    pub target: String,
    pub pending: i64,
    pub oldest_created_at: Option<i64>,
}

/// One target's outbox depth as `/metrics` reads it: `pending` counted up
/// to a cap ([`super::Store::target_backlog`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TargetBacklog {
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
    /// The errors its route expressions raised at ingest (a JSON array).
    pub route_errors: Option<String>,
}

/// A delivery as operators see it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub target: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
    pub ordering_key: Option<String>,
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
    pub transformed_by: Option<String>,
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
    #[sqlx(try_from = "String")]
    pub status: EventStatus,
}

/// Which events a list or a bulk change is about; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct EventScope {
    pub source: Option<String>,
    /// The event type; `*` matches anything (`invoice.*`).
    pub type_glob: Option<String>,
    /// Received at or after (epoch ms).
    pub since: Option<i64>,
    /// Received before (epoch ms).
    pub until: Option<i64>,
}

impl EventScope {
    /// [`EventScope::type_glob`] as the `LIKE` pattern the queries bind.
    pub(crate) fn type_like(&self) -> Option<String> {
        self.type_glob.as_deref().map(super::sql::like_pattern)
    }
}

/// Filters of the admin events list; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub scope: EventScope,
    pub status: Option<EventStatus>,
    /// Only events whose ID sorts before this one (the page cursor).
    pub before: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub target: Option<String>,
    pub before: Option<String>,
    pub limit: i64,
}

/// Which deliveries a bulk retry or cancel touches; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct DeliveryMatch {
    pub target: Option<String>,
    pub event_id: Option<String>,
    /// The events the deliveries belong to, as in [`EventFilter`].
    pub scope: EventScope,
}

/// What a bulk change does to the deliveries it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkChange {
    /// Dead deliveries go back to pending with a fresh attempt budget.
    Retry,
    /// Pending deliveries become `cancelled`: never sent (again).
    Cancel,
}

/// A refused request with its body and headers, for a side-by-side view.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConflictDetailRow {
    pub id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_id: String,
    pub stored_sha256: String,
    pub received_sha256: String,
    pub body: Vec<u8>,
    /// JSON array of `[name, value]` pairs.
    pub headers: String,
    pub received_at: i64,
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
    NotDead(DeliveryStatus),
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
