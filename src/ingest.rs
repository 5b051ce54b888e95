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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, FromRequest, Path, Request as HttpRequest, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;
use crate::ids::now_ms;
use crate::providers::batch::Part;
use crate::providers::{Ack, Handshake, HandshakeBody, Inbound, Rejection, Verdict};
use crate::startup::AppState;
use crate::store::{IngestOutcome, NewEvent};
use crate::time::UnixMs;

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

/// The parts of the request besides its body.
#[derive(Clone, Copy)]
struct Request<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

/// What can be refused from the request head alone.
fn refuse_early(
    app: &AppState,
    source: &crate::startup::Source,
    request: &HttpRequest,
) -> Option<(&'static str, ApiError)> {
    if let Some(allowed) = &source.allow_ips {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr);
        let client = peer.and_then(|peer| {
            crate::client_ip::client_ip(peer, request.headers(), &app.trusted_proxies)
        });
        match client {
            Some(ip) if allowed.contains(ip) => {}
            Some(ip) => {
                return Some((
                    "forbidden",
                    ApiError::forbidden(format!("this source does not take requests from {ip}")),
                ))
            }
            None => {
                return Some((
                    "forbidden",
                    ApiError::forbidden(
                        "the sender's address cannot be determined (X-Forwarded-For)",
                    ),
                ))
            }
        }
    }
    let limit = app.config.server.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Some(("too_large", ApiError::too_large(limit)));
    }
    let encoding = request.headers().get(header::CONTENT_ENCODING).map(|v| {
        String::from_utf8_lossy(v.as_bytes())
            .trim()
            .to_ascii_lowercase()
    });
    if let Some(encoding) = encoding.filter(|e| !e.is_empty() && e != "identity") {
        return Some((
            "unsupported_encoding",
            ApiError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding {encoding:?} is not accepted: providers sign the uncompressed bytes, so send the body uncompressed"
                ),
            ),
        ));
    }
    None
}

async fn handle(
    app: &AppState,
    source_name: &str,
    source: &crate::startup::Source,
    request: Request<'_>,
    body: Result<Bytes, BytesRejection>,
) -> (&'static str, Option<String>, Response) {
    let headers = request.headers;
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
    let targets = app
        .config
        .routed_targets(source_name, verified.event_type());
    let event = NewEvent::from_verified(
        &verified,
        source_name,
        body.clone(),
        stored_headers(source, headers),
        content_type(headers),
        targets,
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
        None => Json(json!({
            "event_id": event_id,
            "provider_event_id": provider_event_id,
            "duplicate": duplicate,
            "deliveries": deliveries,
        }))
        .into_response(),
    };
    (outcome, Some(event_id), response)
}

/// Whatever the store said, the event is not known to be stored: 503 with
/// Retry-After, never 500 or 200. If the commit did happen after all, the
/// provider's retry is answered as a duplicate.
fn not_stored(
    source_name: &str,
    error: crate::store::Error,
) -> (&'static str, Option<String>, Response) {
    tracing::warn!(source = source_name, error = %error, "event not stored");
    (
        "unavailable",
        None,
        ApiError::unavailable("the event was not stored; retry later").into_response(),
    )
}

