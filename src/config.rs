//! Configuration: TOML with `${VAR}` substitution, `HOOKGATE_*` overrides and
//! validation that names the offending key.
//!
//! Loading happens in three steps: the text is parsed into a TOML tree, every
//! string in the tree has its `${VAR}` references replaced from the
//! environment, and the tree is deserialized into [`Config`] with unknown keys
//! rejected. [`Config::validate`] then checks what serde cannot (duplicate
//! names, routes naming unknown sources, secrets a provider cannot use, URLs).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::providers::Provider;

/// A configuration problem, always tied to the key (`sources[1].secrets`,
/// `server.listen`, ...) that the user has to change.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A secret string. Its `Debug` output is redacted so that configs can be
/// logged without leaking signing keys or tokens.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub source: String,
    pub target: String,
    pub event_types: Option<Vec<String>>,
}

impl RouteConfig {
    /// Whether this route takes events of `event_type`; absent globs take all.
    pub fn matches(&self, event_type: &str) -> bool {
        match &self.event_types {
            None => true,
            Some(globs) => globs.iter().any(|g| glob_match(g, event_type)),
        }
    }
}

/// `*` matches any run of characters (dots included); everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last) && rest.len() >= last.len()
}

/// The environment, as a lookup function so tests need not touch the
/// process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Where the config comes from: `-c FILE`, else `HOOKGATE_CONFIG`, else
/// `./hookgate.toml`.
pub fn resolve_path(explicit: Option<&Path>, env: Env<'_>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| env("HOOKGATE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("hookgate.toml"))
}

