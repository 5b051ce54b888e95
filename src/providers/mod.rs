//! Signature verification, one file per provider.
//!
//! [`Provider::verify`] is the only way to obtain a [`Verified`] request, and
//! only a `Verified` request can be turned into a stored event: an unverified
//! body never reaches the store. Every provider also knows how to sign a body
//! the way the real provider does ([`Provider::sign`]), which `hookgate
//! replay` and the tests use; published vectors pin both directions.
//!
//! "Now" is always an argument, so old published vectors stay testable.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use crate::config::{ConfigError, SourceConfig};

pub mod generic;
pub mod github;
pub mod gitlab;
pub mod shopify;
pub mod slack;
pub mod standard;
pub mod stripe;

/// A source's provider together with its verification settings.
#[derive(Debug, Clone)]
pub enum Provider {
    Stripe,
    Github,
    StandardWebhooks,
    Shopify,
    Slack,
    Gitlab,
    GenericHmac(generic::Settings),
}

/// The provider names accepted in `sources[].provider`.
pub const PROVIDER_NAMES: &[&str] = &[
    "stripe",
    "github",
    "standard-webhooks",
    "svix",
    "shopify",
    "slack",
    "gitlab",
    "generic-hmac",
];

/// A request whose signature checked out, with what hookgate needs to store
/// and route it. Constructed only inside this module tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    provider_event_id: String,
    event_type: String,
}

impl Verified {
    fn new(provider_event_id: String, event_type: String) -> Self {
        Self {
            provider_event_id,
            event_type,
        }
    }
    pub fn provider_event_id(&self) -> &str {
        &self.provider_event_id
    }
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
}

/// What a verified request turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// An event to store and deliver.
    Event(Verified),
    /// A provider handshake (Slack `url_verification`): answered with this
    /// JSON body, never stored.
    Handshake(serde_json::Value),
}

/// Why a request was refused. `Unauthorized` details are safe to show: they
/// never name a secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
}

/// Secrets of one source in the form its provider signs with.
#[derive(Clone)]
pub struct Keys(Vec<Vec<u8>>);

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys([{} redacted])", self.0.len())
    }
}

impl Keys {
    pub fn first(&self) -> Option<&[u8]> {
        self.0.first().map(Vec::as_slice)
    }
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }
}

