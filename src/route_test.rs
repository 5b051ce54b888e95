//! The route tester behind `POST /admin/v1/routes/test` and `hookgate
//! route-test`: which routes an event would take, with each route's
//! transformed body and ordering key, without storing or sending anything.
//!
//! The event type and provider event ID are read the way ingest reads them:
//! the body is signed with the source's first secret, as `hookgate replay`
//! signs it, and verified by the source's provider. So the answer is what
//! ingest would decide for the same body and headers; a source that cannot
//! sign (a public-key provider without a development `signing_key`) cannot
//! be tested. A batch (SendGrid, Microsoft Graph) is tested by its first
//! event.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::app::Source;
use crate::providers::{Inbound, Verdict};
use crate::routes::{EventParts, RouteTest, Routes};
use crate::time::UnixMs;

/// What testing one event found.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Tested {
    pub event_type: String,
    pub provider_event_id: String,
    pub routes: Vec<RouteTest>,
}

/// Tests `body` with `headers` (name, value) as an event of `source_name`.
/// `Err` says why it cannot be tested (unknown source, a body the provider
/// refuses, a handshake, no way to sign).
pub async fn test(
    sources: &HashMap<String, Source>,
    routes: &Routes,
    source_name: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> Result<Tested, String> {
    let source = sources
        .get(source_name)
        .ok_or_else(|| format!("no source named {source_name:?}"))?;
    source
        .provider
        .signing_ready(&source.keys)
        .map_err(|e| format!("source {source_name:?} cannot be tested: {e}"))?;
    let key = source.keys.first().unwrap_or_default();
    let now = UnixMs::now();
    let (body, signed) = source.provider.prepare(key, body, now);
    let mut map = HeaderMap::new();
    for (name, value) in headers.iter().chain(&signed) {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of {name} is not a header value"))?;
        map.append(name, value);
    }
    let uri: Uri = format!("/ingest/{source_name}")
        .parse()
        .map_err(|_| format!("{source_name:?} is not a path segment"))?;
    let inbound = Inbound {
        method: &Method::POST,
        uri: &uri,
        headers: &map,
        body: &body,
    };
    let verdict = source
        .provider
        .verify(&source.keys, source.tolerance, &inbound, now)
        .map_err(|r| format!("the provider refuses this request: {r}"))?;
    let (verified, bytes) = match verdict {
        Verdict::Event(v) => (v, &body[..]),
        Verdict::Batch(parts) => {
            let first = parts
                .into_iter()
                .next()
                .ok_or_else(|| "the batch holds no event".to_string())?;
            let range = first.range.clone();
            (first.verified, &body[range])
        }
        Verdict::Handshake(_) => {
            return Err("this is a handshake: it is answered, never routed".to_string())
        }
    };
    let stored: Vec<(&str, &str)> = headers
        .iter()
        .chain(&signed)
        .filter(|(n, _)| !source.provider.is_secret_header(n))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let stored = serde_json::to_string(&stored).expect("pairs serialize");
    let content_type = map
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parts = EventParts {
        source: source_name,
        provider: source.provider.name(),
        event_type: verified.event_type(),
        provider_event_id: verified.provider_event_id(),
        headers: &stored,
        content_type,
        body: bytes,
    };
    let routes = routes.test(&parts).await?;
    Ok(Tested {
        event_type: verified.event_type().to_string(),
        provider_event_id: verified.provider_event_id().to_string(),
        routes,
    })
}
