//! `POST /ingest/{source}`: body limit, provider verification, one store
//! transaction, response. A 200 is only ever sent after the commit.
//!
//! The route also takes `GET`, which reaches the provider only when it sends
//! GET handshakes (Dropbox, Microsoft Graph); for the others, and for every
//! other method, the answer is a JSON 405 with `Allow`.
//!
//! Everything that can be decided from the head is decided before a byte
//! of the body is read: unknown source (404), a sender outside the source's
//! `allow_ips` (403), a declared `Content-Length` over the limit (413) and a
//! compressed body (415). Reading the body is what makes hyper send
//! `100 Continue`, so none of these answers is preceded by one.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request as HttpRequest, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::{AppState, Source};
use crate::error::ApiError;
use crate::ids::now_ms;
use crate::providers::{Inbound, Verdict};
use crate::server::OverBudget;
use crate::store::{IngestOutcome, NewEvent};
use crate::time::UnixMs;

mod batch;
mod head;
mod respond;
mod routing;

use batch::ingest_batch;
use head::refuse_early;
use respond::{
    acknowledgement, content_type, handshake_response, not_stored, refused, stored_headers,
    stored_json,
};

/// How one request ended: the outcome named in metrics and logs, the event
/// ID when one was stored, and the answer.
type Handled = (&'static str, Option<String>, Response);

/// Every outcome `hookgate_ingest_requests_total` counts for a source. Each
/// is registered at zero for every configured source at start
/// ([`register_metrics`]), so an `increase()` alert fires on the first one
/// after a restart.
pub const OUTCOMES: &[&str] = &[
    "accepted",
    "duplicate",
    "conflict",
    "unauthorized",
    "bad_request",
    "unavailable",
    "too_large",
    "forbidden",
    "unsupported_encoding",
    "method_not_allowed",
    "handshake",
    "confirmation_failed",
];

/// Registers each source's ingest counters at zero.
pub fn register_metrics<'a>(sources: impl IntoIterator<Item = &'a String>) {
    for source in sources {
        for outcome in OUTCOMES {
            metrics::counter!("hookgate_ingest_requests_total", "source" => source.clone(), "outcome" => *outcome)
                .increment(0);
        }
    }
}

/// The handler of `/ingest/{source}`: every request is counted, timed and
/// logged with its outcome.
pub async fn ingest(
    State(app): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    http: HttpRequest,
) -> Response {
    let started = Instant::now();
    let source_name = match path {
        Ok(Path(name)) => name,
        Err(rejection) => {
            return ApiError::bad_request(format!(
                "the source name in the path: {}",
                rejection.body_text()
            ))
            .into_response()
        }
    };
    let Some(source) = app.sources.get(&source_name) else {
        metrics::counter!("hookgate_ingest_requests_total", "source" => "_unknown", "outcome" => "unknown_source").increment(1);
        return ApiError::not_found(format!("no source named {source_name:?}")).into_response();
    };
    let (outcome, event_id, response) = match refuse_early(&app, source, &http) {
        Some((outcome, error)) => (outcome, None, error.into_response()),
        None => {
            let (method, uri, headers) = (
                http.method().clone(),
                http.uri().clone(),
                http.headers().clone(),
            );
            let body = Bytes::from_request(http, &app).await;
            let request = Request {
                method: &method,
                uri: &uri,
                headers: &headers,
            };
            handle(&app, &source_name, source, request, body).await
        }
    };
    let elapsed = started.elapsed();
    metrics::counter!("hookgate_ingest_requests_total", "source" => source_name.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("hookgate_ingest_duration_seconds", "source" => source_name.clone())
        .record(elapsed.as_secs_f64());
    log_request(
        &source_name,
        outcome,
        event_id.as_deref(),
        response.status().as_u16(),
        elapsed,
    );
    response
}

/// The line of one ingest request. Stored events (`accepted`, `duplicate`)
/// are logged at DEBUG: at thousands per second a line each would cost more
/// than storing them, and `hookgate_ingest_requests_total` counts them.
/// Every other outcome (a refusal, a 503) is logged at INFO.
fn log_request(
    source: &str,
    outcome: &str,
    event_id: Option<&str>,
    status: u16,
    elapsed: std::time::Duration,
) {
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(source, outcome, event_id, status, duration_ms, "ingest")
        };
    }
    if matches!(outcome, "accepted" | "duplicate") {
        line!(debug)
    } else {
        line!(info)
    }
}