impl Provider {
    /// Builds the provider of a `[[sources]]` entry; `key` is its config path.
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<(Provider, Keys), ConfigError> {
        let provider = match source.provider.as_str() {
            "stripe" => Provider::Stripe,
            "github" => Provider::Github,
            "standard-webhooks" | "svix" => Provider::StandardWebhooks,
            "shopify" => Provider::Shopify,
            "slack" => Provider::Slack,
            "gitlab" => Provider::Gitlab,
            "generic-hmac" => Provider::GenericHmac(generic::Settings::from_config(source, key)?),
            other => {
                return Err(ConfigError::new(
                    format!("{key}.provider"),
                    format!(
                        "unknown provider {other:?}; expected one of {}",
                        PROVIDER_NAMES.join(", ")
                    ),
                ))
            }
        };
        if !matches!(provider, Provider::GenericHmac(_)) {
            if let Some(extra) = source.generic_keys_set().first() {
                return Err(ConfigError::new(
                    format!("{key}.{extra}"),
                    format!(
                        "only the generic-hmac provider takes this key, not {:?}",
                        source.provider
                    ),
                ));
            }
        }
        if source.secrets.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.secrets"),
                format!("provider {:?} needs at least one secret", source.provider),
            ));
        }
        let mut keys = Vec::with_capacity(source.secrets.len());
        for (i, secret) in source.secrets.iter().enumerate() {
            let raw = secret.expose();
            if raw.is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.secrets[{i}]"),
                    "empty secret",
                ));
            }
            let bytes = match provider {
                Provider::StandardWebhooks => standard::decode_secret(raw)
                    .map_err(|m| ConfigError::new(format!("{key}.secrets[{i}]"), m))?,
                _ => raw.as_bytes().to_vec(),
            };
            keys.push(bytes);
        }
        Ok((provider, Keys(keys)))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Github => "github",
            Provider::StandardWebhooks => "standard-webhooks",
            Provider::Shopify => "shopify",
            Provider::Slack => "slack",
            Provider::Gitlab => "gitlab",
            Provider::GenericHmac(_) => "generic-hmac",
        }
    }

    /// The provider's default timestamp tolerance in seconds, if it signs one.
    pub fn default_tolerance(&self) -> Option<u64> {
        match self {
            Provider::Stripe | Provider::StandardWebhooks | Provider::Slack => Some(300),
            Provider::GenericHmac(s) if s.timestamp_header.is_some() => Some(300),
            _ => None,
        }
    }

    /// Headers whose value is itself a secret: never stored, logged or shown.
    pub fn is_secret_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        matches!(
            name.as_str(),
            "authorization" | "cookie" | "proxy-authorization"
        ) || (matches!(self, Provider::Gitlab) && name == "x-gitlab-token")
    }

    /// Checks the signature of a request and reads its event ID and type.
    pub fn verify(
        &self,
        keys: &Keys,
        tolerance_secs: Option<u64>,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let tolerance = tolerance_secs.or(self.default_tolerance());
        match self {
            Provider::Stripe => stripe::verify(keys, tolerance, headers, body, now),
            Provider::Github => github::verify(keys, headers, body),
            Provider::StandardWebhooks => standard::verify(keys, tolerance, headers, body, now),
            Provider::Shopify => shopify::verify(keys, headers, body),
            Provider::Slack => slack::verify(keys, tolerance, headers, body, now),
            Provider::Gitlab => gitlab::verify(keys, headers, body),
            Provider::GenericHmac(s) => generic::verify(s, keys, tolerance, headers, body, now),
        }
    }

    /// The headers the real provider would add to `body`: its signature and,
    /// where the provider carries the event ID in a header, a fresh one.
    pub fn sign(&self, key: &[u8], body: &[u8], now: i64) -> Vec<(String, String)> {
        let delivery_id = match self {
            Provider::StandardWebhooks => fresh_id("msg_"),
            _ => fresh_uuid(),
        };
        self.sign_as(key, body, now, &delivery_id)
    }

    /// [`Provider::sign`] with a given delivery ID (used only by providers
    /// that carry one in a header), so published vectors can be checked.
    pub fn sign_as(
        &self,
        key: &[u8],
        body: &[u8],
        now: i64,
        delivery_id: &str,
    ) -> Vec<(String, String)> {
        match self {
            Provider::Stripe => stripe::sign(key, body, now),
            Provider::Github => github::sign(key, body, delivery_id),
            Provider::StandardWebhooks => standard::sign(key, delivery_id, body, now),
            Provider::Shopify => shopify::sign(key, body, delivery_id),
            Provider::Slack => slack::sign(key, body, now),
            Provider::Gitlab => gitlab::sign(key, delivery_id),
            Provider::GenericHmac(s) => generic::sign(s, key, body, now, delivery_id),
        }
    }

    /// Where the event ID sits in the body, for providers that put it there
    /// (`hookgate replay --unique` rewrites it).
    pub fn body_id_pointer(&self) -> Option<&str> {
        match self {
            Provider::Stripe => Some("/id"),
            Provider::Slack => Some("/event_id"),
            Provider::GenericHmac(s) => match &s.event_id {
                generic::Locator::Pointer(p) => Some(p.as_str()),
                generic::Locator::Header(_) => None,
            },
            _ => None,
        }
    }
}

/// A random identifier with a prefix, for delivery IDs the provider would
/// generate (GitHub's `X-GitHub-Delivery`, Standard Webhooks' `webhook-id`).
pub fn fresh_id(prefix: &str) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

/// A random UUID v4 in its textual form, as GitHub and GitLab use.
pub fn fresh_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// Constant-time equality of two byte strings (their lengths are not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A header as text; `None` when absent or not valid text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub(crate) fn required_header<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<&'a str, Rejection> {
    header(headers, name)
        .ok_or_else(|| Rejection::BadRequest(format!("missing or unreadable header {name}")))
}

