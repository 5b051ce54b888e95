//! Test configurations with named parts: [`TestConfig`] (every test source,
//! fast dispatcher settings, and what a test adds) and [`Route`] (one target
//! and the route to it). The secrets every test source is configured with.

use std::fmt::Write as _;
use std::path::Path;

pub const ADMIN_TOKEN: &str = "test-admin-token-7f3a";
pub const STRIPE_SECRET: &str = "whsec_stripe_test_5e2c9d";
pub const STRIPE_OLD_SECRET: &str = "whsec_stripe_rotated_out_81b0";
pub const GITHUB_SECRET: &str = "gh-test-secret-4471";
pub const SVIX_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const SHOPIFY_SECRET: &str = "shpss_test_secret_99aa";
pub const SLACK_SECRET: &str = "slack-test-signing-0c1d";
pub const GITLAB_SECRET: &str = "gitlab-test-token-3e3e";
pub const ACME_SECRET: &str = "acme-test-secret-7711";
pub const TARGET_SIGNING_SECRET: &str = "whsec_dGVzdC10YXJnZXQtc2lnbmluZy1rZXk=";

/// Every configured secret, for "never leaks" checks.
pub const ALL_SECRETS: &[&str] = &[
    ADMIN_TOKEN,
    STRIPE_SECRET,
    STRIPE_OLD_SECRET,
    GITHUB_SECRET,
    SVIX_SECRET,
    SHOPIFY_SECRET,
    SLACK_SECRET,
    GITLAB_SECRET,
    ACME_SECRET,
    TARGET_SIGNING_SECRET,
];

pub const MAX_BODY: usize = 65_536;

