//! The configuration's shape: one plain struct per table of
//! `hookgate.toml`, each with its production defaults. Data only; what a
//! value means is decided where the running parts are built from it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub dispatcher: DispatcherConfig,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub max_body_bytes: usize,
    pub request_timeout_ms: u64,
    pub shutdown_grace_ms: u64,
    /// A client must finish its request line and headers within this,
    /// counted from the connection's accept or the first byte of a later
    /// request on a kept-alive connection.
    pub header_timeout_ms: u64,
    /// A kept-alive connection with no request in progress is closed after
    /// this long without the first byte of a next request.
    pub idle_timeout_ms: u64,
    /// Concurrent connections. When full, the connection that has waited
    /// longest for a request gives way to a new one; when all are busy, new
    /// ones wait in the accept queue.
    pub max_connections: usize,
    /// Bytes of request bodies being received or handled, all requests
    /// together; a request that would pass it is answered 503 with
    /// `Retry-After`, so hostile uploads cannot grow memory without bound.
    pub max_inflight_body_bytes: usize,
    /// Peers (CIDR) whose `X-Forwarded-For` is believed when a source has
    /// `allow_ips`; everyone else is judged by the connection's address.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1024 * 1024,
            request_timeout_ms: 10_000,
            shutdown_grace_ms: 10_000,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_connections: 10_000,
            max_inflight_body_bytes: 256 * 1024 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a write waits for the store (a place in the queue, a
    /// connection, its commit) before it is answered 503.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://data/hookgate.db".into(),
            max_connections: 16,
            acquire_timeout_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub days: u32,
    /// Rows deleted per statement, so pruning never holds the store for long.
    pub batch_size: u32,
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            days: 30,
            batch_size: 500,
            interval_secs: 300,
        }
    }
}

/// Tuning of the outbox dispatcher. Not in the minimal SPEC example; every
/// key has a production default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatcherConfig {
    /// First retry delay; doubles per attempt (before jitter).
    pub retry_base_ms: u64,
    /// Cap of the backoff delay.
    pub retry_max_ms: u64,
    /// Cap of an honoured `Retry-After` from a 429 or 503.
    pub retry_after_max_ms: u64,
    /// How often the outbox is polled when no in-process notification came.
    pub poll_interval_ms: u64,
    /// Most deliveries claimed per target in one statement.
    pub batch_size: u32,
    /// Lease added on top of a target's `timeout_ms` when claiming.
    pub lease_margin_ms: u64,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            retry_base_ms: 1_000,
            retry_max_ms: 3_600_000,
            retry_after_max_ms: 3_600_000,
            poll_interval_ms: 1_000,
            batch_size: 64,
            lease_margin_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    pub provider: String,
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// A file holding more secrets, one a line (blank lines and `#`
    /// comments skipped); read at start, added after `secrets`.
    pub secrets_file: Option<PathBuf>,
    /// When set, only these addresses (CIDR) may post to this source.
    pub allow_ips: Option<Vec<String>>,
    pub tolerance_secs: Option<u64>,
    // `generic-hmac` only: how the signature is carried and computed.
    pub signature_header: Option<String>,
    pub signature_prefix: Option<String>,
    pub algorithm: Option<String>,
    pub encoding: Option<String>,
    pub timestamp_header: Option<String>,
    pub event_id_header: Option<String>,
    pub event_id_pointer: Option<String>,
    pub event_type_header: Option<String>,
    pub event_type_pointer: Option<String>,
    // Providers that sign the URL (Twilio, Square, HubSpot v3): the exact
    // URL registered with the provider.
    pub public_url: Option<String>,
    // `header-token`: the header that carries the token.
    pub token_header: Option<String>,
    // Providers that verify with a public key (Discord: hex; SendGrid:
    // base64 DER; Standard Webhooks `v1a`: `whpk_...`); several = rotation.
    #[serde(default)]
    pub public_keys: Vec<String>,
    // Development only: the private key `hookgate replay` signs with, for
    // providers that sign with one (Discord, SendGrid, Standard Webhooks
    // `v1a`, Amazon SNS).
    pub signing_key: Option<Secret>,
    // `aws-sns`: certificate host patterns (`*` = one DNS label), an extra
    // trusted CA (tests and private deployments), whether to confirm
    // subscriptions, and where the development signing key's certificate is.
    pub sns_cert_hosts: Option<Vec<String>>,
    pub sns_ca_file: Option<String>,
    pub sns_confirm_subscriptions: Option<bool>,
    pub sns_signing_cert_url: Option<String>,
    // Subscription handshakes (Meta's `hub.verify_token`): the token the
    // sender's GET must carry before its challenge is echoed.
    pub verify_token: Option<Secret>,
    // `paypal`: like the `sns_*` keys, for PayPal's certificates.
    pub paypal_cert_hosts: Option<Vec<String>>,
    pub paypal_ca_file: Option<String>,
    pub paypal_signing_cert_url: Option<String>,
}

