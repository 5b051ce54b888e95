//! Signature verification, one file per provider.
//!
//! [`Provider::verify`] is the only way to obtain a [`Verified`] request, and
//! only a `Verified` request can be turned into a stored event: an unverified
//! body never reaches the store. Every provider also knows how to sign a body
//! the way the real provider does ([`Provider::sign`]), which `hookgate
//! replay` and the tests use; published vectors pin both directions.
//!
//! Each provider file implements [`Scheme`]; [`PROVIDERS`] is the one table
//! of provider names, the source keys each reads and how each is built, so
//! adding a provider is a file and a row.
//!
//! Most providers verify synchronously from the request alone. Amazon SNS
//! must first fetch the certificate a message names: [`Scheme::preflight`]
//! is that async step, run before `verify` and free for everyone else.
//! Batches (SendGrid, Microsoft Graph) verify into one [`Verified`] per
//! element ([`Verdict::Batch`]).
//!
//! "Now" is always an argument, so old published vectors stay testable.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, Method, Uri};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use crate::config::{ConfigError, SourceConfig};

pub mod basic_auth;
pub mod batch;
pub mod bitbucket;
pub mod calendly;
pub mod discord;
pub mod docusign;
pub mod dropbox;
pub mod ed25519;
pub mod generic;
pub mod github;
pub mod gitlab;
pub mod graph;
pub mod header_token;
pub mod hubspot;
pub mod intercom;
pub mod jira;
pub mod kit;
pub mod lemon_squeezy;
pub mod linear;
pub mod mailgun;
pub mod mux;
pub mod paddle;
pub mod pagerduty;
pub mod paystack;
pub mod razorpay;
pub mod sendgrid;
pub mod sentry;
pub mod shopify;
pub mod slack;
pub mod sns;
pub mod square;
pub mod standard;
pub mod stripe;
pub mod twilio;
pub mod twitch;
pub mod typeform;
pub mod vercel;
pub mod woocommerce;
pub mod zendesk;
pub mod zoom;

/// One row of the provider registry: the name a source's `provider` key
/// takes, the provider-specific source keys it reads, and how its scheme is
/// built from the source. [`PROVIDERS`] is the only list of providers;
/// names, lookup and validation all come from it.
pub struct Registration {
    pub name: &'static str,
    /// Optional source keys this provider reads; any other provider-specific
    /// key set on its source is a start-up error naming that key.
    pub keys: &'static [&'static str],
    pub build: Build,
}

/// Builds a provider's scheme from its source; the `&str` is the source's
/// config path (`sources[3]`) for errors.
pub type Build = fn(&SourceConfig, &str) -> Result<Arc<dyn Scheme>, ConfigError>;