/// The answer to a refused request.
fn refused(
    source: &crate::startup::Source,
    rejection: Rejection,
) -> (&'static str, Option<String>, Response) {
    match rejection {
        Rejection::MethodNotAllowed(detail) => {
            let mut response =
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail)
                    .into_response();
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static(source.provider.allowed_methods()),
            );
            ("method_not_allowed", None, response)
        }
        Rejection::Unauthorized(detail) => (
            "unauthorized",
            None,
            ApiError::unauthorized(detail).into_response(),
        ),
        Rejection::BadRequest(detail) => (
            "bad_request",
            None,
            ApiError::bad_request(detail).into_response(),
        ),
        Rejection::Unavailable(detail) => (
            "unavailable",
            None,
            ApiError::unavailable(detail).into_response(),
        ),
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Stores each event of a batch (its own bytes, ID, type and routes) in one
/// transaction. The answer lists every event's outcome in request order:
/// 200, or 409 when any of them conflicts with a stored event (the others
/// are stored all the same, so the sender's retry finds them duplicates).
async fn ingest_batch(
    app: &AppState,
    source_name: &str,
    source: &crate::startup::Source,
    headers: &HeaderMap,
    body: &Bytes,
    parts: Vec<Part>,
    now: i64,
) -> (&'static str, Option<String>, Response) {
    let stored = stored_headers(source, headers);
    let content_type = content_type(headers);
    let events: Vec<NewEvent> = parts
        .iter()
        .map(|part| {
            NewEvent::from_verified(
                &part.verified,
                source_name,
                body.slice(part.range.clone()),
                stored.clone(),
                content_type.clone(),
                app.config
                    .routed_targets(source_name, part.verified.event_type()),
                now,
            )
        })
        .collect();
    let outcomes = if events.is_empty() {
        Vec::new()
    } else {
        match app.store.ingest_batch(&events).await {
            Ok(outcomes) => outcomes,
            Err(e) => return not_stored(source_name, e),
        }
    };
    let (mut accepted, mut duplicates, mut conflicts) = (0, 0, 0);
    let mut woke = false;
    let listed: Vec<serde_json::Value> = parts
        .iter()
        .zip(outcomes)
        .map(|(part, outcome)| {
            let provider_event_id = part.verified.provider_event_id();
            match outcome {
                IngestOutcome::Accepted {
                    event_id,
                    deliveries,
                } => {
                    accepted += 1;
                    if deliveries > 0 && !woke {
                        app.wake.notify_one();
                        woke = true;
                    }
                    json!({"event_id": event_id, "provider_event_id": provider_event_id, "duplicate": false, "deliveries": deliveries})
                }
                IngestOutcome::Duplicate {
                    event_id,
                    deliveries,
                } => {
                    duplicates += 1;
                    json!({"event_id": event_id, "provider_event_id": provider_event_id, "duplicate": true, "deliveries": deliveries})
                }
                IngestOutcome::Conflict {
                    event_id,
                    conflict_id,
                } => {
                    conflicts += 1;
                    json!({"error": "conflict", "event_id": event_id, "provider_event_id": provider_event_id, "conflict_id": conflict_id})
                }
            }
        })
        .collect();
    tracing::debug!(accepted, duplicates, conflicts, "batch stored");
    let summary = json!({
        "events": listed,
        "accepted": accepted,
        "duplicates": duplicates,
        "conflicts": conflicts,
    });
    if conflicts > 0 {
        let mut error = ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "an event ID of this batch was already stored with a different body; the other events were stored",
        );
        for (key, value) in summary.as_object().into_iter().flatten() {
            error = error.with(key, value.clone());
        }
        return ("conflict", None, error.into_response());
    }
    let outcome = if accepted > 0 {
        "accepted"
    } else {
        "duplicate"
    };
    (outcome, None, Json(summary).into_response())
}

/// A stored event acknowledged the way its provider requires; the event ID
/// and whether it was a duplicate travel in headers, since the body is the
/// provider's.
fn acknowledgement(ack: &Ack, event_id: &str, duplicate: bool) -> Response {
    let mut response = match ack {
        Ack::NoContent => StatusCode::NO_CONTENT.into_response(),
        Ack::Json(value) => Json(value.clone()).into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(event_id) {
        headers.insert(HeaderName::from_static("x-hookgate-event-id"), value);
    }
    headers.insert(
        HeaderName::from_static("x-hookgate-duplicate"),
        HeaderValue::from_static(if duplicate { "true" } else { "false" }),
    );
    response
}

/// A handshake's answer: 200 with a JSON or plain-text body and the extra
/// headers the provider asks for.
fn handshake_response(answer: Handshake) -> Response {
    let mut response = match answer.body {
        HandshakeBody::Json(value) => Json(value).into_response(),
        HandshakeBody::Text(text) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
        // Discord asks for a Content-Type even on its empty PING answer.
        HandshakeBody::Empty => (
            StatusCode::NO_CONTENT,
            [(header::CONTENT_TYPE, "application/json")],
        )
            .into_response(),
    };
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
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