impl Config {
    /// Reads, substitutes, overrides from the environment and validates.
    pub fn load(path: &Path, env: Env<'_>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(path.display().to_string(), format!("cannot read: {e}"))
        })?;
        Self::from_toml(&text, env)
    }

    pub fn from_toml(text: &str, env: Env<'_>) -> Result<Config, ConfigError> {
        let mut tree: toml::Value = toml::from_str(text)
            .map_err(|e| ConfigError::new("(file)", format!("invalid TOML: {e}")))?;
        substitute(&mut tree, "", env)?;
        let mut config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::new(
                if path == "." { "(file)".into() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        if let Some(url) = env("HOOKGATE_DATABASE_URL") {
            config.database.url = url;
        }
        if let Some(listen) = env("HOOKGATE_LISTEN") {
            config.server.listen = listen;
        }
        if let Some(token) = env("HOOKGATE_ADMIN_TOKEN") {
            config.admin.token = Some(Secret::new(token));
        }
        for (i, source) in config.sources.iter_mut().enumerate() {
            if let Some(path) = source.secrets_file.clone() {
                let more = read_secrets_file(&path)
                    .map_err(|m| ConfigError::new(format!("sources[{i}].secrets_file"), m))?;
                source.secrets.extend(more);
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Where this configuration still uses a value shipped in the example
    /// `hookgate.toml` (for example `sources[0].secrets (stripe)`): anyone
    /// who has read the repository can sign for those sources.
    pub fn shipped_development_values(&self) -> Vec<String> {
        let mut found = Vec::new();
        if let Some(token) = &self.admin.token {
            if is_shipped_value(token.expose()) {
                found.push("admin.token".to_string());
            }
        }
        for (i, source) in self.sources.iter().enumerate() {
            if source.secrets.iter().any(|s| is_shipped_value(s.expose())) {
                found.push(format!("sources[{i}].secrets ({})", source.name));
            }
        }
        for (i, target) in self.targets.iter().enumerate() {
            if let Some(secret) = &target.signing_secret {
                if is_shipped_value(secret.expose()) {
                    found.push(format!("targets[{i}].signing_secret ({})", target.name));
                }
            }
        }
        found
    }

    /// Checks what serde cannot; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| ConfigError::new("server.listen", format!("not a socket address: {e}")))?;
        if self.server.max_body_bytes == 0 {
            return Err(ConfigError::new("server.max_body_bytes", "must be above 0"));
        }
        for (key, value) in [
            ("request_timeout_ms", self.server.request_timeout_ms),
            ("header_timeout_ms", self.server.header_timeout_ms),
            ("idle_timeout_ms", self.server.idle_timeout_ms),
            ("max_connections", self.server.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!("server.{key}"), "must be above 0"));
            }
        }
        crate::client_ip::Cidrs::parse(&self.server.trusted_proxies, "server.trusted_proxies")?;
        if !(self.database.url.starts_with("sqlite:")
            || self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::new(
                "database.max_connections",
                "must be above 0",
            ));
        }
        if let Some(token) = &self.admin.token {
            if token.expose().is_empty() {
                return Err(ConfigError::new("admin.token", "must not be empty"));
            }
        }
        let d = &self.dispatcher;
        for (key, value) in [
            ("retry_base_ms", d.retry_base_ms),
            ("poll_interval_ms", d.poll_interval_ms),
            ("batch_size", u64::from(d.batch_size)),
        ] {
            if value == 0 {
                return Err(ConfigError::new(
                    format!("dispatcher.{key}"),
                    "must be above 0",
                ));
            }
        }
        if d.retry_max_ms < d.retry_base_ms {
            return Err(ConfigError::new(
                "dispatcher.retry_max_ms",
                "must be at least dispatcher.retry_base_ms",
            ));
        }

        let mut names = HashSet::new();
        for (i, source) in self.sources.iter().enumerate() {
            let key = format!("sources[{i}]");
            check_name(&source.name, &format!("{key}.name"))?;
            if !names.insert(source.name.as_str()) {
                return Err(ConfigError::new(
                    format!("{key}.name"),
                    format!("duplicate source name {:?}", source.name),
                ));
            }
            Provider::from_config(source, &key)?;
            if let Some(list) = &source.allow_ips {
                crate::client_ip::Cidrs::parse(list, &format!("{key}.allow_ips"))?;
            }
        }

        let mut names = HashSet::new();
        for (i, target) in self.targets.iter().enumerate() {
            let key = format!("targets[{i}]");
            check_name(&target.name, &format!("{key}.name"))?;
            if !names.insert(target.name.as_str()) {
                return Err(ConfigError::new(
                    format!("{key}.name"),
                    format!("duplicate target name {:?}", target.name),
                ));
            }
            // Checked here first so that the message shows the URL redacted.
            let url_ok = reqwest::Url::parse(&target.url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !url_ok {
                return Err(ConfigError::new(
                    format!("{key}.url"),
                    format!("{:?} is not an http(s) URL", redact_url(&target.url)),
                ));
            }
            crate::dispatch::TargetSpec::from_config(target, &key)?;
        }

        let mut pairs = HashSet::new();
        for (i, route) in self.routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            if !self.sources.iter().any(|s| s.name == route.source) {
                return Err(ConfigError::new(
                    format!("{key}.source"),
                    format!("unknown source {:?}", route.source),
                ));
            }
            if !self.targets.iter().any(|t| t.name == route.target) {
                return Err(ConfigError::new(
                    format!("{key}.target"),
                    format!("unknown target {:?}", route.target),
                ));
            }
            if !pairs.insert((route.source.as_str(), route.target.as_str())) {
                return Err(ConfigError::new(
                    key,
                    format!(
                        "duplicate route from {:?} to {:?}; list several event_types in one route",
                        route.source, route.target
                    ),
                ));
            }
            if let Some(globs) = &route.event_types {
                if globs.iter().any(|g| g.is_empty()) {
                    return Err(ConfigError::new(
                        format!("{key}.event_types"),
                        "empty pattern",
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The targets an event of `source` with `event_type` goes to.
    pub fn routed_targets(&self, source: &str, event_type: &str) -> Vec<String> {
        self.routes
            .iter()
            .filter(|r| r.source == source && r.matches(event_type))
            .map(|r| r.target.clone())
            .collect()
    }
}

/// A target URL as it may be shown in logs, errors and the admin API:
/// scheme, host, port and path, without credentials, query or fragment
/// (either may carry a token).
pub fn redact_url(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(u) if u.has_host() => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            )
        }
        // Not a URL we can take apart: still drop what could be a secret.
        _ => {
            let cut = raw.find(['?', '#']).unwrap_or(raw.len());
            let text = &raw[..cut];
            match (text.find("://"), text.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    format!("{}[redacted]@{}", &text[..s + 3], &text[at + 1..])
                }
                (None, Some(at)) => format!("[redacted]@{}", &text[at + 1..]),
                _ => text.to_string(),
            }
        }
    }
}

/// The values the example `hookgate.toml` ships with (after its
/// `${VAR:-default}` defaults). A test keeps this list in step with the file.
const SHIPPED_VALUES: &[&str] = &[
    "dev-admin-token",
    "whsec_dev_stripe_secret",
    "dev-github-secret",
    "whsec_ZGV2LXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldA==",
    "dev-shopify-secret",
    "dev-slack-signing-secret",
    "dev-gitlab-token",
    "dev-acme-secret",
    "whsec_ZGV2LWV4YW1wbGUtdGFyZ2V0LXNpZ25pbmc=",
];

fn is_shipped_value(value: &str) -> bool {
    SHIPPED_VALUES.contains(&value)
}

/// Reads a secrets file: one secret a line, blank lines and `#` comments
/// skipped. The message never quotes the file's content.
fn read_secrets_file(path: &Path) -> Result<Vec<Secret>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "secrets_file can be read by other users; chmod 600 it"
                );
            }
        }
    }
    let secrets: Vec<Secret> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(Secret::new)
        .collect();
    if secrets.is_empty() {
        return Err(format!("{} holds no secret", path.display()));
    }
    Ok(secrets)
}

