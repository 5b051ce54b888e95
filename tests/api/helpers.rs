//! Test harness: a real hookgate on port 0 over a fresh database (SQLite
//! file, or a new Postgres database when `HOOKGATE_TEST_DATABASE_URL` is
//! set), real local target servers, and the real binary for crash tests.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use hookgate::config::Config;
use hookgate::dispatch::Dispatcher;
use hookgate::providers::Provider;
use hookgate::startup::{Application, Roles};
use hookgate::store::Store;
use serde_json::Value;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

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

/// The full config text of a test app: all sources above, plus `extra`
/// (targets and routes).
pub fn config_text(db_url: &str, listen: &str, extra: &str) -> String {
    config_text_with(db_url, listen, extra, Some(ADMIN_TOKEN))
}

pub fn config_text_with(
    db_url: &str,
    listen: &str,
    extra: &str,
    admin_token: Option<&str>,
) -> String {
    config_text_server(db_url, listen, "", extra, admin_token)
}

/// [`config_text_with`] plus `server_extra` keys in `[server]`.
pub fn config_text_server(
    db_url: &str,
    listen: &str,
    server_extra: &str,
    extra: &str,
    admin_token: Option<&str>,
) -> String {
    let admin = admin_token
        .map(|t| format!("token = \"{t}\""))
        .unwrap_or_default();
    format!(
        r#"
[server]
listen = "{listen}"
max_body_bytes = {MAX_BODY}
request_timeout_ms = 20000
shutdown_grace_ms = 3000
{server_extra}

[database]
url = "{db_url}"
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
        sources = sources_toml()
    )
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The Postgres backend when `HOOKGATE_TEST_DATABASE_URL` is set. In CI
    /// (CI set) its absence is a failure, never a silent skip.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("HOOKGATE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var("CI").is_ok() => {
                panic!(
                    "CI is set but HOOKGATE_TEST_DATABASE_URL is not: Postgres cases would not run"
                )
            }
            _ => None,
        }
    }
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database that already exists (and outlives the test).
    pub fn existing(url: &str) -> TestDb {
        TestDb {
            url: url.to_string(),
            _dir: None,
        }
    }

    pub async fn new(backend: &Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/hookgate.db", dir.path().display());
                TestDb {
                    url,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres(base) => {
                let (prefix, rest) = base.rsplit_once('/').expect("a database URL has a path");
                let (db, query) = match rest.split_once('?') {
                    Some((d, q)) => (d, format!("?{q}")),
                    None => (rest, String::new()),
                };
                let name = format!("{db}_t{:016x}", rand::random::<u64>());
                let mut conn = sqlx::PgConnection::connect(base)
                    .await
                    .expect("connect to test Postgres");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                TestDb {
                    url: format!("{prefix}/{name}{query}"),
                    _dir: None,
                }
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub config: Config,
    pub store: Arc<Store>,
    pub dispatcher: Arc<Dispatcher>,
    pub client: reqwest::Client,
    pub stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Keeps the database (a SQLite temp dir) alive as long as the app.
    _db: TestDb,
}

/// Spawns an app whose dispatcher does not run by itself: tests step it
/// with `app.dispatcher.run_once()`.
pub async fn spawn_app(backend: &Backend, extra: &str) -> TestApp {
    let db = TestDb::new(backend).await;
    spawn_app_on(
        db,
        extra,
        Roles {
            ingest: true,
            dispatcher: false,
        },
    )
    .await
}

/// [`spawn_app`] with more `[server]` keys (timeouts, limits).
pub async fn spawn_app_with_server(backend: &Backend, server_extra: &str, extra: &str) -> TestApp {
    let db = TestDb::new(backend).await;
    let text = config_text_server(
        &db.url,
        "127.0.0.1:0",
        server_extra,
        extra,
        Some(ADMIN_TOKEN),
    );
    spawn_app_from(
        db,
        &text,
        Roles {
            ingest: true,
            dispatcher: false,
        },
    )
    .await
}

pub async fn spawn_app_on(db: TestDb, extra: &str, roles: Roles) -> TestApp {
    let text = config_text(&db.url, "127.0.0.1:0", extra);
    spawn_app_from(db, &text, roles).await
}

pub async fn spawn_app_from(db: TestDb, text: &str, roles: Roles) -> TestApp {
    let config = Config::from_toml(text, &|_| None).expect("test config is valid");
    let app = Application::build(config.clone(), roles)
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let store = app.store.clone();
    let dispatcher = app.dispatcher.clone();
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone()));
    TestApp {
        base: format!("http://{addr}"),
        config,
        store,
        dispatcher,
        client: reqwest::Client::new(),
        stop,
        task: Some(task),
        _db: db,
    }
}