/// The parts of the request besides its body.
#[derive(Clone, Copy)]
struct Request<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

async fn handle(
    app: &AppState,
    source_name: &str,
    source: &Source,
    request: Request<'_>,
    body: Result<Bytes, BytesRejection>,
) -> Handled {
    let headers = request.headers;
    let body = match body {
        Ok(b) => b,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return (
                "too_large",
                None,
                ApiError::too_large(app.max_body_bytes).into_response(),
            )
        }
        // The body passed server.max_inflight_body_bytes as it arrived.
        Err(rejection) if OverBudget::is_cause_of(&rejection) => {
            return (
                "unavailable",
                None,
                ApiError::unavailable(OverBudget.to_string()).into_response(),
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
    let inbound = Inbound {
        method: request.method,
        uri: request.uri,
        headers,
        body: &body,
    };
    if let Err(rejection) = source.provider.preflight(inbound).await {
        return refused(source, rejection);
    }
    let verdict = match source.provider.verify(
        &source.keys,
        source.tolerance,
        &inbound,
        UnixMs::from_millis(now),
    ) {
        Ok(verdict) => verdict,
        Err(rejection) => return refused(source, rejection),
    };
    let verified = match verdict {
        Verdict::Event(v) => v,
        Verdict::Handshake(answer) => return ("handshake", None, handshake_response(answer)),
        Verdict::Batch(parts) => {
            return ingest_batch(app, source_name, source, headers, &body, parts, now).await
        }
    };
    let stored = stored_headers(source, headers);
    let content_type = content_type(headers);
    let routing = match routing::decide(
        app,
        source_name,
        source,
        &verified,
        &stored,
        content_type.as_deref(),
        &body,
    )
    .await
    {
        Ok(routing) => routing,
        Err(handled) => return handled,
    };
    let event = NewEvent::from_verified(
        &verified,
        source_name,
        body.clone(),
        stored,
        content_type,
        routing,
        now,
    );
    let provider_event_id = verified.provider_event_id();
    let (outcome, event_id, duplicate, deliveries) = match app.store.ingest(&event).await {
        Ok(IngestOutcome::Accepted {
            event_id,
            deliveries,
        }) => {
            if deliveries > 0 {
                app.wake.notify_one();
            }
            tracing::debug!(%event_id, provider_event_id, event_type = verified.event_type(), deliveries, "event stored");
            ("accepted", event_id, false, deliveries)
        }
        Ok(IngestOutcome::Duplicate {
            event_id,
            deliveries,
        }) => ("duplicate", event_id, true, deliveries),
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
            return ("conflict", Some(event_id), error.into_response());
        }
        Err(e) => return not_stored(source_name, e),
    };
    // Work the provider asks for once the event is on disk (confirming an
    // SNS subscription). It runs for duplicates too: a sender that resends
    // after a failed confirmation gets another attempt.
    if let Some(follow_up) = source.provider.after_store(inbound) {
        if let Err(detail) = follow_up.await {
            tracing::warn!(source = %source_name, %event_id, %detail, "follow-up after storing failed");
            let error = ApiError::new(StatusCode::BAD_GATEWAY, "confirmation_failed", detail)
                .with("event_id", event_id.clone())
                .with("provider_event_id", provider_event_id);
            return ("confirmation_failed", Some(event_id), error.into_response());
        }
    }
    let response = match verified.ack() {
        Some(ack) => acknowledgement(ack, &event_id, duplicate),
        None => Json(stored_json(
            &event_id,
            provider_event_id,
            duplicate,
            deliveries,
        ))
        .into_response(),
    };
    (outcome, Some(event_id), response)
}