/// Every provider hookgate verifies, in the order README lists them.
pub const PROVIDERS: &[Registration] = &[
    Registration {
        name: "stripe",
        keys: &[],
        build: |_, _| Ok(Arc::new(stripe::Stripe)),
    },
    Registration {
        name: "github",
        keys: &[],
        build: |_, _| Ok(Arc::new(github::Github)),
    },
    Registration {
        name: "standard-webhooks",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "webhook"),
    },
    Registration {
        name: "svix",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "webhook"),
    },
    Registration {
        name: "shopify",
        keys: &[],
        build: |_, _| Ok(Arc::new(shopify::Shopify)),
    },
    Registration {
        name: "slack",
        keys: &[],
        build: |_, _| Ok(Arc::new(slack::Slack)),
    },
    Registration {
        name: "gitlab",
        keys: &[],
        build: |_, _| Ok(Arc::new(gitlab::Gitlab)),
    },
    Registration {
        name: "generic-hmac",
        keys: generic::KEYS,
        build: |source, key| Ok(Arc::new(generic::Settings::from_config(source, key)?)),
    },
    Registration {
        name: "paddle",
        keys: &[],
        build: |_, _| Ok(Arc::new(paddle::Paddle)),
    },
    Registration {
        name: "linear",
        keys: &[],
        build: |_, _| Ok(Arc::new(linear::Linear)),
    },
    Registration {
        name: "twilio",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(twilio::Twilio::from_config(source, key)?)),
    },
    Registration {
        name: "square",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(square::Square::from_config(source, key)?)),
    },
    Registration {
        name: "mailgun",
        keys: &[],
        build: |_, _| Ok(Arc::new(mailgun::Mailgun)),
    },
    Registration {
        name: "hubspot",
        keys: &["public_url"],
        build: |source, key| Ok(Arc::new(hubspot::Hubspot::from_config(source, key)?)),
    },
    Registration {
        name: "intercom",
        keys: &[],
        build: |_, _| Ok(Arc::new(intercom::Intercom)),
    },
    Registration {
        name: "typeform",
        keys: &[],
        build: |_, _| Ok(Arc::new(typeform::Typeform)),
    },
    Registration {
        name: "calendly",
        keys: &[],
        build: |_, _| Ok(Arc::new(calendly::Calendly)),
    },
    Registration {
        name: "vercel",
        keys: &[],
        build: |_, _| Ok(Arc::new(vercel::Vercel)),
    },
    Registration {
        name: "sentry",
        keys: &[],
        build: |_, _| Ok(Arc::new(sentry::Sentry)),
    },
    Registration {
        name: "bitbucket",
        keys: &[],
        build: |_, _| Ok(Arc::new(bitbucket::Bitbucket)),
    },
    Registration {
        name: "jira",
        keys: &[],
        build: |_, _| Ok(Arc::new(jira::Jira)),
    },
    Registration {
        name: "lemon-squeezy",
        keys: &[],
        build: |_, _| Ok(Arc::new(lemon_squeezy::LemonSqueezy)),
    },
    Registration {
        name: "paystack",
        keys: &[],
        build: |_, _| Ok(Arc::new(paystack::Paystack)),
    },
    Registration {
        name: "razorpay",
        keys: &[],
        build: |_, _| Ok(Arc::new(razorpay::Razorpay)),
    },
    Registration {
        name: "woocommerce",
        keys: &[],
        build: |_, _| Ok(Arc::new(woocommerce::Woocommerce)),
    },
    Registration {
        name: "pagerduty",
        keys: &[],
        build: |_, _| Ok(Arc::new(pagerduty::Pagerduty)),
    },
    Registration {
        name: "zendesk",
        keys: &[],
        build: |_, _| Ok(Arc::new(zendesk::Zendesk)),
    },
    Registration {
        name: "mux",
        keys: &[],
        build: |_, _| Ok(Arc::new(mux::Mux)),
    },
    Registration {
        name: "docusign",
        keys: &[],
        build: |_, _| Ok(Arc::new(docusign::Docusign)),
    },
    // Clerk and Resend sign with Svix: Standard Webhooks with `svix-*` headers.
    Registration {
        name: "clerk",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "svix"),
    },
    Registration {
        name: "resend",
        keys: standard::KEYS,
        build: |source, key| standard::StandardWebhooks::build(source, key, "svix"),
    },
    Registration {
        name: "basic-auth",
        keys: &["event_id_pointer", "event_type_pointer"],
        build: |source, key| {
            Ok(Arc::new(basic_auth::BasicAuth {
                pointers: kit::Pointers::from_config(source, key)?,
            }))
        },
    },
    Registration {
        name: "header-token",
        keys: &["token_header", "event_id_pointer", "event_type_pointer"],
        build: |source, key| {
            Ok(Arc::new(header_token::HeaderToken {
                header: token_header(source, key)?,
                pointers: kit::Pointers::from_config(source, key)?,
            }))
        },
    },
    Registration {
        name: "discord",
        keys: &["public_keys", "signing_key"],
        build: |source, key| Ok(Arc::new(discord::Discord::from_config(source, key)?)),
    },
    Registration {
        name: "sendgrid",
        keys: &["public_keys", "signing_key"],
        build: |source, key| Ok(Arc::new(sendgrid::Sendgrid::from_config(source, key)?)),
    },
    Registration {
        name: "twitch",
        keys: &[],
        build: |_, _| Ok(Arc::new(twitch::Twitch)),
    },
    Registration {
        name: "zoom",
        keys: &[],
        build: |_, _| Ok(Arc::new(zoom::Zoom)),
    },
    Registration {
        name: "dropbox",
        keys: &[],
        build: |_, _| Ok(Arc::new(dropbox::Dropbox)),
    },
    Registration {
        name: "microsoft-graph",
        keys: &[],
        build: |_, _| Ok(Arc::new(graph::Graph)),
    },
    Registration {
        name: "aws-sns",
        keys: sns::KEYS,
        build: |source, key| Ok(Arc::new(sns::Sns::from_config(source, key)?)),
    },
];

