//! Deliveries: list by status and target, retry one dead delivery, retry
//! the dead deliveries matching a filter, cancel pending ones; the bulk
//! calls take `dry_run` to count first.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::params::{
    known_source, known_target, list_query, optional_json, time_param, NoParams, Page, Params,
};
use super::status::{self, DeliveryStatus};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::{now_ms, DeliveryId, EventId};
use crate::store::{
    AttemptRow, BulkChange, DeliveryFilter, DeliveryMatch, DeliveryRow, EventScope, RetryOutcome,
};
use crate::time::format_ms;

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: i64,
    pub started_at: String,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    /// The first 1 KiB of the target's answer.
    pub response_excerpt: Option<String>,
    /// `delivered`, `retry` or `dead`.
    pub outcome: String,
    /// The route whose transform made the body this attempt sent
    /// (`routes[i] (source -> target)`); absent when the stored body was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "routes[0] (stripe -> billing)")]
    pub transformed_by: Option<String>,
}

impl From<AttemptRow> for AttemptView {
    fn from(a: AttemptRow) -> Self {
        AttemptView {
            attempt: a.attempt,
            started_at: format_ms(a.started_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_excerpt: a.response_excerpt,
            outcome: a.outcome,
            transformed_by: a.transformed_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub delivery_id: String,
    pub event_id: String,
    pub target: String,
    #[schema(example = "dead")]
    pub status: DeliveryStatus,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub delivered_at: Option<String>,
    /// The key its route's `ordering_key` gave at ingest: deliveries to this
    /// target with the same key go one at a time, in ingest order.
    pub ordering_key: Option<String>,
    /// The route whose transform shaped the latest attempt's body (event
    /// detail only; absent when the stored body was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "routes[0] (stripe -> billing)")]
    pub transformed_by: Option<String>,
    /// Every attempt, oldest first (event detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

impl DeliveryView {
    fn new(d: DeliveryRow) -> Self {
        DeliveryView {
            next_attempt_at: (d.status == DeliveryStatus::Pending)
                .then(|| format_ms(d.next_attempt_at)),
            delivery_id: d.id,
            event_id: d.event_id,
            target: d.target,
            status: d.status,
            attempt_count: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: format_ms(d.created_at),
            updated_at: format_ms(d.updated_at),
            delivered_at: d.delivered_at.map(format_ms),
            ordering_key: d.ordering_key,
            transformed_by: None,
            attempts: None,
        }
    }

    pub fn with_attempts(d: DeliveryRow, attempts: Vec<AttemptRow>) -> Self {
        let mut view = Self::new(d);
        view.transformed_by = attempts.last().and_then(|a| a.transformed_by.clone());
        view.attempts = Some(attempts.into_iter().map(AttemptView::from).collect());
        view
    }
}

list_query! {
    pub struct DeliveryQuery {
        /// `pending`, `delivered`, `dead` or `cancelled`.
        #[param(example = "dead")]
        pub status: Option<String>,
        /// Target name (a configured one; 404 otherwise).
        #[param(example = "billing")]
        pub target: Option<String>,
    }
}

/// Deliveries, newest first.
#[utoipa::path(get, path = "/deliveries", tag = "deliveries", operation_id = "listDeliveries", params(DeliveryQuery),
    responses((status = 200, body = Page<DeliveryView>),
        (status = 400, description = "unknown query parameter, bad filter or cursor"),
        (status = 404, description = "unknown target")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    Params(q): Params<DeliveryQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    known_target(&app, q.target.as_deref())?;
    let status = status::filter(q.status.as_deref(), DeliveryStatus::parse)?;
    let page = q.page();
    let limit = page.limit()?;
    let filter = DeliveryFilter {
        status,
        target: q.target,
        before: page.after(|id| DeliveryId::parse(id).is_some())?,
        limit: limit + 1,
    };
    let rows = app.store.list_deliveries(&filter).await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        DeliveryView::new,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResponse {
    pub delivery_id: String,
    pub status: String,
}

/// Puts a dead delivery back to pending, with a fresh `max_attempts`.
#[utoipa::path(post, path = "/deliveries/{delivery_id}/retry", tag = "deliveries", operation_id = "retryDelivery",
    params(("delivery_id" = String, Path, description = "dlv_...")),
    responses((status = 202, body = RetryResponse), (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown delivery"),
        (status = 409, description = "the delivery is not dead")))]
pub async fn retry_one(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let id = DeliveryId::parse(&raw)
        .ok_or_else(|| ApiError::not_found(format!("no delivery {raw:?}")))?;
    match app.store.retry_delivery(id.as_str(), now_ms()).await? {
        RetryOutcome::Requeued => {
            app.wake.notify_one();
            let body = RetryResponse {
                delivery_id: id.to_string(),
                status: "pending".into(),
            };
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
        RetryOutcome::NotDead(status) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_dead",
            format!("delivery {id} is {status}; only dead deliveries can be retried"),
        )),
        RetryOutcome::NotFound => Err(ApiError::not_found(format!("no delivery {raw:?}"))),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "dead", "target": "billing", "source": "stripe", "type": "invoice.*", "since": "2026-11-24", "dry_run": true}))]
pub struct BulkRetry {
    /// Must be `dead`: only dead deliveries can be retried.
    pub status: String,
    /// Only this target's deliveries; absent: every target.
    pub target: Option<String>,
    /// Only deliveries of events from this source.
    pub source: Option<String>,
    /// Only deliveries of events of this type; `*` matches anything.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub event_type: Option<String>,
    /// Only events received at or after this time (as the events list).
    pub since: Option<String>,
    /// Only events received before this time.
    pub until: Option<String>,
    /// Count what would be retried, change nothing (answers 200).
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    /// How many deliveries were (or, in a dry run, would be) changed.
    #[schema(example = 3)]
    pub count: u64,
    /// Present and `true` when nothing was changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

fn bulk_answer(count: u64, dry_run: bool) -> Response {
    let status = if dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    (status, Json(BulkResponse { count, dry_run })).into_response()
}

/// Applies `change` to the deliveries `m` matches (dead ones for a retry,
/// pending ones for a cancel), or with `dry_run` only counts them.
async fn bulk_change(
    app: &AppState,
    change: BulkChange,
    m: &DeliveryMatch,
    dry_run: bool,
) -> Result<u64, ApiError> {
    if dry_run {
        let status = match change {
            BulkChange::Retry => DeliveryStatus::Dead,
            BulkChange::Cancel => DeliveryStatus::Pending,
        };
        let count = app.store.count_matching(status.as_str(), m).await?;
        return Ok(count.max(0) as u64);
    }
    Ok(match change {
        BulkChange::Retry => app.store.retry_matching(m, now_ms()).await?,
        BulkChange::Cancel => app.store.cancel_matching(m, now_ms()).await?,
    })
}

/// Puts the dead deliveries matching the filter back to pending; with
/// `dry_run`, counts them.
#[utoipa::path(post, path = "/deliveries/retry", tag = "deliveries", operation_id = "retryDeliveries",
    request_body = BulkRetry,
    responses((status = 202, body = BulkResponse, description = "retried"),
        (status = 200, body = BulkResponse, description = "dry run: the count only"),
        (status = 400, description = "bad body or filter"),
        (status = 404, description = "unknown source or target")))]