/// Test sources of the HMAC family, basic-auth and header-token:
/// (source name, provider, secret, more keys).
pub const MORE_SOURCES: &[(&str, &str, &str, &str)] = &[
    (
        "paddle",
        "paddle",
        "pdl_ntfset_test_secret_1",
        "tolerance_secs = 300",
    ),
    ("linear", "linear", "lin_wh_test_secret_2", ""),
    (
        "twilio",
        "twilio",
        "twilio-auth-token-3",
        "public_url = \"https://hooks.example.com/ingest/twilio\"",
    ),
    (
        "square",
        "square",
        "square-signature-key-4",
        "public_url = \"https://hooks.example.com/ingest/square\"",
    ),
    ("mailgun", "mailgun", "key-mailgun-test-5", ""),
    (
        "hubspot",
        "hubspot",
        "hubspot-client-secret-6",
        "public_url = \"https://hooks.example.com/ingest/hubspot\"",
    ),
    ("intercom", "intercom", "intercom-secret-7", ""),
    ("typeform", "typeform", "typeform-secret-8", ""),
    ("calendly", "calendly", "calendly-key-9", ""),
    ("vercel", "vercel", "vercel-secret-10", ""),
    ("sentry", "sentry", "sentry-secret-11", ""),
    ("bitbucket", "bitbucket", "bitbucket-secret-12", ""),
    ("jira", "jira", "jira-secret-13", ""),
    ("lemon-squeezy", "lemon-squeezy", "lemon-secret-14", ""),
    ("paystack", "paystack", "sk_test_paystack_15", ""),
    ("razorpay", "razorpay", "razorpay-secret-16", ""),
    ("woocommerce", "woocommerce", "woo-secret-17", ""),
    ("pagerduty", "pagerduty", "pagerduty-secret-18", ""),
    ("zendesk", "zendesk", "zendesk-secret-19", ""),
    ("mux", "mux", "mux-secret-20", ""),
    ("docusign", "docusign", "docusign-key-21", ""),
    ("clerk", "clerk", "whsec_Y2xlcmstdGVzdC1zZWNyZXQtMjI=", ""),
    ("resend", "resend", "whsec_cmVzZW5kLXRlc3Qtc2VjcmV0LTIz", ""),
    (
        "postmark",
        "basic-auth",
        "postmark:test-password-24",
        "event_id_pointer = \"/MessageID\"\nevent_type_pointer = \"/RecordType\"",
    ),
    (
        "tokened",
        "header-token",
        "header-token-25",
        "token_header = \"X-Webhook-Token\"\nevent_id_pointer = \"/id\"",
    ),
    // Providers III: payments, Meta and messaging
    (
        "meta",
        "meta",
        "meta-app-secret-26",
        "verify_token = \"meta-verify-token-26\"",
    ),
    ("checkout-com", "checkout-com", "cko-secret-27", ""),
    ("recurly", "recurly", "recurly-key-28", ""),
    ("mercado-pago", "mercado-pago", "mp-secret-29", ""),
    ("coinbase-commerce", "coinbase-commerce", "cc-secret-30", ""),
    ("cashfree", "cashfree", "cashfree-secret-31", ""),
    ("mollie", "mollie", "mollie-secret-32", ""),
    ("viber", "viber", "viber-token-33", ""),
    ("telegram", "telegram", "tg-secret-token-34", ""),
    ("braintree", "braintree", "bt_public_35:bt_private_35", ""),
    (
        "plivo",
        "plivo",
        "plivo-auth-token-36",
        "public_url = \"https://hooks.example.com/ingest/plivo\"",
    ),
    ("vonage", "vonage", "vonage-signature-secret-37", ""),
    (
        "messagebird",
        "messagebird",
        "messagebird-signing-key-38",
        "public_url = \"https://hooks.example.com/ingest/messagebird\"",
    ),
    // Providers III: developer tools and workplace apps
    ("webex", "webex", "webex-secret-26", ""),
    ("gitea", "gitea", "gitea-secret-27", ""),
    ("forgejo", "forgejo", "forgejo-secret-28", ""),
    ("circleci", "circleci", "circleci-secret-29", ""),
    (
        "buildkite",
        "buildkite",
        "buildkite-token-30",
        "tolerance_secs = 300",
    ),
    ("heroku", "heroku", "heroku-secret-31", ""),
    ("launchdarkly", "launchdarkly", "ld-secret-32", ""),
    (
        "microsoft-teams",
        "microsoft-teams",
        "dGVhbXMtdG9rZW4tMzM=",
        "",
    ),
    (
        "customer-io",
        "customer-io",
        "cio-key-34",
        "tolerance_secs = 300",
    ),
    ("segment", "segment", "segment-secret-35", ""),
    ("nylas", "nylas", "nylas-secret-36", ""),
    ("xero", "xero", "xero-key-37", ""),
    ("airtable", "airtable", "YWlydGFibGUtbWFjLTM4", ""),
    ("webflow", "webflow", "webflow-secret-39", ""),
    ("clickup", "clickup", "clickup-secret-40", ""),
    ("cal-com", "cal-com", "cal-secret-41", ""),
    ("ghost", "ghost", "ghost-secret-42", "tolerance_secs = 300"),
    (
        "sanity",
        "sanity",
        "sanity-secret-43",
        "tolerance_secs = 300",
    ),
    ("tally", "tally", "tally-secret-44", ""),
    ("fastspring", "fastspring", "fastspring-secret-45", ""),
    ("easypost", "easypost", "easypost-secret-46", ""),
    ("patreon", "patreon", "patreon-secret-47", ""),
    ("okta", "okta", "okta-hook-secret-48", ""),
    ("box", "box", "box-primary-49", ""),
    (
        "trello",
        "trello",
        "trello-app-secret-52",
        "public_url = \"https://hooks.example.com/ingest/trello\"",
    ),
    (
        "hygraph",
        "hygraph",
        "hygraph-secret-53",
        "tolerance_secs = 300",
    ),
    ("netlify", "netlify", "netlify-jws-secret-55", ""),
    ("monday", "monday", "monday-signing-secret-57", ""),
    (
        "contentful",
        "contentful",
        "contentful-signing-secret-58",
        "public_url = \"https://hooks.example.com/ingest/contentful\"",
    ),
];

fn more_sources_toml() -> String {
    MORE_SOURCES
        .iter()
        .map(|(name, provider, secret, extra)| {
            format!("\n[[sources]]\nname = \"{name}\"\nprovider = \"{provider}\"\nsecrets = [\"{secret}\"]\n{extra}\n")
        })
        .collect()
}

