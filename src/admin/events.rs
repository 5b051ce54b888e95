//! Events: list with filters (including the provider's own event ID),
//! detail with every attempt, replay; and the conflicts (same provider
//! event ID, different body), listed and shown side by side.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::deliveries::DeliveryView;
use super::status::EventStatus;
use super::{
    known_source, known_target, like_pattern, optional_json, time_param, NoParams, Page,
    PageParams, Params,
};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::{now_ms, ConflictId, DeliveryId, EventId};
use crate::store::{EventFilter, EventSummary};
use crate::time::format_ms;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Source name (a configured one; 404 otherwise).
    #[param(example = "stripe")]
    pub source: Option<String>,
    /// Event type; `*` matches anything (`invoice.*`).
    #[serde(rename = "type")]
    #[param(rename = "type", example = "invoice.*")]
    pub event_type: Option<String>,
    /// `pending`, `delivered`, `failed` (a delivery is dead; `dead` is
    /// accepted too), `cancelled` or `unrouted`.
    #[param(example = "failed")]
    pub status: Option<String>,
    /// Received at or after: RFC 3339 (seconds optional), `YYYY-MM-DD` or epoch milliseconds.
    #[param(example = "2026-11-24T08:30Z")]
    pub since: Option<String>,
    /// Received before: RFC 3339 (seconds optional), `YYYY-MM-DD` or epoch milliseconds.
    #[param(example = "2026-11-25")]
    pub until: Option<String>,
    /// The provider's event ID (Stripe `evt_...`, a GitHub delivery GUID).
    #[param(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventItem {
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    #[schema(example = "invoice.paid")]
    pub event_type: String,
    #[schema(example = "2026-11-24T08:30:00.123Z")]
    pub received_at: String,
    #[schema(example = "delivered")]
    pub status: EventStatus,
    /// Body size in bytes.
    #[schema(example = 1874)]
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

/// Events, newest first.
#[utoipa::path(get, path = "/events", tag = "events", operation_id = "listEvents", params(EventQuery),
    responses((status = 200, body = Page<EventItem>),
        (status = 400, description = "unknown query parameter, bad filter or cursor"),
        (status = 404, description = "unknown source")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    Params(q): Params<EventQuery>,
) -> Result<Json<Page<EventItem>>, ApiError> {
    known_source(&app, q.source.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(|s| EventStatus::parse("status", s))
        .transpose()?;
    let page = PageParams::of(q.limit, &q.cursor);
    let limit = page.limit()?;
    let filter = EventFilter {
        source: q.source.clone(),
        type_like: q.event_type.as_deref().map(like_pattern),
        status,
        since: time_param("since", q.since.as_deref())?,
        until: time_param("until", q.until.as_deref())?,
        before: page.after(|id| EventId::parse(id).is_some())?,
        limit: limit + 1,
    };
    let rows = match &q.provider_event_id {
        Some(pid) => app.store.list_events_by_provider_id(&filter, pid).await?,
        None => app.store.list_events(&filter).await?,
    };
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        EventItem::from,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    #[schema(example = "invoice.paid")]
    pub event_type: String,
    #[schema(example = "2026-11-24T08:30:00.123Z")]
    pub received_at: String,
    pub status: EventStatus,
    pub body_sha256: String,
    #[schema(example = "application/json")]
    pub content_type: Option<String>,
    /// Request headers as `[name, value]` pairs, secrets left out.
    #[schema(value_type = Vec<Vec<String>>, example = json!([["content-type", "application/json"], ["user-agent", "Stripe/1.0"]]))]
    pub headers: serde_json::Value,
    /// `json` when the body parses as JSON, else `base64`.
    #[schema(example = "json")]
    pub payload_encoding: &'static str,
    #[schema(value_type = Object, example = json!({"id": "evt_1QdX2b2eZvKYlo2C8Q3mYb5A", "type": "invoice.paid"}))]
    pub payload: serde_json::Value,
    /// The body exactly as received when it is UTF-8, else `null`.
    pub body_text: Option<String>,
    pub deliveries: Vec<DeliveryView>,
}

fn event_id(raw: &str) -> Result<EventId, ApiError> {
    EventId::parse(raw).ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))
}

/// The payload as JSON when it parses, else base64; and the raw text.
fn payload_views(body: &[u8]) -> (&'static str, serde_json::Value, Option<String>) {
    let text = std::str::from_utf8(body).ok().map(str::to_string);
    match serde_json::from_slice(body) {
        Ok(v) => ("json", v, text),
        Err(_) => ("base64", serde_json::Value::String(B64.encode(body)), text),
    }
}

