//! What can be decided from the request head, before a byte of the body
//! is read: a sender outside the source's `allow_ips`, a declared
//! `Content-Length` over the limit, a compressed body.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request as HttpRequest};
use axum::http::{header, StatusCode};

use crate::app::{AppState, Source};
use crate::error::ApiError;

/// What can be refused from the request head alone.
pub(super) fn refuse_early(
    app: &AppState,
    source: &Source,
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
    let limit = app.max_body_bytes;
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
