//! The one place the tests reach into how hookgate is put together: building
//! and running an app from config text, building a source's provider, its
//! signing and verification, routing, a second dispatcher, the clock.
//! Everything else in the tests goes through HTTP, the binary or the store,
//! so when these internals change shape, this file is what follows them.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::http::HeaderMap;
use hookgate::config::{Config, DatabaseConfig, RetentionConfig};
use hookgate::dispatch::Dispatcher;
use hookgate::providers::{Inbound, Keys, Provider, Rejection, Verdict};
use hookgate::startup::Application;
use hookgate::store::{NewEvent, Store};
use hookgate::time::UnixMs;
use hookgate::wiring::Wiring;
use tokio_util::sync::CancellationToken;

pub use hookgate::startup::Roles;

/// Ingest served, dispatcher not running: the test steps it with
/// `run_once` (see `TestApp::dispatch_until`).
pub const STEPPED: Roles = Roles {
    ingest: true,
    dispatcher: false,
};

/// Every provider name a source may name, aliases included.
pub fn provider_names() -> impl Iterator<Item = &'static str> {
    hookgate::providers::provider_names()
}

/// The store's query behind `GET /events?provider_event_id=`, for checking
/// its plan.
pub const PROVIDER_ID_LOOKUP_SQL: &str = hookgate::store::sql::LIST_EVENTS_BY_PROVIDER_ID;

/// Milliseconds since the epoch, the store's time.
pub fn now_ms() -> i64 {
    hookgate::ids::now_ms()
}

/// Seconds since the epoch, the time providers sign with.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Parses config text as the binary would (no environment).
pub fn parse_config(text: &str) -> Config {
    Config::from_toml(text, &|_| None).expect("test config is valid")
}

/// An app built from config text and serving on its own task.
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub config: Config,
    pub store: Arc<Store>,
    pub dispatcher: Arc<Dispatcher>,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn start(text: &str, roles: Roles) -> Running {
    // The gateway runs in this test process: its jq workers are the real
    // binary's.
    hookgate::routes::sandbox::set_worker_program(env!("CARGO_BIN_EXE_hookgate").into());
    let config = parse_config(text);
    let app = Application::build(config.clone(), roles)
        .await
        .expect("app builds");
    let stop = CancellationToken::new();
    Running {
        addr: app.local_addr(),
        config,
        store: app.store.clone(),
        dispatcher: app.dispatcher.clone(),
        task: tokio::spawn(app.run_until_stopped(stop.clone())),
        stop,
    }
}

/// Another dispatcher over the same store and targets, as a second process
/// would run.
pub fn another_dispatcher(config: &Config, store: Arc<Store>) -> Arc<Dispatcher> {
    let wiring = wiring(config);
    Arc::new(
        Dispatcher::new(
            store,
            wiring.targets,
            &wiring.config.dispatcher,
            Duration::from_millis(wiring.config.server.shutdown_grace_ms),
            Arc::new(tokio::sync::Notify::new()),
        )
        .unwrap()
        .with_routes(wiring.routes),
    )
}

/// The configuration built into running parts, as `Application::build`
/// builds it.
fn wiring(config: &Config) -> Wiring {
    Wiring::build(config.clone()).expect("test config builds")
}

