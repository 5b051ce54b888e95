//! Events: list with filters (including the provider's own event ID),
//! detail with every attempt, replay.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::deliveries::DeliveryView;
use super::params::{
    known_source, known_target, list_query, optional_json, time_param, NoParams, Page, Params,
};
use super::status::{self, EventStatus};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::{now_ms, EventId};
use crate::routes::EventParts;
use crate::store::{EventFilter, EventScope, EventSummary, NewDelivery};
use crate::time::format_ms;

list_query! {
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
    }
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
    let status = status::filter(q.status.as_deref(), EventStatus::parse)?;
    let page = q.page();
    let limit = page.limit()?;
    let filter = EventFilter {
        scope: EventScope {
            source: q.source.clone(),
            type_glob: q.event_type.clone(),
            since: time_param("since", q.since.as_deref())?,
            until: time_param("until", q.until.as_deref())?,
        },
        status,
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
    /// Errors the route expressions (`filter`, `ordering_key`) raised on
    /// this event at ingest; a route whose filter failed did not take it.
    pub route_errors: Vec<crate::routes::RouteError>,
    pub deliveries: Vec<DeliveryView>,
}

fn event_id(raw: &str) -> Result<EventId, ApiError> {
    EventId::parse(raw).ok_or_else(|| ApiError::not_found(format!("no event {raw:?}")))
}

/// A stored request's headers and body as the API shows them.
pub(super) struct Shown {
    /// `[name, value]` pairs.
    pub headers: serde_json::Value,
    /// `json` when the body parses as JSON, else `base64`.
    pub payload_encoding: &'static str,
    pub payload: serde_json::Value,
    /// The body exactly as received when it is UTF-8.
    pub body_text: Option<String>,
}

/// `headers` (stored as a JSON array) and `body`: the payload as JSON when
/// it parses, else base64; and the raw text.
pub(super) fn shown(headers: &str, body: &[u8]) -> Shown {
    let body_text = std::str::from_utf8(body).ok().map(str::to_string);
    let (payload_encoding, payload) = match serde_json::from_slice(body) {
        Ok(v) => ("json", v),
        Err(_) => ("base64", serde_json::Value::String(B64.encode(body))),
    };
    Shown {
        headers: serde_json::from_str(headers).unwrap_or_default(),
        payload_encoding,
        payload,
        body_text,
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
    // Pruned since it was read: it has no deliveries left either.
    let status = app
        .store
        .event_status(id.as_str())
        .await?
        .unwrap_or(EventStatus::Unrouted);
    let shown = shown(&event.headers, &event.body);
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
        headers: shown.headers,
        payload_encoding: shown.payload_encoding,
        payload: shown.payload,
        body_text: shown.body_text,
        route_errors: event
            .route_errors
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default(),
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
    // The routes decide again, over the stored event, with the expressions
    // configured now; named targets override which targets, and keep the
    // ordering key their route computes.
    let parts = EventParts {
        source: &event.source,
        provider: app
            .sources
            .get(&event.source)
            .map_or("", |s| s.provider.name()),
        event_type: &event.event_type,
        provider_event_id: &event.provider_event_id,
        headers: &event.headers,
        content_type: event.content_type.as_deref(),
        body: &event.body,
    };
    let decision =
        app.routes.decide(&parts).await.map_err(|e| {
            ApiError::unavailable(format!("the routes cannot be evaluated now: {e}"))
        })?;
    let targets: Vec<(String, Option<String>)> = match request.and_then(|r| r.targets) {
        Some(named) => {
            for t in &named {
                known_target(&app, Some(t))?;
            }
            named
                .into_iter()
                .map(|t| {
                    let key = decision
                        .deliveries
                        .iter()
                        .find(|d| d.target == t)
                        .and_then(|d| d.ordering_key.clone());
                    (t, key)
                })
                .collect()
        }
        None => decision
            .deliveries
            .into_iter()
            .map(|d| (d.target, d.ordering_key))
            .collect(),
    };
    let now = now_ms();
    let deliveries: Vec<NewDelivery> = targets
        .into_iter()
        .map(|(t, key)| NewDelivery::new(t, key, now))
        .collect();
    app.store
        .add_deliveries(id.as_str(), &deliveries, now)
        .await?;
    app.wake.notify_one();
    tracing::info!(event_id = %id, deliveries = deliveries.len(), "event replayed");
    let body = ReplayResponse {
        event_id: id.to_string(),
        deliveries: deliveries.into_iter().map(|d| d.id.to_string()).collect(),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
