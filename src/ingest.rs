//! `POST /ingest/{source}`: body limit, provider verification, one store
//! transaction, response. A 200 is only ever sent after the commit.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::ids::now_ms;
use crate::providers::{Rejection, Verdict};
use crate::startup::AppState;
use crate::store::{IngestOutcome, NewEvent};

pub async fn ingest(
    State(app): State<Arc<AppState>>,
    Path(source_name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let Some(source) = app.sources.get(&source_name) else {
        metrics::counter!("hookgate_ingest_requests_total", "source" => "_unknown", "outcome" => "unknown_source").increment(1);
        return ApiError::not_found(format!("no source named {source_name:?}")).into_response();
    };
    let (outcome, event_id, response) = handle(&app, &source_name, source, &headers, body).await;
    let elapsed = started.elapsed();
    metrics::counter!("hookgate_ingest_requests_total", "source" => source_name.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("hookgate_ingest_duration_seconds", "source" => source_name.clone())
        .record(elapsed.as_secs_f64());
    tracing::info!(
        source = %source_name,
        outcome,
        event_id = event_id.as_deref(),
        status = response.status().as_u16(),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "ingest"
    );
    response
}

async fn handle(
    app: &AppState,
    source_name: &str,
    source: &crate::startup::Source,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> (&'static str, Option<String>, Response) {
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return (
                "too_large",
                None,
                ApiError::too_large(app.config.server.max_body_bytes).into_response(),
            )
        }
        Err(rejection) => {
            return (
                "bad_request",
                None,
                ApiError::bad_request(format!("cannot read body: {rejection}")).into_response(),
            )
        }
    };
    let now = now_ms();
    let verified =
        match source
            .provider
            .verify(&source.keys, source.tolerance, headers, &body, now / 1000)
        {
            Ok(Verdict::Event(v)) => v,
            Ok(Verdict::Handshake(answer)) => {
                return ("handshake", None, Json(answer).into_response())
            }
            Err(Rejection::Unauthorized(detail)) => {
                return (
                    "unauthorized",
                    None,
                    ApiError::unauthorized(detail).into_response(),
                )
            }
            Err(Rejection::BadRequest(detail)) => {
                return (
                    "bad_request",
                    None,
                    ApiError::bad_request(detail).into_response(),
                )
            }
        };
    let targets = app
        .config
        .routed_targets(source_name, verified.event_type());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let event = NewEvent::from_verified(
        &verified,
        source_name,
        body,
        stored_headers(source, headers),
        content_type,
        targets,
        now,
    );
    let provider_event_id = verified.provider_event_id();
    match app.store.ingest(&event).await {
        Ok(IngestOutcome::Accepted {
            event_id,
            deliveries,
        }) => {
            if deliveries > 0 {
                app.wake.notify_one();
            }
            tracing::debug!(%event_id, provider_event_id, event_type = verified.event_type(), deliveries, "event stored");
            let body = json!({
                "event_id": event_id,
                "provider_event_id": provider_event_id,
                "duplicate": false,
                "deliveries": deliveries,
            });
            ("accepted", Some(event_id), Json(body).into_response())
        }
        Ok(IngestOutcome::Duplicate {
            event_id,
            deliveries,
        }) => {
            let body = json!({
                "event_id": event_id,
                "provider_event_id": provider_event_id,
                "duplicate": true,
                "deliveries": deliveries,
            });
            ("duplicate", Some(event_id), Json(body).into_response())
        }
        Ok(IngestOutcome::Conflict {
            event_id,
            conflict_id,
        }) => {
            let error = ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "this provider event ID was already stored with a different body",
            )
            .with("event_id", event_id.clone())
            .with("provider_event_id", provider_event_id)
            .with("conflict_id", conflict_id);
            ("conflict", Some(event_id), error.into_response())
        }
        // Whatever the store said, the event is not known to be stored: 503
        // with Retry-After, never 500 or 200. If the commit did happen after
        // all, the provider's retry is answered as a duplicate.
        Err(e) => {
            tracing::warn!(source = source_name, error = %e, "event not stored");
            (
                "unavailable",
                None,
                ApiError::unavailable("the event was not stored; retry later").into_response(),
            )
        }
    }
}

/// The request headers as stored: a JSON array of `[name, value]` pairs in
/// arrival order, with headers that carry secrets left out.
fn stored_headers(source: &crate::startup::Source, headers: &HeaderMap) -> String {
    let pairs: Vec<(&str, String)> = headers
        .iter()
        .filter(|(name, _)| !source.provider.is_secret_header(name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}
