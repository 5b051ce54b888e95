//! The operator console: `GET /console`, a small browser app (one HTML
//! page, one script, one stylesheet, all embedded in the binary) that uses
//! only the admin API with the token the operator pastes.
//!
//! Event content comes from the internet, so the page is built to never
//! run it: the script renders every value as text (`textContent`, never
//! `innerHTML`), and the answers carry a strict `Content-Security-Policy`
//! (scripts and styles from this origin only, no inline code, no framing)
//! with `X-Content-Type-Options: nosniff`. The token lives in the tab's
//! session storage and travels as the `Authorization` header, never as a
//! cookie, so there is no CSRF surface.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

/// What the page may load: only its own script and style, and calls to its
/// own origin. No inline script or style, no plugins, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The console's routes, outside `/admin/v1` and without the token check:
/// the assets hold no data; every call they make needs the token.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        // Relative, so it also works behind a proxy that adds a path prefix.
        .route(
            "/console/",
            get(|| async { Redirect::permanent("../console") }),
        )
        .route(
            "/console/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/console/console.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        // The assets change with the binary; a stale script against a newer
        // API would confuse more than a reload costs.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    (headers, body).into_response()
}