fn check_name(name: &str, key: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::new(
            key,
            format!("{name:?} must be 1-64 characters of a-z, A-Z, 0-9, '-' and '_'"),
        ))
    }
}

/// Replaces `${VAR}` (and `${VAR:-default}`) in every string of the tree;
/// `$$` stands for a literal `$`.
fn substitute(value: &mut toml::Value, path: &str, env: Env<'_>) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(s) => {
            *s = expand(s, env).map_err(|var| {
                ConfigError::new(
                    path,
                    format!("environment variable {var} is not set (referenced as ${{{var}}})"),
                )
            })?;
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{path}[{i}]"), env)?;
            }
        }
        toml::Value::Table(table) => {
            for (k, item) in table.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                substitute(item, &child, env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands one string; on an unset variable without default, returns its name.
fn expand(input: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push('$');
                rest = after;
                continue;
            };
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match env(name).filter(|v| !v.is_empty() || default.is_none()) {
                Some(v) => out.push_str(&v),
                None => match default {
                    Some(d) => out.push_str(d),
                    None => return Err(name.to_string()),
                },
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn globs() {
        assert!(glob_match("invoice.*", "invoice.paid"));
        assert!(glob_match("*", "anything.at.all"));
        assert!(glob_match(
            "customer.*.updated",
            "customer.subscription.updated"
        ));
        assert!(!glob_match("invoice.*", "charge.refunded"));
        assert!(!glob_match("invoice.paid", "invoice.paid.extra"));
        assert!(glob_match("*.paid", "invoice.paid"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn expands_variables_and_names_unset_ones() {
        let env = |n: &str| (n == "A").then(|| "x".to_string());
        assert_eq!(expand("p${A}q", &env).unwrap(), "pxq");
        assert_eq!(expand("$${A}", &env).unwrap(), "${A}");
        assert_eq!(expand("${B:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("${B}", &env).unwrap_err(), "B");
        let err = Config::from_toml("[admin]\ntoken = \"${NOPE_TOKEN}\"\n", &no_env).unwrap_err();
        assert_eq!(err.key, "admin.token");
        assert!(err.message.contains("NOPE_TOKEN"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("[server]\nlisten = \"127.0.0.1:1\"\nlistn = 1\n", &no_env)
            .unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
        let err = Config::from_toml(
            "[[sources]]\nname = \"s\"\nprovider = \"github\"\nsecrets = [\"x\"]\nsecret = \"y\"\n",
            &no_env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn validation_names_the_key() {
        let cases = [
            ("[[sources]]\nname = \"a\"\nprovider = \"nope\"\nsecrets = [\"x\"]\n", "sources[0].provider"),
            ("[[sources]]\nname = \"a\"\nprovider = \"github\"\n", "sources[0].secrets"),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\n[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\n",
                "sources[1].name",
            ),
            ("[[targets]]\nname = \"t\"\nurl = \"not a url\"\n", "targets[0].url"),
            ("[[routes]]\nsource = \"a\"\ntarget = \"b\"\n", "routes[0].source"),
            ("[server]\nlisten = \"nowhere\"\n", "server.listen"),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
            ("[dispatcher]\npoll_interval_ms = 0\n", "dispatcher.poll_interval_ms"),
            ("[dispatcher]\nretry_base_ms = 10\nretry_max_ms = 5\n", "dispatcher.retry_max_ms"),
            // Provider-specific keys on a provider that does not read them.
            ("[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\npublic_url = \"https://h.example/x\"\n", "sources[0].public_url"),
            ("[[sources]]\nname = \"a\"\nprovider = \"stripe\"\nsecrets = [\"x\"]\ntoken_header = \"X-Token\"\n", "sources[0].token_header"),
            ("[[sources]]\nname = \"a\"\nprovider = \"slack\"\nsecrets = [\"x\"]\nevent_id_pointer = \"/id\"\n", "sources[0].event_id_pointer"),
            ("[[sources]]\nname = \"a\"\nprovider = \"generic-hmac\"\nsecrets = [\"x\"]\nsignature_header = \"X-S\"\nevent_type_pointer = \"type\"\n", "sources[0].event_type_pointer"),
        ];
        for (text, key) in cases {
            let err = Config::from_toml(text, &no_env).unwrap_err();
            assert_eq!(err.key, key, "{text}: {err}");
        }
    }

    #[test]
    fn public_key_sources_are_validated_naming_the_key() {
        let cases = [
            ("[[sources]]\nname = \"d\"\nprovider = \"discord\"\n", "sources[0].public_keys"),
            ("[[sources]]\nname = \"d\"\nprovider = \"discord\"\npublic_keys = [\"zz\"]\n", "sources[0].public_keys[0]"),
            ("[[sources]]\nname = \"s\"\nprovider = \"stripe\"\nsecrets = [\"x\"]\npublic_keys = [\"k\"]\n", "sources[0].public_keys"),
            ("[[sources]]\nname = \"s\"\nprovider = \"github\"\nsecrets = [\"x\"]\nsns_ca_file = \"ca.pem\"\n", "sources[0].sns_ca_file"),
            ("[[sources]]\nname = \"a\"\nprovider = \"aws-sns\"\nsns_cert_hosts = [\"sns..com\"]\n", "sources[0].sns_cert_hosts[0]"),
            ("[[sources]]\nname = \"t\"\nprovider = \"twitch\"\n", "sources[0].secrets"),
            ("[[sources]]\nname = \"w\"\nprovider = \"standard-webhooks\"\n", "sources[0].secrets"),
        ];
        for (text, key) in cases {
            let err = Config::from_toml(text, &no_env).unwrap_err();
            assert_eq!(err.key, key, "{text}: {err}");
        }
        // Public keys alone are enough where the provider verifies with them.
        let ok = "[[sources]]\nname = \"w\"\nprovider = \"standard-webhooks\"\npublic_keys = [\"whpk_ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=\"]\n\n[[sources]]\nname = \"a\"\nprovider = \"aws-sns\"\n";
        Config::from_toml(ok, &no_env).unwrap();
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |n: &str| match n {
            "HOOKGATE_LISTEN" => Some("127.0.0.1:9999".to_string()),
            "HOOKGATE_ADMIN_TOKEN" => Some("t0k".to_string()),
            _ => None,
        };
        let config = Config::from_toml("", &env).unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:9999");
        assert_eq!(config.admin.token.unwrap().expose(), "t0k");
    }

    #[test]
    fn new_server_keys_have_defaults_and_are_checked() {
        let config = Config::from_toml("", &no_env).unwrap();
        assert_eq!(config.server.header_timeout_ms, 10_000);
        assert_eq!(config.server.idle_timeout_ms, 60_000);
        assert_eq!(config.server.max_connections, 10_000);
        for (text, key) in [
            ("[server]\nheader_timeout_ms = 0\n", "server.header_timeout_ms"),
            ("[server]\nidle_timeout_ms = 0\n", "server.idle_timeout_ms"),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            ("[server]\ntrusted_proxies = [\"proxy\"]\n", "server.trusted_proxies[0]"),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\nallow_ips = [\"10.0.0.0/33\"]\n",
                "sources[0].allow_ips[0]",
            ),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets_file = \"/nonexistent/hookgate-secrets\"\n",
                "sources[0].secrets_file",
            ),
        ] {
            let err = Config::from_toml(text, &no_env).unwrap_err();
            assert_eq!(err.key, key, "{text}: {err}");
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("https://u:p4ss@h.example:8443/a/b?token=t0k#f"),
            "https://h.example:8443/a/b"
        );
        assert_eq!(redact_url("http://h/x"), "http://h/x");
        let odd = redact_url("ftp:/u:p4ss@h/x?token=t0k");
        assert!(!odd.contains("p4ss") && !odd.contains("t0k"), "{odd}");
        let bad = redact_url("not a url u:p4ss@h?token=t0k");
        assert!(!bad.contains("p4ss") && !bad.contains("t0k"), "{bad}");
    }

    /// Every secret and token the shipped hookgate.toml holds is known as a
    /// development value, so a new example source cannot slip past the
    /// start-up warning.
    #[test]
    fn every_shipped_secret_is_recognised() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/hookgate.toml"));
        let config = Config::load(path, &no_env).unwrap();
        let found = config.shipped_development_values();
        assert!(found.contains(&"admin.token".to_string()), "{found:?}");
        for (i, source) in config.sources.iter().enumerate() {
            let place = format!("sources[{i}].secrets ({})", source.name);
            assert!(found.contains(&place), "{place} not recognised: {found:?}");
        }
        for (i, target) in config.targets.iter().enumerate() {
            if target.signing_secret.is_some() {
                let place = format!("targets[{i}].signing_secret ({})", target.name);
                assert!(found.contains(&place), "{place} not recognised: {found:?}");
            }
        }
        let replaced =
            |n: &str| (n == "STRIPE_WEBHOOK_SECRET").then(|| "whsec_real_one".to_string());
        let config = Config::load(path, &replaced).unwrap();
        assert!(!config
            .shipped_development_values()
            .iter()
            .any(|p| p.contains("(stripe)")));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let text =
            "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"supersecretvalue\"]\n";
        let config = Config::from_toml(text, &no_env).unwrap();
        assert!(!format!("{config:?}").contains("supersecretvalue"));
    }
}
