//! Building ingest's answers: refusals, the 503 when an event is not
//! stored, provider acknowledgements and handshakes, and the request
//! headers as they are stored with an event.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::Handled;
use crate::app::Source;
use crate::error::ApiError;
use crate::providers::{Ack, Handshake, HandshakeBody, Rejection};

/// Whatever the store said, the event is not known to be stored: 503 with
/// Retry-After, never 500 or 200. If the commit did happen after all, the
/// provider's retry is answered as a duplicate.
pub(super) fn not_stored(source_name: &str, error: crate::store::Error) -> Handled {
    tracing::warn!(source = source_name, error = %error, "event not stored");
    (
        "unavailable",
        None,
        ApiError::unavailable("the event was not stored; retry later").into_response(),
    )
}

/// The answer to a refused request.
pub(super) fn refused(source: &Source, rejection: Rejection) -> Handled {
    let (outcome, error) = match rejection {
        Rejection::MethodNotAllowed(detail) => {
            let mut response =
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail)
                    .into_response();
            response.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static(source.provider.allowed_methods()),
            );
            return ("method_not_allowed", None, response);
        }
        Rejection::Unauthorized(detail) => ("unauthorized", ApiError::unauthorized(detail)),
        Rejection::BadRequest(detail) => ("bad_request", ApiError::bad_request(detail)),
        Rejection::Unavailable(detail) => ("unavailable", ApiError::unavailable(detail)),
    };
    (outcome, None, error.into_response())
}

pub(super) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A stored event acknowledged the way its provider requires; the event ID
/// (a batch's, comma-separated) and whether it was a duplicate travel in
/// headers, since the body is the provider's.
pub(super) fn acknowledgement(ack: &Ack, event_id: &str, duplicate: bool) -> Response {
    let mut response = match ack {
        Ack::NoContent => StatusCode::NO_CONTENT.into_response(),
        Ack::Json(value) => Json(value.clone()).into_response(),
        Ack::Text(text) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], *text).into_response()
        }
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
pub(super) fn handshake_response(answer: Handshake) -> Response {
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
pub(super) fn stored_headers(source: &Source, headers: &HeaderMap) -> String {
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

/// What ingest answers for one stored event (alone, or as an element of a
/// batch's `events`).
pub(super) fn stored_json(
    event_id: &str,
    provider_event_id: &str,
    duplicate: bool,
    deliveries: i64,
) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id,
        "provider_event_id": provider_event_id,
        "duplicate": duplicate,
        "deliveries": deliveries,
    })
}
