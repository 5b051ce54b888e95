//! Events: list with filters, detail with every attempt, replay; and the
//! conflicts (same provider event ID, different body).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::deliveries::DeliveryView;
use super::time::{format_ms, parse};
use super::{optional_json, query, Page, PageParams};
use crate::error::ApiError;
use crate::ids::{now_ms, ConflictId, DeliveryId, EventId};
use crate::startup::AppState;
use crate::store::{EventFilter, EventSummary};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Source name.
    pub source: Option<String>,
    /// Event type; `*` matches anything (`invoice.*`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// `pending`, `delivered`, `failed` (a delivery is dead) or `unrouted`.
    pub status: Option<String>,
    /// Received at or after: RFC 3339, `YYYY-MM-DD` or epoch milliseconds.
    pub since: Option<String>,
    /// Received before: RFC 3339, `YYYY-MM-DD` or epoch milliseconds.
    pub until: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventItem {
    pub event_id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_type: String,
    pub received_at: String,
    pub status: String,
    pub size: i64,
}

impl From<EventSummary> for EventItem {
    fn from(e: EventSummary) -> Self {
        EventItem {
            event_id: e.id,
            source: e.source,
            provider_event_id: e.provider_event_id,
            event_type: e.event_type,
            received_at: format_ms(e.received_at),
            status: e.status,
            size: e.size,
        }
    }
}

fn time_param(name: &str, value: &Option<String>) -> Result<Option<i64>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            parse(v).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name}={v:?} is not RFC 3339, YYYY-MM-DD or epoch milliseconds"
                ))
            })
        })
        .transpose()
}

/// A `*` glob as a SQL LIKE pattern (with `\` as the escape character).
fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Events, newest first.
#[utoipa::path(get, path = "/events", tag = "events", params(EventQuery),
    responses((status = 200, body = Page<EventItem>), (status = 400, description = "bad filter or cursor")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    q: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Json<Page<EventItem>>, ApiError> {
    let q = query(q)?;
    if let Some(s) = &q.status {
        if !["pending", "delivered", "failed", "unrouted"].contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!(
                "status {s:?} is not pending, delivered, failed or unrouted"
            )));
        }
    }
    let page = PageParams::of(q.limit, &q.cursor);
    let limit = page.limit()?;
    let filter = EventFilter {
        source: q.source.clone(),
        type_like: q.event_type.as_deref().map(like_pattern),
        status: q.status.clone(),
        since: time_param("since", &q.since)?,
        until: time_param("until", &q.until)?,
        before: page.after(|id| EventId::parse(id).is_some())?,
        limit,
    };
    let rows = app.store.list_events(&filter).await?;
    let last = rows.last().map(|r| r.id.clone());
    let items = rows.into_iter().map(EventItem::from).collect();
    Ok(Json(Page::new(items, limit, last.as_deref())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    pub event_id: String,
    pub source: String,
    pub provider_event_id: String,
    pub event_type: String,
    pub received_at: String,
    pub status: String,
    pub body_sha256: String,
    pub content_type: Option<String>,
    /// Request headers as `[name, value]` pairs, secrets left out.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: serde_json::Value,
    /// `json` when the body parses as JSON, else `base64`.
    pub payload_encoding: &'static str,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub deliveries: Vec<DeliveryView>,
}

fn event_id(raw: &str) -> Result<EventId, ApiError> {
    EventId::parse(raw).ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))
}

/// One event with its headers, payload, deliveries and every attempt.
#[utoipa::path(get, path = "/events/{event_id}", tag = "events",
    params(("event_id" = String, Path, description = "evt_...")),
    responses((status = 200, body = EventDetail), (status = 404, description = "unknown event")))]