impl SourceConfig {
    /// The provider-specific keys that are set; each provider's registration
    /// says which of them it reads, and any other is an error.
    pub fn provider_keys_set(&self) -> Vec<&'static str> {
        let fields = [
            ("public_url", self.public_url.is_some()),
            ("token_header", self.token_header.is_some()),
            ("signature_header", self.signature_header.is_some()),
            ("signature_prefix", self.signature_prefix.is_some()),
            ("algorithm", self.algorithm.is_some()),
            ("encoding", self.encoding.is_some()),
            ("timestamp_header", self.timestamp_header.is_some()),
            ("event_id_header", self.event_id_header.is_some()),
            ("event_id_pointer", self.event_id_pointer.is_some()),
            ("event_type_header", self.event_type_header.is_some()),
            ("event_type_pointer", self.event_type_pointer.is_some()),
            ("public_keys", !self.public_keys.is_empty()),
            ("signing_key", self.signing_key.is_some()),
            ("sns_cert_hosts", self.sns_cert_hosts.is_some()),
            ("sns_ca_file", self.sns_ca_file.is_some()),
            (
                "sns_confirm_subscriptions",
                self.sns_confirm_subscriptions.is_some(),
            ),
            ("sns_signing_cert_url", self.sns_signing_cert_url.is_some()),
            ("verify_token", self.verify_token.is_some()),
            ("paypal_cert_hosts", self.paypal_cert_hosts.is_some()),
            ("paypal_ca_file", self.paypal_ca_file.is_some()),
            (
                "paypal_signing_cert_url",
                self.paypal_signing_cert_url.is_some(),
            ),
        ];
        fields
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| k)
            .collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub name: String,
    pub url: String,
    pub signing_secret: Option<Secret>,
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default = "default_target_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: u32,
    /// Attempts started per period, held across every process sharing the
    /// database: `"50/s"`, `"600/m"`, `"1000/h"`.
    pub rate_limit: Option<String>,
    /// Consecutive failed attempts that open the circuit; 0 = never.
    #[serde(default = "default_circuit_failures")]
    pub circuit_failures: u32,
    /// How long an open circuit waits before it sends one probe.
    #[serde(default = "default_circuit_cooldown_ms")]
    pub circuit_cooldown_ms: u64,
}

fn default_target_timeout_ms() -> u64 {
    5_000
}
fn default_max_attempts() -> u32 {
    12
}
fn default_max_in_flight() -> u32 {
    64
}
fn default_circuit_failures() -> u32 {
    20
}
fn default_circuit_cooldown_ms() -> u64 {
    30_000
}

/// A `[[routes]]` entry: events of `source` whose type matches one of
/// `event_types` (all events when absent) go to `target`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub source: String,
    pub target: String,
    pub event_types: Option<Vec<String>>,
    /// jq: the route takes the event when the first output is neither
    /// `false` nor `null`.
    pub filter: Option<String>,
    /// jq: the delivered body is the first output, as JSON.
    pub transform: Option<String>,
    /// jq: deliveries with equal keys reach the target one at a time.
    pub ordering_key: Option<String>,
}

impl Config {
    /// The `[[sources]]` entry named `name`.
    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }
}
