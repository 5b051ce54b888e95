//! The in-process app under test: a real hookgate on port 0 over a fresh
//! database, and the calls a test makes to it (signed ingest, raw POSTs,
//! admin API, stepping the dispatcher).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use hookgate::config::Config;
use hookgate::dispatch::Dispatcher;
use hookgate::store::Store;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::adapter::{self, now_secs, Roles, Signer, STEPPED};
use super::{Backend, TestConfig, TestDb, ADMIN_TOKEN};

pub struct TestApp {
    pub base: String,
    pub config: Config,
    pub store: Arc<Store>,
    pub dispatcher: Arc<Dispatcher>,
    pub client: reqwest::Client,
    pub stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// Keeps the database (a SQLite temp dir) alive as long as the app.
    db: TestDb,
}

/// Spawns an app on a fresh database with the standard test config plus
/// `extra` TOML, whose dispatcher does not run by itself: tests step it
/// with `app.dispatcher.run_once()` or [`TestApp::dispatch_until`].
pub async fn spawn_app(backend: &Backend, extra: &str) -> TestApp {
    spawn_app_configured(backend, TestConfig::new().with(extra)).await
}

/// [`spawn_app`] with a whole test config (server keys, no admin token).
pub async fn spawn_app_configured(backend: &Backend, config: TestConfig) -> TestApp {
    let db = TestDb::new(backend).await;
    spawn_app_with(db, config, STEPPED).await
}

/// Spawns an app on `db` (which the config is pointed at) with `config`
/// and `roles`.
pub async fn spawn_app_with(db: TestDb, config: TestConfig, roles: Roles) -> TestApp {
    let running = adapter::start(&config.database(&db.url).toml(), roles).await;
    TestApp {
        base: format!("http://{}", running.addr),
        config: running.config,
        store: running.store,
        dispatcher: running.dispatcher,
        client: reqwest::Client::new(),
        stop: running.stop,
        task: Some(running.task),
        db,
    }
}

impl TestApp {
    /// Signature (and provider ID) headers for `body`, as the source's
    /// provider would send them now, plus `extra` headers.
    pub fn signed_headers(
        &self,
        source: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut headers = self.signer(source).headers(body, now_secs());
        headers.push(("Content-Type".into(), "application/json".into()));
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        headers
    }

    /// Signs like the configured source `name`.
    pub fn signer(&self, name: &str) -> Signer {
        Signer::configured(&self.config, name)
    }

    /// A Stripe body verified the way ingest verifies it, ready for the
    /// store, as if received at `received_at` (for store-level tests).
    pub fn verified_stripe_event(&self, body: &str, received_at: i64) -> hookgate::store::NewEvent {
        adapter::verified_event(&self.config, "stripe", body, received_at)
    }

    /// The URL of the app's database.
    pub fn db_url(&self) -> &str {
        &self.db.url
    }

    /// Another dispatcher over this app's store and targets.
    pub fn another_dispatcher(&self) -> Arc<Dispatcher> {
        adapter::another_dispatcher(&self.config, self.store.clone())
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
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(what, Duration::from_secs(30), check).await
}

/// Whether `store` has no pending delivery left.
pub async fn outbox_empty(store: &Store) -> bool {
    store
        .backlog()
        .await
        .unwrap()
        .iter()
        .all(|b| b.pending == 0)
}

/// [`eventually`] with a deadline of `limit`.
pub async fn eventually_within<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
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
