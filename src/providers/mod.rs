//! Signature verification, one file per provider.
//!
//! [`Provider::verify`] is the only way to obtain a [`Verified`] request, and
//! only a `Verified` request can be turned into a stored event: an unverified
//! body never reaches the store. Every provider also knows how to sign a body
//! the way the real provider does ([`Provider::sign`]), which `hookgate
//! replay` and the tests use; published vectors pin both directions.
//!
//! Each provider file implements [`Scheme`]; [`PROVIDERS`] (in
//! `registry.rs`) is the one table of provider names, the source keys each
//! reads and how each is built, so adding a provider is a file and a row.
//! Around them: `verdict.rs` holds what verification yields, `parse.rs` the
//! header, timestamp and JSON helpers, `kit.rs` the pieces the HMAC
//! providers share; the MACs and constant-time compare are [`crate::crypto`].
//!
//! Most providers verify synchronously from the request alone. Amazon SNS
//! must first fetch the certificate a message names: [`Scheme::preflight`]
//! is that async step, run before `verify` and free for everyone else.
//! Batches (SendGrid, Microsoft Graph) verify into one [`Verified`] per
//! element ([`Verdict::Batch`]).
//!
//! "Now" is always an argument, so old published vectors stay testable. It
//! arrives as a [`UnixMs`] and [`Provider`] turns it into the Unix seconds
//! providers sign with, once, before any [`Scheme`] sees it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::Method;

use crate::config::{ConfigError, SourceConfig};
use crate::ids::fresh_uuid;
use crate::time::UnixMs;

pub mod adyen;
pub mod airtable;
pub mod basic_auth;
pub mod batch;
pub mod bitbucket;
pub mod box_com;
pub mod braintree;
pub mod buildkite;
pub mod cal_com;
pub mod calendly;
pub mod cashfree;
pub mod checkout_com;
pub mod circleci;
pub mod clickup;
pub mod coinbase_commerce;
pub mod contentful;
pub mod customer_io;
pub mod discord;
pub mod docusign;
pub mod dropbox;
pub mod easypost;
pub mod ed25519;
pub mod fastspring;
pub mod generic;
pub mod ghost;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod gocardless;
pub mod graph;
pub mod header_token;
pub mod heroku;
pub mod hubspot;
pub mod hygraph;
pub mod intercom;
pub mod jira;
pub mod jwt;
pub mod kit;
pub mod launchdarkly;
pub mod lemon_squeezy;
pub mod line;
pub mod linear;
pub mod mailgun;
pub mod mandrill;
pub mod mercado_pago;
pub mod messagebird;
pub mod meta;
pub mod microsoft_teams;
pub mod mollie;
pub mod monday;
pub mod mux;
pub mod netlify;
pub mod nylas;
pub mod okta;
pub mod paddle;
pub mod pagerduty;
pub mod patreon;
pub mod paypal;
pub mod paystack;
pub mod plivo;
pub mod razorpay;
pub mod recurly;
pub mod sanity;
pub mod segment;
pub mod sendgrid;
pub mod sentry;
pub mod shopify;
pub mod signed_at;
pub mod signed_body;
pub mod signed_events;
pub mod slack;
pub mod sns;
pub mod square;
pub mod standard;
pub mod stripe;
pub mod tally;
pub mod telegram;
pub mod telnyx;
pub mod trello;
pub mod twilio;
pub mod twitch;
pub mod typeform;
pub mod vercel;
pub mod viber;
pub mod vonage;
pub mod webex;
pub mod webflow;
pub mod woocommerce;
pub mod xero;
pub mod zendesk;
pub mod zoom;

mod parse;
mod registry;
#[cfg(test)]
pub(crate) mod testing;
mod verdict;

pub(crate) use parse::{
    bad_signature, check_sent_within, check_timestamp, header, json_body, json_str,
    required_header, required_json_str, signature_header,
};
pub use parse::{form_encode, form_pairs, Inbound};
pub use registry::{provider_names, public_url, token_header, Build, Registration, PROVIDERS};
pub use verdict::{
    Ack, Handshake, HandshakeBody, Rejection, Verdict, Verified, MAX_EVENT_ID_BYTES,
    MAX_EVENT_TYPE_BYTES,
};

/// A boxed future, for the few async steps of [`Scheme`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How one provider checks, signs and reads its requests. Each provider file
/// implements it; the registry builds one per source. `now` is Unix seconds,
/// the unit providers sign with; [`Provider`] converts it from [`UnixMs`].
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

    /// Whether the provider sends GET (or HEAD) requests (handshakes); other
    /// providers answer them with 405.
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
        now: UnixMs,
    ) -> Result<Verdict, Rejection> {
        // A HEAD is a GET without its answer's body (Trello and Mandrill
        // check a callback URL with one).
        let allowed = *req.method == Method::POST
            || (matches!(*req.method, Method::GET | Method::HEAD) && self.scheme.handles_get());
        if !allowed {
            return Err(Rejection::MethodNotAllowed(format!(
                "{} sends POST requests only, not {}",
                self.name, req.method
            )));
        }
        let tolerance = tolerance_secs.or(self.scheme.default_tolerance());
        self.scheme.verify(keys, tolerance, req, now.as_secs())
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
    pub fn sign(&self, key: &[u8], body: &[u8], now: UnixMs) -> Vec<(String, String)> {
        self.sign_as(key, body, now, &self.scheme.fresh_delivery_id())
    }

    /// A request as the provider would send `body` at `now`: the body (which
    /// a few providers stamp or sign inside) and the headers to add.
    pub fn prepare(
        &self,
        key: &[u8],
        body: &[u8],
        now: UnixMs,
    ) -> (Vec<u8>, Vec<(String, String)>) {
        self.prepare_as(key, body, now, &self.scheme.fresh_delivery_id())
    }

    /// [`Provider::prepare`] with a given delivery ID.
    pub fn prepare_as(
        &self,
        key: &[u8],
        body: &[u8],
        now: UnixMs,
        delivery_id: &str,
    ) -> (Vec<u8>, Vec<(String, String)>) {
        let now = now.as_secs();
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
        now: UnixMs,
        delivery_id: &str,
    ) -> Vec<(String, String)> {
        self.scheme.sign(key, body, now.as_secs(), delivery_id)
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

#[cfg(test)]
mod tests;
