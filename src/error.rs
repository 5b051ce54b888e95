//! The JSON error every HTTP interface answers with:
//! `{"error": "<code>", "detail": "..."}`, plus extra fields where SPEC asks.
//!
//! [`json_errors`] makes sure of it for answers that other layers produce
//! (axum's 405 and path rejections, the request timeout's 408, a caught
//! panic); [`raw_response`] is the same shape for the few answers the
//! connection layer writes itself, before any request reaches the router.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::store;

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("body is larger than {limit} bytes"),
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    /// An error answer for a status, with the code every hookgate answer
    /// uses for it.
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        Self::new(status, code_for(status), detail)
    }
}

/// The `error` code of a status, for answers that do not set their own.
pub fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        429 => "too_many_requests",
        431 => "header_fields_too_large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// The longest request target (path and query) the router looks at.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Outermost layer of the router: refuses over-long targets with a JSON
/// 414, and turns any error answer that is not JSON yet into
/// `{"error", "detail"}`, keeping its status and headers (`Allow` on 405).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let target_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target_len > MAX_URI_BYTES {
        return ApiError::status(
            StatusCode::URI_TOO_LONG,
            format!("the request target is longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection texts are short; anything longer is not a message for us.
    let text = axum::body::to_bytes(body, 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let detail = text.unwrap_or_else(|| default_detail(status, &parts.headers));
    let mut answer = ApiError::status(status, detail).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

fn default_detail(status: StatusCode, headers: &axum::http::HeaderMap) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("method not allowed here; allowed: {allow}")
        }
        StatusCode::REQUEST_TIMEOUT => {
            "the request was not completed within server.request_timeout_ms".into()
        }
        _ => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
    }
}

/// A complete HTTP/1.1 answer with the JSON error body and
/// `connection: close`, for the connection layer to write by itself.
pub fn raw_response(status: StatusCode, detail: &str) -> Vec<u8> {
    let body = json!({ "error": code_for(status), "detail": detail }).to_string();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::Unavailable(_) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::unavailable("the store cannot commit now; retry later")
            }
            store::Error::NotFound => ApiError::not_found("no such resource"),
            store::Error::Internal(_) => {
                tracing::error!(error = %e, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal store error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.extra;
        body.insert("error".into(), json!(self.code));
        body.insert("detail".into(), json!(self.detail));
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}