/// A boxed future, for the few async steps of [`Scheme`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The provider names accepted in `sources[].provider`.
pub fn provider_names() -> impl Iterator<Item = &'static str> {
    PROVIDERS.iter().map(|r| r.name)
}

/// What a provider sees of an inbound request: the method, the path and
/// query exactly as received, the headers and the raw body. Providers that
/// sign the URL (Twilio, Square, HubSpot) combine the path's query with the
/// source's `public_url`; GET handshakes (Dropbox, Microsoft Graph) read the
/// query.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl<'a> Inbound<'a> {
    /// A `POST /` with these headers and body (tests and store-level callers).
    pub fn post(headers: &'a HeaderMap, body: &'a [u8]) -> Inbound<'a> {
        static ROOT: std::sync::OnceLock<Uri> = std::sync::OnceLock::new();
        Inbound {
            method: &Method::POST,
            uri: ROOT.get_or_init(|| Uri::from_static("/")),
            headers,
            body,
        }
    }

    /// A query parameter of the request URI, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_pairs(self.uri.query()?.as_bytes())
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// How one provider checks, signs and reads its requests. Each provider file
/// implements it; the registry builds one per source.
pub trait Scheme: Send + Sync + std::fmt::Debug {
    /// Checks the request's signature and reads its event ID and type.
    /// `tolerance` is the source's, else [`Scheme::default_tolerance`].
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection>;

    /// The headers the real provider would add to `body` sent at `now`: its
    /// signature and, where it carries the event ID in a header, `delivery_id`.
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)>;

    /// The timestamp tolerance in seconds when the source sets none.
    fn default_tolerance(&self) -> Option<u64> {
        None
    }

    /// Whether the provider sends GET requests (handshakes); other providers
    /// answer a GET with 405.
    fn handles_get(&self) -> bool {
        false
    }

    /// Whether a source of this provider must list `secrets`.
    fn needs_secrets(&self) -> bool {
        true
    }

    /// Turns one configured secret into the key bytes the provider signs with.
    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        Ok(raw.as_bytes().to_vec())
    }

    /// Whether a request header (given in lower case) carries a secret
    /// itself, so it is never stored, logged or shown.
    fn is_secret_header(&self, _name: &str) -> bool {
        false
    }

    /// The body as the provider would send it at `now`, for providers that
    /// sign inside the body or stamp it with the time (Mailgun, Linear);
    /// `None` leaves it as it is.
    fn stamp(&self, _key: &[u8], _body: &[u8], _now: i64, _delivery_id: &str) -> Option<Vec<u8>> {
        None
    }

    /// Where the event ID sits in the body, for providers that put it there
    /// (`hookgate replay --unique` rewrites it).
    fn body_id_pointer(&self) -> Option<&str> {
        None
    }

    /// A delivery ID as the provider would generate it.
    fn fresh_delivery_id(&self) -> String {
        fresh_uuid()
    }

    /// Async work before [`Scheme::verify`], such as fetching the
    /// certificate a message names (Amazon SNS). Most providers need none.
    fn preflight<'a>(&'a self, _req: Inbound<'a>) -> BoxFuture<'a, Result<(), Rejection>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Work a stored (or duplicate) event asks for once it is on disk, such
    /// as confirming an SNS subscription; its error is answered 502.
    fn after_store<'a>(&'a self, _req: Inbound<'a>) -> Option<BoxFuture<'a, Result<(), String>>> {
        None
    }

    /// Whether [`Scheme::sign`] can sign for this source; providers that
    /// sign with a private key need the source's development `signing_key`.
    fn signing_ready(&self, keys: &Keys) -> Result<(), String> {
        keys.first()
            .map(|_| ())
            .ok_or_else(|| "the source has no secret".to_string())
    }
}