pub(crate) fn signature_header<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> Result<&'a str, Rejection> {
    header(headers, name).ok_or_else(|| Rejection::Unauthorized(format!("missing {name} header")))
}

pub(crate) fn bad_signature() -> Rejection {
    Rejection::Unauthorized("signature does not match".into())
}

/// Parses a Unix timestamp in seconds and checks it against the tolerance.
/// `stale_only` accepts timestamps from the future (Stripe's rule).
pub(crate) fn check_timestamp(
    raw: &str,
    tolerance: Option<u64>,
    now: i64,
    stale_only: bool,
) -> Result<i64, Rejection> {
    let ts: i64 = raw
        .parse()
        .map_err(|_| Rejection::Unauthorized("timestamp is not a Unix time in seconds".into()))?;
    if let Some(tol) = tolerance {
        let tol = tol as i64;
        if now - ts > tol {
            return Err(Rejection::Unauthorized(
                "timestamp is outside the tolerance (too old)".into(),
            ));
        }
        if !stale_only && ts - now > tol {
            return Err(Rejection::Unauthorized(
                "timestamp is outside the tolerance (in the future)".into(),
            ));
        }
    }
    Ok(ts)
}

/// The body as a JSON object, or a 400 naming the provider.
pub(crate) fn json_body(body: &[u8], provider: &str) -> Result<serde_json::Value, Rejection> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Rejection::BadRequest(format!(
            "body is not the JSON object {provider} sends"
        ))),
    }
}

/// A string field of a JSON object (numbers are accepted and printed).
pub(crate) fn json_str(value: &serde_json::Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn required_json_str(
    value: &serde_json::Value,
    pointer: &str,
    what: &str,
) -> Result<String, Rejection> {
    json_str(value, pointer)
        .ok_or_else(|| Rejection::BadRequest(format!("body has no {what} at {pointer}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceConfig;

    fn provider(name: &str, secret: &str) -> (Provider, Keys) {
        let text = format!("name = \"s\"\nprovider = \"{name}\"\nsecrets = [\"{secret}\"]\n");
        let source: SourceConfig = toml::from_str(&text).unwrap();
        Provider::from_config(&source, "sources[0]").unwrap()
    }

    fn header<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
        &pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .unwrap()
            .1
    }

    /// The signer `hookgate replay` uses agrees with the published vectors.
    #[test]
    fn replay_signer_matches_published_vectors() {
        let (p, k) = provider("github", "It's a Secret to Everybody");
        let h = p.sign_as(k.first().unwrap(), b"Hello, World!", 0, "d-1");
        assert_eq!(
            header(&h, "x-hub-signature-256"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(header(&h, "x-github-delivery"), "d-1");

        let (p, k) = provider("svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let h = p.sign_as(
            k.first().unwrap(),
            br#"{"test": 2432232314}"#,
            1614265330,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
        );
        assert_eq!(
            header(&h, "webhook-signature"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(header(&h, "webhook-id"), "msg_p5jXN8AQM9LWM0D4loKWxJek");

        let (p, k) = provider("stripe", "whsec_test_secret");
        let body = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
        let h = p.sign(k.first().unwrap(), body, 1614265330);
        assert_eq!(
            header(&h, "stripe-signature"),
            "t=1614265330,v1=af4ead0627a34a8cca29808e8de9ada8e41a92e6237c63cef6eacf51d36cca34"
        );

        let (p, k) = provider("slack", "8f742231b10e8888abcd99yyyzzz85a5");
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let h = p.sign(k.first().unwrap(), body.as_bytes(), 1531420618);
        assert_eq!(
            header(&h, "x-slack-signature"),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
        assert_eq!(header(&h, "x-slack-request-timestamp"), "1531420618");
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    pub fn keys(secrets: &[&str]) -> super::Keys {
        super::Keys(secrets.iter().map(|s| s.as_bytes().to_vec()).collect())
    }
}
