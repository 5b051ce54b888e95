//! Deliveries: list by status and target, retry one dead delivery, retry
//! all dead deliveries (of one target).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::time::format_ms;
use super::{optional_json, query, Page, PageParams};
use crate::error::ApiError;
use crate::ids::{now_ms, DeliveryId};
use crate::startup::AppState;
use crate::store::{AttemptRow, DeliveryFilter, DeliveryRow, RetryOutcome};

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
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub delivery_id: String,
    pub event_id: String,
    pub target: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempt_count: i64,
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub delivered_at: Option<String>,
    /// Every attempt, oldest first (event detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

impl DeliveryView {
    fn new(d: DeliveryRow) -> Self {
        DeliveryView {
            next_attempt_at: (d.status == "pending").then(|| format_ms(d.next_attempt_at)),
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
            attempts: None,
        }
    }

    pub fn with_attempts(d: DeliveryRow, attempts: Vec<AttemptRow>) -> Self {
        let mut view = Self::new(d);
        view.attempts = Some(attempts.into_iter().map(AttemptView::from).collect());
        view
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `dead`.
    pub status: Option<String>,
    pub target: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn check_status(status: &Option<String>) -> Result<(), ApiError> {
    match status.as_deref() {
        None | Some("pending" | "delivered" | "dead") => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "status {other:?} is not pending, delivered or dead"
        ))),
    }
}

/// Deliveries, newest first.
#[utoipa::path(get, path = "/deliveries", tag = "deliveries", params(DeliveryQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 400, description = "bad filter or cursor")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    q: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let q = query(q)?;
    check_status(&q.status)?;
    let page = PageParams::of(q.limit, &q.cursor);
    let limit = page.limit()?;
    let filter = DeliveryFilter {
        status: q.status,
        target: q.target,
        before: page.after(|id| DeliveryId::parse(id).is_some())?,
        limit,
    };
    let rows = app.store.list_deliveries(&filter).await?;
    let last = rows.last().map(|r| r.id.clone());
    let items = rows.into_iter().map(DeliveryView::new).collect();
    Ok(Json(Page::new(items, limit, last.as_deref())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResponse {
    pub delivery_id: String,
    pub status: String,
}

/// Puts a dead delivery back to pending, with a fresh `max_attempts`.
#[utoipa::path(post, path = "/deliveries/{delivery_id}/retry", tag = "deliveries",
    params(("delivery_id" = String, Path, description = "dlv_...")),
    responses((status = 202, body = RetryResponse), (status = 404, description = "unknown delivery"),
        (status = 409, description = "the delivery is not dead")))]
pub async fn retry_one(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
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
pub struct BulkRetry {
    /// Must be `dead`.
    pub status: String,
    /// Only this target's deliveries; absent: every target.
    pub target: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkRetryResponse {
    pub count: u64,
}

/// Puts every dead delivery (of one target) back to pending.
#[utoipa::path(post, path = "/deliveries/retry", tag = "deliveries", request_body = BulkRetry,
    responses((status = 202, body = BulkRetryResponse), (status = 400, description = "bad filter")))]
pub async fn retry_bulk(
    State(app): State<Arc<AppState>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // JSON is accepted whatever the Content-Type, as curl -d sends it.
    let req: BulkRetry = optional_json(&body)?.ok_or_else(|| {
        ApiError::bad_request("body must be {\"status\": \"dead\", \"target\": ...}")
    })?;
    if req.status != "dead" {
        return Err(ApiError::bad_request(format!(
            "status {:?}: only dead deliveries can be retried",
            req.status
        )));
    }
    let count = app
        .store
        .retry_dead(req.target.as_deref(), now_ms())
        .await?;
    if count > 0 {
        app.wake.notify_one();
    }
    tracing::info!(
        target = req.target.as_deref().unwrap_or("*"),
        count,
        "dead deliveries retried"
    );
    Ok((StatusCode::ACCEPTED, Json(BulkRetryResponse { count })).into_response())
}
