//! The operator console: `GET /console`, a small browser app (one HTML
//! page, one stylesheet and a few native ES module scripts, all embedded in
//! the binary and listed in [`ASSETS`]) that uses only the admin API with
//! the token the operator pastes. There is no build step: each script is
//! served as written and loads the others by relative `import`.
//!
//! Event content comes from the internet, so the page is built to never
//! run it: the scripts render every value as text (`textContent`, never
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
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The files under `/console/`: (name, content type, contents). The page
/// loads `main.js`, which imports the rest. A name not listed here is not
/// served: it falls through to the router's 404.
pub const ASSETS: &[(&str, &str, &str)] = &[
    ("console.css", CSS, include_str!("console/console.css")),
    ("main.js", JS, include_str!("console/main.js")),
    ("api.js", JS, include_str!("console/api.js")),
    ("render.js", JS, include_str!("console/render.js")),
    ("view.js", JS, include_str!("console/view.js")),
    ("events.js", JS, include_str!("console/events.js")),
    ("event.js", JS, include_str!("console/event.js")),
    ("overview.js", JS, include_str!("console/overview.js")),
    ("routes.js", JS, include_str!("console/routes.js")),
];

/// What the page may load: only its own scripts and style, and calls to its
/// own origin. No inline script or style, no plugins, no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The console's routes, outside `/admin/v1` and without the token check:
/// the assets hold no data; every call they make needs the token.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let page = Router::new()
        .route(
            "/console",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        // Relative, so it also works behind a proxy that adds a path prefix.
        .route(
            "/console/",
            get(|| async { Redirect::permanent("../console") }),
        );
    ASSETS
        .iter()
        .fold(page, |router, &(name, content_type, body)| {
            router.route(
                &format!("/console/{name}"),
                get(move || async move { asset(content_type, body) }),
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each file beside `index.html` is served, so a new script cannot be
    /// forgotten in [`ASSETS`]; and each relative import names a script
    /// that is served, so the browser never meets a 404 mid-graph.
    #[test]
    fn every_console_file_and_import_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name != "index.html")
            .collect();
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|(n, _, _)| n.to_string()).collect();
        served.sort();
        assert_eq!(files, served);
        for &(name, content_type, body) in ASSETS {
            assert_eq!(content_type == JS, name.ends_with(".js"), "{name}");
            for import in body.split("from './").skip(1) {
                let target = import.split('\'').next().unwrap();
                assert!(
                    ASSETS.iter().any(|&(n, t, _)| n == target && t == JS),
                    "{name} imports {target}, which is not served"
                );
            }
        }
    }
}