/// A store on `url` with default pool settings, migrated.
pub async fn connect_store(url: &str) -> Store {
    let store = Store::connect(&DatabaseConfig {
        url: url.to_string(),
        ..DatabaseConfig::default()
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

/// One retention pass: events finished more than `days` ago, deleted
/// `batch_size` at a time. Returns how many went.
pub async fn prune_once(store: &Store, days: u32, batch_size: u32) -> u64 {
    let config = RetentionConfig {
        days,
        batch_size,
        interval_secs: 60,
    };
    hookgate::retention::prune_once(store, &config, now_ms())
        .await
        .unwrap()
}

/// Signs and verifies like one source's provider: the library's own
/// signing (what `hookgate replay` sends), with the source's first secret.
/// Every signed request in the tests and the benchmark comes from here.
pub struct Signer {
    provider: Provider,
    keys: Keys,
}

impl Signer {
    /// The configured source `name`.
    pub fn configured(config: &Config, name: &str) -> Signer {
        let source = config.source(name).expect("known source");
        let (provider, keys) = Provider::from_config(source, "test").unwrap();
        Signer { provider, keys }
    }

    /// Source `name` of the standard test configuration (for requests to a
    /// spawned binary, which runs that configuration).
    pub fn test_source(name: &str) -> Signer {
        static CONFIG: OnceLock<Config> = OnceLock::new();
        let config = CONFIG.get_or_init(|| parse_config(&super::TestConfig::new().toml()));
        Signer::configured(config, name)
    }

    /// A source of `provider` whose first secret is `secret`, plus `extra`
    /// provider keys (TOML lines): to sign as someone holding another secret.
    pub fn with_secret(provider: &str, secret: &str, extra: &str) -> Signer {
        let text =
            format!("name = \"s\"\nprovider = \"{provider}\"\nsecrets = [\"{secret}\"]\n{extra}");
        let source: hookgate::config::SourceConfig = toml::from_str(&text).unwrap();
        let (provider, keys) = Provider::from_config(&source, "sources[0]").unwrap();
        Signer { provider, keys }
    }

    fn key(&self) -> &[u8] {
        self.keys.first().unwrap_or_default()
    }

    /// The headers the provider would add to `body` at `at` (seconds),
    /// with a fresh delivery ID where it sends one.
    pub fn headers(&self, body: &[u8], at: i64) -> Vec<(String, String)> {
        self.provider.sign(self.key(), body, UnixMs::from_secs(at))
    }

    /// [`Signer::headers`] with this delivery ID.
    pub fn headers_as(&self, body: &[u8], at: i64, delivery_id: &str) -> Vec<(String, String)> {
        self.provider
            .sign_as(self.key(), body, UnixMs::from_secs(at), delivery_id)
    }

    /// The whole request as the provider sends it at `at`: the body (which a
    /// few providers stamp or sign inside) and the headers.
    pub fn request(&self, body: &[u8], at: i64) -> (Vec<u8>, Vec<(String, String)>) {
        self.provider
            .prepare(self.key(), body, UnixMs::from_secs(at))
    }

    /// [`Signer::request`] with this delivery ID.
    pub fn request_as(
        &self,
        body: &[u8],
        at: i64,
        delivery_id: &str,
    ) -> (Vec<u8>, Vec<(String, String)>) {
        self.provider
            .prepare_as(self.key(), body, UnixMs::from_secs(at), delivery_id)
    }

    /// Verifies a POST as ingest would at `at` (seconds), with every secret.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], at: i64) -> Result<Verdict, Rejection> {
        self.provider.verify(
            &self.keys,
            None,
            &Inbound::post(headers, body),
            UnixMs::from_secs(at),
        )
    }
}

/// Headers signed at any whole second an `i64` holds, extremes included,
/// with each scheme's own signature function and the test sources'
/// secrets: for the tests of timestamps no clock would give.
pub mod at_any_second {
    use hookgate::providers::{slack, standard, stripe};

    use crate::helpers::{SLACK_SECRET, STRIPE_SECRET, SVIX_SECRET};

    pub fn stripe(body: &[u8], secs: i64) -> Vec<(String, String)> {
        stripe::sign(STRIPE_SECRET.as_bytes(), body, secs)
    }

    pub fn svix(body: &[u8], secs: i64, id: &str) -> Vec<(String, String)> {
        let key = standard::decode_secret(SVIX_SECRET).unwrap();
        standard::sign(&key, id, body, secs)
    }

    pub fn slack(body: &[u8], secs: i64) -> Vec<(String, String)> {
        slack::sign(SLACK_SECRET.as_bytes(), body, secs)
    }
}

/// A Stripe body verified the way ingest verifies it and routed by
/// `config`, ready for the store, as if received at `received_at` (ms).
pub fn verified_event(config: &Config, source: &str, body: &str, received_at: i64) -> NewEvent {
    let signer = Signer::configured(config, source);
    let mut headers = HeaderMap::new();
    for (k, v) in signer.headers(body.as_bytes(), now_secs()) {
        headers.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let Ok(Verdict::Event(verified)) = signer.verify(&headers, body.as_bytes(), now_secs()) else {
        panic!("a verified event")
    };
    let targets = wiring(config)
        .routes
        .targets(source, verified.event_type())
        .into_iter()
        .map(|t| (t, None))
        .collect();
    NewEvent::from_verified(
        &verified,
        source,
        body.to_string().into(),
        "[]".into(),
        None,
        targets,
        None,
        received_at,
    )
}