/// A source's provider: its registered name and its configured scheme.
#[derive(Debug, Clone)]
pub struct Provider {
    name: &'static str,
    scheme: Arc<dyn Scheme>,
}

/// The longest provider event ID hookgate stores, in bytes.
pub const MAX_EVENT_ID_BYTES: usize = 512;
/// The longest event type hookgate stores, in bytes.
pub const MAX_EVENT_TYPE_BYTES: usize = 256;

/// A request whose signature checked out, with what hookgate needs to store
/// and route it. Constructed only inside this module tree, and only with an
/// ID and type that can be delivered: both travel to targets as header
/// values, which cannot hold control characters, and targets refuse huge
/// headers. An event that could never be delivered is refused at ingest
/// (400), while the sender can still hear about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    provider_event_id: String,
    event_type: String,
    ack: Option<Ack>,
}

/// How a provider requires a stored event to be acknowledged, where
/// hookgate's JSON 200 would not do (Discord).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// 204 with no body.
    NoContent,
    /// 200 with this JSON body.
    Json(serde_json::Value),
}

impl Verified {
    fn new(provider_event_id: String, event_type: String) -> Result<Self, Rejection> {
        deliverable(&provider_event_id, "provider event ID", MAX_EVENT_ID_BYTES)?;
        deliverable(&event_type, "event type", MAX_EVENT_TYPE_BYTES)?;
        Ok(Self {
            provider_event_id,
            event_type,
            ack: None,
        })
    }
    fn with_ack(mut self, ack: Ack) -> Self {
        self.ack = Some(ack);
        self
    }
    /// The provider's own acknowledgement, when it needs one.
    pub fn ack(&self) -> Option<&Ack> {
        self.ack.as_ref()
    }
    pub fn provider_event_id(&self) -> &str {
        &self.provider_event_id
    }
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
}

/// Checks one field that will be sent as a header value; the message names
/// the field and never echoes the value.
fn deliverable(value: &str, field: &str, max: usize) -> Result<(), Rejection> {
    if value.is_empty() {
        return Err(Rejection::BadRequest(format!("the {field} is empty")));
    }
    if value.len() > max {
        return Err(Rejection::BadRequest(format!(
            "the {field} is {} bytes long; at most {max} are accepted",
            value.len()
        )));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Rejection::BadRequest(format!(
            "the {field} holds the control character U+{:04X}, which no header can carry",
            c as u32
        )));
    }
    Ok(())
}

/// What a verified request turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// An event to store and deliver.
    Event(Verified),
    /// A provider handshake (Slack `url_verification`, a Dropbox challenge):
    /// answered with 200 and this body, never stored.
    Handshake(Handshake),
    /// Several events in one request (SendGrid, Microsoft Graph), each
    /// stored, deduplicated and routed on its own.
    Batch(Vec<batch::Part>),
}

/// The answer to a handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    pub body: HandshakeBody,
    /// Extra response headers, e.g. `X-Content-Type-Options: nosniff`.
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeBody {
    Json(serde_json::Value),
    /// Sent as `text/plain; charset=utf-8`.
    Text(String),
    /// 204 with no body (Discord's webhook-event PING).
    Empty,
}

impl Handshake {
    pub fn json(value: serde_json::Value) -> Handshake {
        Handshake {
            body: HandshakeBody::Json(value),
            headers: Vec::new(),
        }
    }

