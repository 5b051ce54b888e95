//! One HTTP attempt of one delivery: the request a target receives, and how
//! its answer is read. No database work happens here.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};

use super::retry::parse_retry_after;
use crate::config::{redact_url, ConfigError, TargetConfig};
use crate::providers::standard;
use crate::store::Claimed;
use crate::time::UnixMs;

/// The most of a target's response body kept with an attempt.
pub const EXCERPT_BYTES: usize = 1024;

/// A validated `[[targets]]` entry.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub name: String,
    pub url: reqwest::Url,
    signing_key: Option<Vec<u8>>,
    headers: Vec<(HeaderName, HeaderValue)>,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub max_in_flight: u32,
    pub protection: crate::store::Protection,
}

impl TargetSpec {
    pub fn from_config(target: &TargetConfig, key: &str) -> Result<TargetSpec, ConfigError> {
        let url = reqwest::Url::parse(&target.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.url"),
                    // Redacted: the URL may carry a credential.
                    format!("{:?} is not an http(s) URL", redact_url(&target.url)),
                )
            })?;
        let signing_key = match &target.signing_secret {
            Some(secret) => Some(
                standard::decode_secret(secret.expose())
                    .map_err(|m| ConfigError::new(format!("{key}.signing_secret"), m))?,
            ),
            None => None,
        };
        let mut headers = Vec::new();
        for (name, value) in &target.headers {
            let header_key = format!("{key}.headers.{name}");
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError::new(&header_key, "not a valid header name"))?;
            let mut value = HeaderValue::from_str(value.expose())
                .map_err(|_| ConfigError::new(&header_key, "not a valid header value"))?;
            value.set_sensitive(true);
            headers.push((name, value));
        }
        if target.timeout_ms == 0 || target.max_attempts == 0 || target.max_in_flight == 0 {
            return Err(ConfigError::new(
                key,
                "timeout_ms, max_attempts and max_in_flight must be above 0",
            ));
        }
        Ok(TargetSpec {
            name: target.name.clone(),
            url,
            signing_key,
            headers,
            timeout: Duration::from_millis(target.timeout_ms),
            max_attempts: target.max_attempts,
            max_in_flight: target.max_in_flight,
            protection: super::protection::from_config(target, key)?,
        })
    }
}

/// What one attempt got back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub error: Option<String>,
    pub excerpt: Option<String>,
    pub duration: Duration,
}

impl Answer {
    /// An attempt that failed before any request was made.
    pub fn failed(error: String) -> Answer {
        Answer {
            status: None,
            retry_after: None,
            error: Some(error),
            excerpt: None,
            duration: Duration::ZERO,
        }
    }

    pub fn is_success(&self) -> bool {
        matches!(self.status, Some(s) if (200..300).contains(&s))
    }
}

/// What is sent: the stored body and its content type, or a route's
/// transformed body as JSON. The body is handed to the request as it is,
/// not copied.
#[derive(Debug, Clone)]
pub struct Payload<'a> {
    pub body: Bytes,
    pub content_type: Option<&'a str>,
}

impl<'a> Payload<'a> {
    /// The stored body, byte for byte, with the content type received.
    pub fn stored(body: Vec<u8>, delivery: &'a Claimed) -> Payload<'a> {
        Payload {
            body: Bytes::from(body),
            content_type: delivery.content_type.as_deref(),
        }
    }

    /// A transform's output.
    pub fn json(body: Vec<u8>) -> Payload<'a> {
        Payload {
            body: Bytes::from(body),
            content_type: Some("application/json"),
        }
    }
}

/// The names of hookgate's headers, built once.
mod names {
    use axum::http::HeaderName;
    pub const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
    pub const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
    pub const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");
    pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
    pub const SOURCE: HeaderName = HeaderName::from_static("x-hookgate-source");
    pub const EVENT_TYPE: HeaderName = HeaderName::from_static("x-hookgate-event-type");
    pub const PROVIDER_EVENT_ID: HeaderName =
        HeaderName::from_static("x-hookgate-provider-event-id");
    pub const ATTEMPT: HeaderName = HeaderName::from_static("x-hookgate-attempt");
}

/// POSTs the payload with hookgate's headers.
pub async fn send(
    client: &reqwest::Client,
    target: &TargetSpec,
    delivery: &Claimed,
    payload: Payload<'_>,
    now: UnixMs,
) -> Answer {
    let now_secs = now.as_secs();
    let started = Instant::now();
    let mut request = client
        .post(target.url.clone())
        .timeout(target.timeout)
        .header(names::WEBHOOK_ID, delivery.event_id.as_str())
        .header(names::IDEMPOTENCY_KEY, delivery.event_id.as_str())
        .header(names::SOURCE, &delivery.source)
        .header(names::EVENT_TYPE, &delivery.event_type)
        .header(names::PROVIDER_EVENT_ID, &delivery.provider_event_id)
        .header(names::ATTEMPT, delivery.attempt);
    if let Some(ct) = payload.content_type {
        request = request.header(CONTENT_TYPE, ct);
    }
    if let Some(key) = &target.signing_key {
        request = request.header(names::WEBHOOK_TIMESTAMP, now_secs).header(
            names::WEBHOOK_SIGNATURE,
            standard::signature(key, delivery.event_id.as_str(), now_secs, &payload.body),
        );
    }
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    let result = request.body(payload.body).send().await;
    let mut answer = Answer {
        status: None,
        retry_after: None,
        error: None,
        excerpt: None,
        duration: Duration::ZERO,
    };
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            answer.status = Some(status);
            if status == 429 || status == 503 {
                answer.retry_after = response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
            }
            let mut excerpt = Vec::new();
            while excerpt.len() < EXCERPT_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        answer.error = Some(describe(&e));
                        break;
                    }
                }
            }
            excerpt.truncate(EXCERPT_BYTES);
            if !excerpt.is_empty() {
                answer.excerpt = Some(String::from_utf8_lossy(&excerpt).into_owned());
            }
            if !answer.is_success() && answer.error.is_none() {
                answer.error = Some(format!("target answered {status}"));
            }
        }
        Err(e) => answer.error = Some(describe(&e)),
    }
    answer.duration = started.elapsed();
    answer
}

/// A short reason for a failed request, without the URL's query (which may
/// carry a token).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "reading the response failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}