pub struct Reply {
    pub status: u16,
    pub status_body: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
}

impl TestApp {
    /// The app's configuration built again into running parts, for tests
    /// that drive a part (routing, another dispatcher) on their own.
    pub fn wiring(&self) -> hookgate::wiring::Wiring {
        hookgate::wiring::Wiring::build(self.config.clone()).expect("test config builds")
    }

    /// Signature (and provider ID) headers for `body`, as the source's
    /// provider would send them now, plus `extra` headers.
    pub fn signed_headers(
        &self,
        source: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let cfg = self.config.source(source).expect("known source");
        let (provider, keys) = Provider::from_config(cfg, "test").unwrap();
        let now = hookgate::time::UnixMs::now();
        let mut headers = provider.sign(keys.first().unwrap(), body, now);
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        headers
    }

    /// A Stripe body verified the way ingest verifies it, ready for the
    /// store, as if received at `received_at` (for store-level tests).
    pub fn verified_stripe_event(&self, body: &str, received_at: i64) -> hookgate::store::NewEvent {
        let mut map = HeaderMap::new();
        for (k, v) in self.signed_headers("stripe", body.as_bytes(), &[]) {
            map.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let (provider, keys) =
            Provider::from_config(self.config.source("stripe").unwrap(), "s").unwrap();
        let now = hookgate::time::UnixMs::now();
        let Ok(hookgate::providers::Verdict::Event(verified)) = provider.verify(
            &keys,
            None,
            &hookgate::providers::Inbound::post(&map, body.as_bytes()),
            now,
        ) else {
            panic!("a verified event")
        };
        let targets = self
            .wiring()
            .routes
            .targets("stripe", verified.event_type());
        hookgate::store::NewEvent::from_verified(
            &verified,
            "stripe",
            body.to_string().into(),
            "[]".into(),
            None,
            targets,
            received_at,
        )
    }

    /// POSTs raw bytes with exactly these headers.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(String, String)],
    ) -> (StatusCode, Value, HeaderMap) {
        let mut req = self.client.post(format!("{}{path}", self.base)).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("request reaches the app");
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let headers = convert_headers(resp.headers());
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("JSON body, got {status}: {text:?}"));
        (status, json, headers)
    }

    /// Signs and POSTs `body` to `/ingest/{source}`.
    pub async fn ingest(
        &self,
        source: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let headers = self.signed_headers(source, body.as_bytes(), extra);
        let (status, json, _) = self
            .post_raw(&format!("/ingest/{source}"), body.to_string(), &headers)
            .await;
        (status, json)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// An admin API call with the test token; returns status and JSON.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}/admin/v1{path}", self.base);
        let mut req = self
            .client
            .request(method.parse().unwrap(), url)
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"));
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON from {path}: {text:?}")),
        )
    }

    /// Steps the dispatcher until `done` holds or the deadline passes.
    pub async fn dispatch_until<F, Fut>(&self, what: &str, mut done: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if done().await {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            if self.dispatcher.run_once().await.unwrap() == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

pub fn convert_headers(h: &reqwest::header::HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in h {
        out.append(
            axum::http::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
            axum::http::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    out
}

/// Polls `check` until it holds, or panics naming `what` after 30 s.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn stripe_event(id: &str, event_type: &str) -> String {
    format!(
        "{{\n  \"id\": \"{id}\",\n  \"object\": \"event\",\n  \"type\": \"{event_type}\",\n  \"data\": {{\"object\": {{\"id\": \"in_1\", \"amount_paid\": 2000}}}}\n}}"
    )
}

/// What one ingest request got back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub provider_id: String,
    /// `None`: no HTTP answer at all (connection refused or cut).
    pub status: Option<u16>,
    pub event_id: Option<String>,
    pub retry_after: bool,
    pub body: String,
}

impl Answer {
    /// Within the contract under a storage fault: 200 with an event ID, or
    /// 503 with `Retry-After`. `no_answer_ok` for when the process is killed.
    pub fn keeps_contract(&self, no_answer_ok: bool) -> bool {
        match self.status {
            Some(200) => self.event_id.is_some(),
            Some(503) => self.retry_after,
            None => no_answer_ok,
            Some(_) => false,
        }
    }
}

/// Signs one Stripe event, padded with `pad` bytes, and POSTs it.
pub async fn send_stripe(
    client: &reqwest::Client,
    base: &str,
    provider_id: &str,
    pad: usize,
) -> Answer {
    let body = format!(
        "{{\"id\":\"{provider_id}\",\"object\":\"event\",\"type\":\"invoice.paid\",\"pad\":\"{}\"}}",
        "x".repeat(pad)
    );
    let now = hookgate::ids::now_ms() / 1000;
    let sent = client
        .post(format!("{base}/ingest/stripe"))
        .header("Content-Type", "application/json")
        .header(
            "Stripe-Signature",
            hookgate::providers::stripe::signature(STRIPE_SECRET.as_bytes(), body.as_bytes(), now),
        )
        .body(body)
        .send()
        .await;
    let mut answer = Answer {
        provider_id: provider_id.to_string(),
        status: None,
        event_id: None,
        retry_after: false,
        body: String::new(),
    };
    let Ok(resp) = sent else { return answer };
    let status = resp.status().as_u16();
    answer.retry_after = resp.headers().contains_key("retry-after");
    // A body cut off by a crash leaves the outcome unknown: no answer.
    let Ok(text) = resp.text().await else {
        return answer;
    };
    answer.status = Some(status);
    if status == 200 {
        answer.event_id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["event_id"].as_str().map(str::to_string));
    }
    answer.body = text;
    answer
}

/// A request a test target received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} missing"))
            .to_str()
            .unwrap()
    }
}

