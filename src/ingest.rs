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
use crate::providers::{Handshake, HandshakeBody, Inbound, Rejection, Verdict};
use crate::startup::AppState;
use crate::store::{IngestOutcome, NewEvent};

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
    let verified =
        match source
            .provider
            .verify(&source.keys, source.tolerance, &inbound, now / 1000)
        {
            Ok(Verdict::Event(v)) => v,
            Ok(Verdict::Handshake(answer)) => {
                return ("handshake", None, handshake_response(answer))
            }
            Err(Rejection::MethodNotAllowed(detail)) => {
                let mut response =
                    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail)
                        .into_response();
                response.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static(source.provider.allowed_methods()),
                );
                return ("method_not_allowed", None, response);
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

/// A handshake's answer: 200 with a JSON or plain-text body and the extra
/// headers the provider asks for.
fn handshake_response(answer: Handshake) -> Response {
    let mut response = match answer.body {
        HandshakeBody::Json(value) => Json(value).into_response(),
        HandshakeBody::Text(text) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
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