fn sources_toml() -> String {
    more_sources_toml()
        + &format!(
            r#"
[[sources]]
name = "stripe"
provider = "stripe"
secrets = ["{STRIPE_SECRET}", "{STRIPE_OLD_SECRET}"]

[[sources]]
name = "github"
provider = "github"
secrets = ["{GITHUB_SECRET}"]

[[sources]]
name = "svix"
provider = "svix"
secrets = ["{SVIX_SECRET}"]

[[sources]]
name = "shopify"
provider = "shopify"
secrets = ["{SHOPIFY_SECRET}"]

[[sources]]
name = "slack"
provider = "slack"
secrets = ["{SLACK_SECRET}"]

[[sources]]
name = "gitlab"
provider = "gitlab"
secrets = ["{GITLAB_SECRET}"]

[[sources]]
name = "acme"
provider = "generic-hmac"
secrets = ["{ACME_SECRET}"]
signature_header = "X-Acme-Signature"
signature_prefix = "sha256="
event_id_pointer = "/id"
event_type_pointer = "/type"
"#
        )
}
/// A test app's configuration: every source above, short retry and poll
/// intervals, the admin token, and the targets, routes and sources a test
/// adds. `toml()` is the text the binary or `Application::build` reads.
#[derive(Debug, Clone)]
pub struct TestConfig {
    database_url: String,
    listen: String,
    request_timeout_ms: u64,
    max_body_bytes: usize,
    server_keys: String,
    admin_token: Option<String>,
    extra: String,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig::new()
    }
}

impl TestConfig {
    /// Listening on port 0, on a database that is never opened (set one
    /// with [`TestConfig::database`] to serve).
    pub fn new() -> TestConfig {
        TestConfig {
            database_url: "sqlite://unused.db".into(),
            listen: "127.0.0.1:0".into(),
            request_timeout_ms: 20_000,
            max_body_bytes: MAX_BODY,
            server_keys: String::new(),
            admin_token: Some(ADMIN_TOKEN.into()),
            extra: String::new(),
        }
    }

    pub fn database(mut self, url: &str) -> TestConfig {
        self.database_url = url.to_string();
        self
    }

    pub fn request_timeout_ms(mut self, ms: u64) -> TestConfig {
        self.request_timeout_ms = ms;
        self
    }

    /// `server.max_body_bytes` (default [`MAX_BODY`]).
    pub fn max_body_bytes(mut self, bytes: usize) -> TestConfig {
        self.max_body_bytes = bytes;
        self
    }

    /// More `[server]` keys (TOML lines): timeouts, limits, proxies.
    pub fn server_keys(mut self, keys: &str) -> TestConfig {
        self.server_keys.push_str(keys);
        self.server_keys.push('\n');
        self
    }

    /// No `admin.token`: the admin API is off.
    pub fn without_admin_token(mut self) -> TestConfig {
        self.admin_token = None;
        self
    }

    /// More TOML after the standard sources: `[[sources]]`, `[[targets]]`,
    /// `[[routes]]`.
    pub fn with(mut self, toml: &str) -> TestConfig {
        self.extra.push_str(toml);
        self
    }

    pub fn route(self, route: &Route) -> TestConfig {
        self.with(&route.toml())
    }

    pub fn toml(&self) -> String {
        let admin = self
            .admin_token
            .as_ref()
            .map(|t| format!("token = \"{t}\""))
            .unwrap_or_default();
        format!(
            r#"
[server]
listen = "{listen}"
max_body_bytes = {max_body_bytes}
request_timeout_ms = {request_timeout_ms}
shutdown_grace_ms = 3000
{server_keys}

[database]
url = "{database_url}"
max_connections = 8
acquire_timeout_ms = 3000

[admin]
{admin}

[dispatcher]
retry_base_ms = 20
retry_max_ms = 200
poll_interval_ms = 50
lease_margin_ms = 2000
{sources}
{extra}
"#,
            listen = self.listen,
            request_timeout_ms = self.request_timeout_ms,
            max_body_bytes = self.max_body_bytes,
            server_keys = self.server_keys,
            database_url = self.database_url,
            sources = sources_toml(),
            extra = self.extra,
        )
    }

    /// Writes the config to `path` (for the binary).
    pub fn write(&self, path: &Path) {
        std::fs::write(path, self.toml()).unwrap();
    }
}

/// One `[[targets]]` entry and the `[[routes]]` entry that sends a
/// source's events to it:
/// `Route::new("stripe", "billing").url(&target.url).types(&["invoice.*"])`.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub source: String,
    pub target: String,
    pub url: String,
    /// `event_types` globs; `None`: every event.
    pub event_types: Option<Vec<String>>,
    pub max_attempts: Option<u32>,
    pub max_in_flight: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub signing_secret: Option<String>,
    /// The target's own `headers`.
    pub headers: Vec<(String, String)>,
    /// `rate_limit` (`"20/s"`).
    pub rate_limit: Option<String>,
    /// `circuit_failures` and `circuit_cooldown_ms`.
    pub circuit: Option<(u32, u64)>,
    /// jq expressions of the route.
    pub filter: Option<String>,
    pub transform: Option<String>,
    pub ordering_key: Option<String>,
}