/// One event with its headers, payload, deliveries and every attempt.
#[utoipa::path(get, path = "/events/{event_id}", tag = "events", operation_id = "getEvent",
    params(("event_id" = String, Path, description = "evt_...")),
    responses((status = 200, body = EventDetail), (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown event")))]
pub async fn detail(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<EventDetail>, ApiError> {
    let id = event_id(&raw)?;
    let event = app
        .store
        .event(id.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))?;
    let deliveries = app.store.deliveries_of(id.as_str()).await?;
    let attempts = app.store.attempts_of(id.as_str()).await?;
    let status = EventStatus::of(deliveries.iter().map(|d| d.status));
    let (payload_encoding, payload, body_text) = payload_views(&event.body);
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
        status,
        body_sha256: event.body_sha256,
        content_type: event.content_type,
        headers: serde_json::from_str(&event.headers).unwrap_or_default(),
        payload_encoding,
        payload,
        body_text,
        deliveries,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Targets to deliver to again; absent: every target the event's source
    /// routes this event type to now.
    #[schema(example = json!(["billing"]))]
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResponse {
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    #[schema(example = json!(["dlv_019ab3c2d9f1a2b3c4d5e6f70819"]))]
    pub deliveries: Vec<String>,
}

/// Delivers a stored event again (same `webhook-id`) as new deliveries.
#[utoipa::path(post, path = "/events/{event_id}/replay", tag = "events", operation_id = "replayEvent",
    params(("event_id" = String, Path, description = "evt_...")),
    request_body(content = Option<ReplayRequest>, description = "optional"),
    responses((status = 202, body = ReplayResponse), (status = 400, description = "bad body or query"),
        (status = 404, description = "unknown event, or a named target is not configured")))]
pub async fn replay(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    Params(NoParams {}): Params<NoParams>,
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
            for t in &named {
                known_target(&app, Some(t))?;
            }
            named
        }
        None => app.routes.targets(&event.source, &event.event_type),
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
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    /// Source name (a configured one; 404 otherwise).
    #[param(example = "stripe")]
    pub source: Option<String>,
    /// Items per page: 1 to 500, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictItem {
    #[schema(example = "cfl_019ab3c2d4e5f60718293a4b5c6d")]
    pub conflict_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    /// The stored event that owns this provider event ID.
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    pub stored_sha256: String,
    pub received_sha256: String,
    #[schema(example = "2026-11-24T08:31:00.456Z")]
    pub received_at: String,
}

/// Requests refused with 409: a stored provider event ID with another body.
#[utoipa::path(get, path = "/conflicts", tag = "events", operation_id = "listConflicts", params(ConflictQuery),
    responses((status = 200, body = Page<ConflictItem>),
        (status = 400, description = "unknown query parameter or bad cursor"),
        (status = 404, description = "unknown source")))]
pub async fn conflicts(
    State(app): State<Arc<AppState>>,
    Params(q): Params<ConflictQuery>,
) -> Result<Json<Page<ConflictItem>>, ApiError> {
    known_source(&app, q.source.as_deref())?;
    let page = PageParams::of(q.limit, &q.cursor);
    let limit = page.limit()?;
    let before = page.after(|id| ConflictId::parse(id).is_some())?;
    let rows = app
        .store
        .list_conflicts(q.source.as_deref(), before.as_deref(), limit + 1)
        .await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        |c| ConflictItem {
            conflict_id: c.id,
            source: c.source,
            provider_event_id: c.provider_event_id,
            event_id: c.event_id,
            stored_sha256: c.stored_sha256,
            received_sha256: c.received_sha256,
            received_at: format_ms(c.received_at),
        },
    )))
}

/// One side of a conflict: a body with its headers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictSide {
    #[schema(example = "2026-11-24T08:30:00.123Z")]
    pub received_at: String,
    pub sha256: String,
    /// Request headers as `[name, value]` pairs, secrets left out.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: serde_json::Value,
    /// `json` when the body parses as JSON, else `base64`.
    pub payload_encoding: &'static str,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The body exactly as received when it is UTF-8, else `null`.
    pub body_text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictDetail {
    #[schema(example = "cfl_019ab3c2d4e5f60718293a4b5c6d")]
    pub conflict_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    /// The event as stored (and delivered).
    pub stored: ConflictSide,
    /// The refused request.
    pub received: ConflictSide,
}

/// One refused request next to the stored event it collided with.
#[utoipa::path(get, path = "/conflicts/{conflict_id}", tag = "events", operation_id = "getConflict",
    params(("conflict_id" = String, Path, description = "cfl_...")),
    responses((status = 200, body = ConflictDetail), (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown conflict")))]
pub async fn conflict(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<ConflictDetail>, ApiError> {
    let missing = || ApiError::not_found(format!("no conflict {raw:?}"));
    let id = ConflictId::parse(&raw).ok_or_else(missing)?;
    let c = app.store.conflict(id.as_str()).await?.ok_or_else(missing)?;
    let event = app.store.event(&c.event_id).await?.ok_or_else(missing)?;
    let side = |received_at: i64, sha256: String, headers: &str, body: &[u8]| {
        let (payload_encoding, payload, body_text) = payload_views(body);
        ConflictSide {
            received_at: format_ms(received_at),
            sha256,
            headers: serde_json::from_str(headers).unwrap_or_default(),
            payload_encoding,
            payload,
            body_text,
        }
    };
    Ok(Json(ConflictDetail {
        stored: side(
            event.received_at,
            c.stored_sha256,
            &event.headers,
            &event.body,
        ),
        received: side(c.received_at, c.received_sha256, &c.headers, &c.body),
        conflict_id: c.id,
        source: c.source,
        provider_event_id: c.provider_event_id,
        event_id: c.event_id,
    }))
}