    /// A plain-text answer that browsers may not sniff as HTML, since it
    /// echoes text the caller chose (Dropbox requires the header).
    pub fn text(text: impl Into<String>) -> Handshake {
        Handshake {
            body: HandshakeBody::Text(text.into()),
            headers: vec![("x-content-type-options", "nosniff".into())],
        }
    }

    pub fn no_content() -> Handshake {
        Handshake {
            body: HandshakeBody::Empty,
            headers: Vec::new(),
        }
    }
}

/// Why a request was refused. `Unauthorized` details are safe to show: they
/// never name a secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    /// The provider never sends this method (405).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Verification needs something that cannot be had now (SNS's
    /// certificate server is unreachable): 503, so the sender retries.
    #[error("{0}")]
    Unavailable(String),
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
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.0.iter().map(Vec::as_slice)
    }
}

impl Provider {
    /// Builds the provider of a `[[sources]]` entry; `key` is its config path.
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<(Provider, Keys), ConfigError> {
        let registration = PROVIDERS
            .iter()
            .find(|r| r.name == source.provider)
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.provider"),
                    format!(
                        "unknown provider {:?}; expected one of {}",
                        source.provider,
                        provider_names().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
        if let Some(extra) = source
            .provider_keys_set()
            .into_iter()
            .find(|k| !registration.keys.contains(k))
        {
            let takes = if registration.keys.is_empty() {
                "no provider-specific keys".to_string()
            } else {
                registration.keys.join(", ")
            };
            return Err(ConfigError::new(
                format!("{key}.{extra}"),
                format!(
                    "provider {:?} does not take this key (it takes {takes})",
                    source.provider
                ),
            ));
        }
        let scheme = (registration.build)(source, key)?;
        if source.secrets.is_empty() && scheme.needs_secrets() {
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
            let bytes = scheme
                .decode_secret(raw)
                .map_err(|m| ConfigError::new(format!("{key}.secrets[{i}]"), m))?;
            keys.push(bytes);
        }
        let provider = Provider {
            name: registration.name,
            scheme,
        };
        Ok((provider, Keys(keys)))
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The provider's default timestamp tolerance in seconds, if it signs one.
    pub fn default_tolerance(&self) -> Option<u64> {
        self.scheme.default_tolerance()
    }

    /// Headers whose value is itself a secret: never stored, logged or shown.
    pub fn is_secret_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        matches!(
            name.as_str(),
            "authorization" | "cookie" | "proxy-authorization"
        ) || self.scheme.is_secret_header(&name)
    }

    /// Checks the signature of a request and reads its event ID and type.
    /// A GET reaches only providers that send one.
    pub fn verify(
        &self,
        keys: &Keys,
        tolerance_secs: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let allowed = *req.method == Method::POST
            || (*req.method == Method::GET && self.scheme.handles_get());
        if !allowed {
            return Err(Rejection::MethodNotAllowed(format!(
                "{} sends POST requests only, not {}",
                self.name, req.method
            )));
        }
        let tolerance = tolerance_secs.or(self.scheme.default_tolerance());
        self.scheme.verify(keys, tolerance, req, now)
    }

    /// The methods the ingest route takes for this provider (for `Allow`).
    pub fn allowed_methods(&self) -> &'static str {
        if self.scheme.handles_get() {
            "GET, POST"
        } else {
            "POST"
        }
    }

    /// The headers the real provider would add to `body`: its signature and,
    /// where the provider carries the event ID in a header, a fresh one.
    pub fn sign(&self, key: &[u8], body: &[u8], now: i64) -> Vec<(String, String)> {
        self.sign_as(key, body, now, &self.scheme.fresh_delivery_id())
    }

    /// A request as the provider would send `body` at `now`: the body (which
    /// a few providers stamp or sign inside) and the headers to add.
    pub fn prepare(&self, key: &[u8], body: &[u8], now: i64) -> (Vec<u8>, Vec<(String, String)>) {
        self.prepare_as(key, body, now, &self.scheme.fresh_delivery_id())
    }