impl Route {
    /// Routes every event of `source` to target `target` (set its URL).
    pub fn new(source: &str, target: &str) -> Route {
        Route {
            source: source.into(),
            target: target.into(),
            ..Route::default()
        }
    }

    pub fn url(mut self, url: &str) -> Route {
        self.url = url.into();
        self
    }

    /// Only events whose type matches one of these globs.
    pub fn types(mut self, globs: &[&str]) -> Route {
        self.event_types = Some(globs.iter().map(|g| g.to_string()).collect());
        self
    }

    pub fn max_attempts(mut self, n: u32) -> Route {
        self.max_attempts = Some(n);
        self
    }

    pub fn max_in_flight(mut self, n: u32) -> Route {
        self.max_in_flight = Some(n);
        self
    }

    pub fn timeout_ms(mut self, ms: u64) -> Route {
        self.timeout_ms = Some(ms);
        self
    }

    pub fn signing_secret(mut self, secret: &str) -> Route {
        self.signing_secret = Some(secret.into());
        self
    }

    pub fn rate_limit(mut self, rate: &str) -> Route {
        self.rate_limit = Some(rate.into());
        self
    }

    /// Opens the circuit after `failures` consecutive failed attempts; a
    /// probe goes out `cooldown_ms` later.
    pub fn circuit(mut self, failures: u32, cooldown_ms: u64) -> Route {
        self.circuit = Some((failures, cooldown_ms));
        self
    }

    /// The route's jq `filter`.
    #[allow(dead_code)] // for the routes' own tests
    pub fn filter(mut self, jq: &str) -> Route {
        self.filter = Some(jq.into());
        self
    }

    /// The route's jq `transform`.
    #[allow(dead_code)] // for the routes' own tests
    pub fn transform(mut self, jq: &str) -> Route {
        self.transform = Some(jq.into());
        self
    }

    /// The route's jq `ordering_key`.
    pub fn ordering_key(mut self, jq: &str) -> Route {
        self.ordering_key = Some(jq.into());
        self
    }

    /// A header the target gets with every delivery.
    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn toml(&self) -> String {
        let quoted = |s: &str| serde_json::to_string(s).unwrap();
        let mut out = format!(
            "\n[[targets]]\nname = {}\nurl = {}\n",
            quoted(&self.target),
            quoted(&self.url)
        );
        if let Some(n) = self.max_attempts {
            writeln!(out, "max_attempts = {n}").unwrap();
        }
        if let Some(n) = self.max_in_flight {
            writeln!(out, "max_in_flight = {n}").unwrap();
        }
        if let Some(ms) = self.timeout_ms {
            writeln!(out, "timeout_ms = {ms}").unwrap();
        }
        if let Some(rate) = &self.rate_limit {
            writeln!(out, "rate_limit = {}", quoted(rate)).unwrap();
        }
        if let Some((failures, cooldown_ms)) = self.circuit {
            writeln!(
                out,
                "circuit_failures = {failures}\ncircuit_cooldown_ms = {cooldown_ms}"
            )
            .unwrap();
        }
        if let Some(secret) = &self.signing_secret {
            writeln!(out, "signing_secret = {}", quoted(secret)).unwrap();
        }
        if !self.headers.is_empty() {
            let pairs: Vec<String> = self
                .headers
                .iter()
                .map(|(k, v)| format!("{} = {}", quoted(k), quoted(v)))
                .collect();
            writeln!(out, "headers = {{ {} }}", pairs.join(", ")).unwrap();
        }
        write!(
            out,
            "\n[[routes]]\nsource = {}\ntarget = {}\n",
            quoted(&self.source),
            quoted(&self.target)
        )
        .unwrap();
        if let Some(globs) = &self.event_types {
            let list: Vec<String> = globs.iter().map(|g| quoted(g)).collect();
            writeln!(out, "event_types = [{}]", list.join(", ")).unwrap();
        }
        for (key, jq) in [
            ("filter", &self.filter),
            ("transform", &self.transform),
            ("ordering_key", &self.ordering_key),
        ] {
            if let Some(jq) = jq {
                writeln!(out, "{key} = {}", quoted(jq)).unwrap();
            }
        }
        out
    }
}

/// The TOML of several routes.
pub fn routes(routes: &[Route]) -> String {
    routes.iter().map(Route::toml).collect()
}