pub async fn retry_bulk(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // JSON is accepted whatever the Content-Type, as curl -d sends it.
    let req: BulkRetry = optional_json(&body)?.ok_or_else(|| {
        ApiError::bad_request("body must be {\"status\": \"dead\", \"target\": ...}")
    })?;
    if DeliveryStatus::parse("status", &req.status)? != DeliveryStatus::Dead {
        return Err(ApiError::bad_request(format!(
            "status {:?}: only dead deliveries can be retried",
            req.status
        )));
    }
    known_target(&app, req.target.as_deref())?;
    known_source(&app, req.source.as_deref())?;
    let m = DeliveryMatch {
        target: req.target.clone(),
        event_id: None,
        scope: EventScope {
            source: req.source.clone(),
            type_glob: req.event_type.clone(),
            since: time_param("since", req.since.as_deref())?,
            until: time_param("until", req.until.as_deref())?,
        },
    };
    let count = bulk_change(&app, BulkChange::Retry, &m, req.dry_run).await?;
    if req.dry_run {
        return Ok(bulk_answer(count, true));
    }
    if count > 0 {
        app.wake.notify_one();
    }
    tracing::info!(
        target = req.target.as_deref().unwrap_or("*"),
        source = req.source.as_deref().unwrap_or("*"),
        count,
        "dead deliveries retried"
    );
    Ok(bulk_answer(count, false))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target": "billing", "dry_run": true}))]
pub struct BulkCancel {
    /// Cancel this event's pending deliveries.
    pub event_id: Option<String>,
    /// Cancel this target's pending deliveries (of `event_id` only, if given).
    pub target: Option<String>,
    /// Count what would be cancelled, change nothing (answers 200).
    #[serde(default)]
    pub dry_run: bool,
}

/// Cancels the pending deliveries of an event or of a target: they are
/// never sent (again). An attempt already under way finishes, but its
/// outcome is not recorded. With `dry_run`, counts them.
#[utoipa::path(post, path = "/deliveries/cancel", tag = "deliveries", operation_id = "cancelDeliveries",
    request_body = BulkCancel,
    responses((status = 202, body = BulkResponse, description = "cancelled"),
        (status = 200, body = BulkResponse, description = "dry run: the count only"),
        (status = 400, description = "bad body: name an event_id or a target"),
        (status = 404, description = "unknown event or target")))]
pub async fn cancel(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: BulkCancel = optional_json(&body)?
        .filter(|r: &BulkCancel| r.event_id.is_some() || r.target.is_some())
        .ok_or_else(|| {
            ApiError::bad_request(
                "name what to cancel: {\"event_id\": \"evt_...\"} and/or {\"target\": \"...\"}",
            )
        })?;
    known_target(&app, req.target.as_deref())?;
    if let Some(raw) = &req.event_id {
        let missing =
            || ApiError::not_found(format!("no event {raw:?}")).with("event_id", raw.as_str());
        let id = EventId::parse(raw).ok_or_else(missing)?;
        app.store.event(id.as_str()).await?.ok_or_else(missing)?;
    }
    let m = DeliveryMatch {
        target: req.target.clone(),
        event_id: req.event_id.clone(),
        ..DeliveryMatch::default()
    };
    let count = bulk_change(&app, BulkChange::Cancel, &m, req.dry_run).await?;
    if req.dry_run {
        return Ok(bulk_answer(count, true));
    }
    tracing::info!(
        target = req.target.as_deref().unwrap_or("*"),
        event_id = req.event_id.as_deref().unwrap_or("*"),
        count,
        "pending deliveries cancelled"
    );
    Ok(bulk_answer(count, false))
}