    /// [`Provider::prepare`] with a given delivery ID.
    pub fn prepare_as(
        &self,
        key: &[u8],
        body: &[u8],
        now: i64,
        delivery_id: &str,
    ) -> (Vec<u8>, Vec<(String, String)>) {
        let body = self
            .scheme
            .stamp(key, body, now, delivery_id)
            .unwrap_or_else(|| body.to_vec());
        let headers = self.scheme.sign(key, &body, now, delivery_id);
        (body, headers)
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
        self.scheme.sign(key, body, now, delivery_id)
    }

    /// Where the event ID sits in the body, for providers that put it there
    /// (`hookgate replay --unique` rewrites it).
    pub fn body_id_pointer(&self) -> Option<&str> {
        self.scheme.body_id_pointer()
    }

    /// See [`Scheme::preflight`].
    pub fn preflight<'a>(&'a self, req: Inbound<'a>) -> BoxFuture<'a, Result<(), Rejection>> {
        self.scheme.preflight(req)
    }

    /// See [`Scheme::after_store`].
    pub fn after_store<'a>(
        &'a self,
        req: Inbound<'a>,
    ) -> Option<BoxFuture<'a, Result<(), String>>> {
        self.scheme.after_store(req)
    }

    /// See [`Scheme::signing_ready`].
    pub fn signing_ready(&self, keys: &Keys) -> Result<(), String> {
        self.scheme.signing_ready(keys)
    }
}

/// `public_url`: the exact URL registered with a provider that signs the
/// URL; an absolute `http(s)` URL.
pub fn public_url(source: &SourceConfig, key: &str) -> Result<String, ConfigError> {
    let url = source.public_url.as_deref().ok_or_else(|| {
        ConfigError::new(
            format!("{key}.public_url"),
            format!(
                "provider {:?} signs the URL it posts to: set public_url to the exact URL registered with it",
                source.provider
            ),
        )
    })?;
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(ConfigError::new(
            format!("{key}.public_url"),
            format!("{url:?} is not an absolute http(s) URL"),
        )),
    }
}

/// `token_header`: the header a static token arrives in, lower-cased.
pub fn token_header(source: &SourceConfig, key: &str) -> Result<String, ConfigError> {
    let name = source.token_header.as_deref().ok_or_else(|| {
        ConfigError::new(
            format!("{key}.token_header"),
            "name the header that carries the token",
        )
    })?;
    HeaderName::from_bytes(name.as_bytes())
        .map(|h| h.as_str().to_string())
        .map_err(|_| {
            ConfigError::new(
                format!("{key}.token_header"),
                format!("{name:?} is not a valid header name"),
            )
        })
}