#[derive(Default)]
struct TargetState {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    delay: Mutex<Duration>,
    default_status: Mutex<u16>,
}

/// A real HTTP target on port 0 that records what it gets and answers
/// from a script (then with its default status).
pub struct TestTarget {
    pub url: String,
    state: Arc<TargetState>,
}

impl TestTarget {
    pub async fn start() -> TestTarget {
        Self::scripted(Vec::new(), 200).await
    }

    pub async fn scripted(script: Vec<Reply>, default_status: u16) -> TestTarget {
        let state = Arc::new(TargetState::default());
        *state.script.lock().unwrap() = script.into();
        *state.default_status.lock().unwrap() = default_status;
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        TestTarget {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    pub fn set_status(&self, status: u16) {
        *self.state.default_status.lock().unwrap() = status;
    }

    pub fn set_delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The `webhook-id` of every request received, in arrival order.
    pub fn webhook_ids(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.header("webhook-id").to_string())
            .collect()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }
}

async fn receive(
    State(state): State<Arc<TargetState>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    state
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    let delay = *state.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let reply = state.script.lock().unwrap().pop_front();
    let (status, text, extra) = match reply {
        Some(r) => (r.status, r.status_body, r.headers),
        None => (*state.default_status.lock().unwrap(), "ok", vec![]),
    };
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
    for (k, v) in extra {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

/// `[[targets]]` + `[[routes]]` TOML routing `source` to a target.
pub fn route(
    source: &str,
    target_name: &str,
    url: &str,
    target_extra: &str,
    event_types: Option<&str>,
) -> String {
    let types = event_types
        .map(|t| format!("event_types = {t}\n"))
        .unwrap_or_default();
    format!(
        "\n[[targets]]\nname = \"{target_name}\"\nurl = \"{url}\"\n{target_extra}\n\n[[routes]]\nsource = \"{source}\"\ntarget = \"{target_name}\"\n{types}"
    )
}

/// The real `hookgate` binary serving a config file, its stderr collected.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
}

pub fn spawn_binary(config_path: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
    spawn_binary_via(&[], config_path, args, env)
}

/// [`spawn_binary`] started through `wrapper` (for example
/// `["prlimit", "--nofile=256:256"]`), which then execs hookgate.
pub fn spawn_binary_via(
    wrapper: &[&str],
    config_path: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Proc {
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(env!("CARGO_BIN_EXE_hookgate"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_hookgate")),
    };
    cmd.arg("serve")
        .args(args)
        .arg("-c")
        .arg(config_path)
        .env("HOOKGATE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env_remove("HOOKGATE_DATABASE_URL")
        .env_remove("HOOKGATE_LISTEN")
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn hookgate");
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("hookgate listening") {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if let Some(addr) = v.get("addr").and_then(Value::as_str) {
                        let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                    }
                }
            }
            sink.lock().unwrap().push(line);
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => addr,
        Err(_) => {
            let _ = child.kill();
            panic!("hookgate did not start; logs: {:?}", logs.lock().unwrap());
        }
    };
    Proc { child, addr, logs }
}

impl Proc {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sigkill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "hookgate did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Declares one `#[tokio::test]` per backend for each named
/// `async fn(Backend)`: `sqlite::name` always, `postgres::name` when
/// `HOOKGATE_TEST_DATABASE_URL` is set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::helpers::Backend::postgres() {
                        Some(backend) => super::$name(backend).await,
                        None => eprintln!("HOOKGATE_TEST_DATABASE_URL is not set: Postgres case skipped"),
                    }
                }
            )*
        }
    };
}