pub async fn detail(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
) -> Result<Json<EventDetail>, ApiError> {
    let id = event_id(&raw)?;
    let event = app
        .store
        .event(id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))?;
    let deliveries = app.store.deliveries_of(id.as_str()).await?;
    let attempts = app.store.attempts_of(id.as_str()).await?;
    let status = if deliveries.iter().any(|d| d.status == "dead") {
        "failed"
    } else if deliveries.iter().any(|d| d.status == "pending") {
        "pending"
    } else if deliveries.is_empty() {
        "unrouted"
    } else {
        "delivered"
    };
    let (payload_encoding, payload) = match serde_json::from_slice(&event.body) {
        Ok(v) => ("json", v),
        Err(_) => ("base64", serde_json::Value::String(B64.encode(&event.body))),
    };
    let deliveries = deliveries
        .into_iter()
        .map(|d| {
            let mine = attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .cloned()
                .collect();
            DeliveryView::with_attempts(d, mine)
        })
        .collect();
    Ok(Json(EventDetail {
        event_id: event.id,
        source: event.source,
        provider_event_id: event.provider_event_id,
        event_type: event.event_type,
        received_at: format_ms(event.received_at),
        status: status.into(),
        body_sha256: event.body_sha256,
        content_type: event.content_type,
        headers: serde_json::from_str(&event.headers).unwrap_or_default(),
        payload_encoding,
        payload,
        deliveries,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Targets to deliver to again; absent: every target the event's source
    /// routes this event type to now.
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResponse {
    pub event_id: String,
    pub deliveries: Vec<String>,
}

/// Delivers a stored event again (same `webhook-id`) as new deliveries.
#[utoipa::path(post, path = "/events/{event_id}/replay", tag = "events",
    params(("event_id" = String, Path, description = "evt_...")),
    request_body(content = Option<ReplayRequest>, description = "optional"),
    responses((status = 202, body = ReplayResponse), (status = 404, description = "unknown event"),
        (status = 422, description = "a named target is not configured")))]
pub async fn replay(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Option<ReplayRequest> = optional_json(&body)?;
    let id = event_id(&raw)?;
    let event = app
        .store
        .event(id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))?;
    let targets = match request.and_then(|r| r.targets) {
        Some(named) => {
            if let Some(unknown) = named
                .iter()
                .find(|t| !app.config.targets.iter().any(|c| &c.name == *t))
            {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_target",
                    format!("no target named {unknown:?}"),
                ));
            }
            named
        }
        None => app.config.routed_targets(&event.source, &event.event_type),
    };
    let now = now_ms();
    let deliveries: Vec<(DeliveryId, String)> = targets
        .into_iter()
        .map(|t| (DeliveryId::generate(now), t))
        .collect();
    app.store
        .add_deliveries(id.as_str(), &deliveries, now)
        .await?;
    app.wake.notify_one();
    tracing::info!(event_id = %id, deliveries = deliveries.len(), "event replayed");
    let body = ReplayResponse {
        event_id: id.to_string(),
        deliveries: deliveries.into_iter().map(|(d, _)| d.to_string()).collect(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    pub source: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictItem {
    pub conflict_id: String,
    pub source: String,
    pub provider_event_id: String,
    /// The stored event that owns this provider event ID.
    pub event_id: String,
    pub stored_sha256: String,
    pub received_sha256: String,
    pub received_at: String,
}

/// Requests refused with 409: a stored provider event ID with another body.
#[utoipa::path(get, path = "/conflicts", tag = "events", params(ConflictQuery),
    responses((status = 200, body = Page<ConflictItem>)))]
pub async fn conflicts(
    State(app): State<Arc<AppState>>,
    q: Result<Query<ConflictQuery>, QueryRejection>,
) -> Result<Json<Page<ConflictItem>>, ApiError> {
    let q = query(q)?;
    let page = PageParams::of(q.limit, &q.cursor);
    let limit = page.limit()?;
    let before = page.after(|id| ConflictId::parse(id).is_some())?;
    let rows = app
        .store
        .list_conflicts(q.source.as_deref(), before.as_deref(), limit)
        .await?;
    let last = rows.last().map(|r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|c| ConflictItem {
            conflict_id: c.id,
            source: c.source,
            provider_event_id: c.provider_event_id,
            event_id: c.event_id,
            stored_sha256: c.stored_sha256,
            received_sha256: c.received_sha256,
            received_at: format_ms(c.received_at),
        })
        .collect();
    Ok(Json(Page::new(items, limit, last.as_deref())))
}