/// Splits `application/x-www-form-urlencoded` text into decoded pairs, in
/// order (`+` is a space; undecodable escapes are kept as they are).
pub fn form_pairs(text: &[u8]) -> Vec<(String, String)> {
    text.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = percent_decode(it.next().unwrap_or_default());
            let v = percent_decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => match hex::decode(&raw[i + 1..i + 3]) {
                Ok(b) => {
                    out.push(b[0]);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
        // In i128 every difference of two i64 and every u64 fits: no
        // wrap-around can turn an ancient timestamp into a fresh one.
        let (ts, now, tol) = (i128::from(ts), i128::from(now), i128::from(tol));
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

/// A string field of a JSON object. A number is taken as written in the
/// body (serde_json keeps its exact text), so `123456789012345678901234567890`
/// stays itself rather than a rounded float, and `42` and `"42"` are the
/// same ID.
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

    fn source(extra: &str) -> SourceConfig {
        toml::from_str(&format!(
            "name = \"s\"\nprovider = \"x\"\nsecrets = [\"k\"]\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn public_url_and_token_header_are_validated_naming_the_key() {
        let ok = source("public_url = \"https://hooks.example.com/ingest/s?x=1\"");
        assert_eq!(
            public_url(&ok, "sources[0]").unwrap(),
            "https://hooks.example.com/ingest/s?x=1"
        );
        for bad in [
            "",
            "public_url = \"/ingest/s\"",
            "public_url = \"ftp://h/x\"",
        ] {
            let err = public_url(&source(bad), "sources[0]").unwrap_err();
            assert_eq!(err.key, "sources[0].public_url", "{bad}: {err}");
        }
        let ok = source("token_header = \"X-Webhook-Token\"");
        assert_eq!(token_header(&ok, "sources[0]").unwrap(), "x-webhook-token");
        for bad in ["", "token_header = \"bad header\""] {
            let err = token_header(&source(bad), "sources[0]").unwrap_err();
            assert_eq!(err.key, "sources[0].token_header", "{bad}: {err}");
        }
    }

    #[test]
    fn form_pairs_decode_in_order() {
        assert_eq!(
            form_pairs(b"b=2+3&a=%41%zz&&c"),
            vec![
                ("b".to_string(), "2 3".to_string()),
                ("a".to_string(), "A%zz".to_string()),
                ("c".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn registry_names_are_unique() {
        let mut names: Vec<&str> = provider_names().collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    /// No wrap-around at the ends of i64 (or with a u64 tolerance): the
    /// stalest and most future timestamps are refused, never taken as now.
    #[test]
    fn timestamp_checks_hold_at_the_extremes() {
        let (min, max) = (i64::MIN.to_string(), i64::MAX.to_string());
        let now = 1_700_000_000;
        // (timestamp, tolerance, now, stale_only, accepted)
        let cases = [
            (&min, 300, now, true, false),
            (&min, 300, now, false, false),
            (&min, 300, i64::MAX, true, false),
            (&max, 300, now, false, false),
            (&max, 300, i64::MIN, false, false),
            (&max, 300, now, true, true),
            (&min, 0, i64::MIN, false, true),
            (&max, 0, i64::MAX, false, true),
            (&min, u64::MAX, i64::MAX, false, true),
            (&min, i64::MAX as u64, 0, true, false),
        ];
        for (ts, tolerance, now, stale_only, accepted) in cases {
            let r = check_timestamp(ts, Some(tolerance), now, stale_only);
            assert_eq!(
                r.is_ok(),
                accepted,
                "{ts} tol {tolerance} now {now} stale_only {stale_only}"
            );
        }
        assert!(check_timestamp("-9223372036854775809", Some(300), 0, true).is_err());
        assert!(check_timestamp("99999999999999999999", None, 0, false).is_err());
    }

    /// IDs and types that could not travel as header values are refused,
    /// with the field named; the limits themselves are accepted.
    #[test]
    fn verified_holds_only_deliverable_values() {
        let ok = |id: &str, t: &str| Verified::new(id.into(), t.into());
        assert!(ok(
            &"i".repeat(MAX_EVENT_ID_BYTES),
            &"t".repeat(MAX_EVENT_TYPE_BYTES)
        )
        .is_ok());
        assert!(ok("é-ünïcode", "type.ok").is_ok());
        for (id, t, field) in [
            ("a\nb", "t", "provider event ID"),
            ("a\0b", "t", "provider event ID"),
            ("a\u{85}b", "t", "provider event ID"),
            ("", "t", "provider event ID"),
            ("a", "t\tx", "event type"),
            ("a", "", "event type"),
        ] {
            match ok(id, t) {
                Err(Rejection::BadRequest(m)) => assert!(m.contains(field), "{m}"),
                other => panic!("{id:?}/{t:?}: {other:?}"),
            }
        }
        assert!(ok(&"i".repeat(MAX_EVENT_ID_BYTES + 1), "t").is_err());
        assert!(ok("i", &"t".repeat(MAX_EVENT_TYPE_BYTES + 1)).is_err());
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

    /// A `[[sources]]` entry of `provider` with `extra` TOML lines.
    pub fn source(provider: &str, extra: &str) -> crate::config::SourceConfig {
        let text = format!("name = \"s\"\nprovider = \"{provider}\"\n{extra}\n");
        toml::from_str(&text).unwrap()
    }

    /// One request to one provider, for the provider files' tests: built
    /// from a source config, signed by the provider's own signer or given
    /// verbatim, then verified as ingest would.
    #[derive(Clone)]
    pub struct Case {
        pub provider: super::Provider,
        pub keys: super::Keys,
        pub method: axum::http::Method,
        pub uri: axum::http::Uri,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Case {
        /// A source of `provider` with `secrets` and more TOML lines.
        pub fn new(provider: &str, secrets: &[&str], extra: &str) -> Case {
            let list: Vec<String> = secrets.iter().map(|s| format!("{s:?}")).collect();
            let text = format!(
                "name = \"s\"\nprovider = \"{provider}\"\nsecrets = [{}]\n{extra}",
                list.join(", ")
            );
            let source: crate::config::SourceConfig = toml::from_str(&text).unwrap();
            let (provider, keys) = super::Provider::from_config(&source, "sources[0]").unwrap();
            Case {
                provider,
                keys,
                method: axum::http::Method::POST,
                uri: axum::http::Uri::from_static("/ingest/s"),
                headers: Vec::new(),
                body: Vec::new(),
            }
        }

        /// `body` as the provider sends it at `now` with the first secret,
        /// plus `extra` headers.
        pub fn signed(
            &self,
            body: &[u8],
            now: i64,
            delivery_id: &str,
            extra: &[(&str, &str)],
        ) -> Case {
            let (body, mut headers) =
                self.provider
                    .prepare_as(self.keys.first().unwrap(), body, now, delivery_id);
            headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            Case {
                headers,
                body,
                ..self.clone()
            }
        }

        /// This request as given: headers and body verbatim.
        pub fn raw(&self, headers: &[(&str, &str)], body: &[u8]) -> Case {
            Case {
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: body.to_vec(),
                ..self.clone()
            }
        }

        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        pub fn verify(
            &self,
            tolerance: Option<u64>,
            now: i64,
        ) -> Result<super::Verdict, super::Rejection> {
            let pairs: Vec<(&str, &str)> = self
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let map = headers(&pairs);
            let req = super::Inbound {
                method: &self.method,
                uri: &self.uri,
                headers: &map,
                body: &self.body,
            };
            self.provider.verify(&self.keys, tolerance, &req, now)
        }

        /// The (event ID, type) of a request that must verify.
        pub fn event(&self, now: i64) -> (String, String) {
            match self.verify(None, now) {
                Ok(super::Verdict::Event(v)) => (v.provider_event_id, v.event_type),
                other => panic!("expected an event, got {other:?}"),
            }
        }

        /// A tampered body (one byte changed) and a wrong secret are both 401.
        pub fn assert_tamper_and_wrong_secret_refused(&self, now: i64) {
            let mut tampered = self.clone();
            let i = tampered
                .body
                .iter()
                .rposition(|b| b.is_ascii_alphanumeric())
                .expect("a body with a letter or digit");
            tampered.body[i] = if tampered.body[i] == b'x' { b'y' } else { b'x' };
            assert!(
                matches!(
                    tampered.verify(None, now),
                    Err(super::Rejection::Unauthorized(_))
                ),
                "tampered body: {:?}",
                tampered.verify(None, now)
            );
            let mut wrong = self.clone();
            wrong.keys = super::Keys(vec![b"not-the-secret".to_vec()]);
            assert!(
                matches!(
                    wrong.verify(None, now),
                    Err(super::Rejection::Unauthorized(_))
                ),
                "wrong secret: {:?}",
                wrong.verify(None, now)
            );
        }

        pub fn assert_unauthorized(&self, tolerance: Option<u64>, now: i64) {
            let got = self.verify(tolerance, now);
            assert!(
                matches!(got, Err(super::Rejection::Unauthorized(_))),
                "{got:?}"
            );
        }
    }
}
