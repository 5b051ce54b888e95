//! Wiring: [`Application::build`] turns a validated [`Config`] into a bound
//! listener, a migrated store, the router and the dispatcher;
//! [`Application::run_until_stopped`] serves until the token is cancelled,
//! then drains.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::client_ip::Cidrs;
use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::error::ApiError;
use crate::ids::now_ms;
use crate::providers::{Keys, Provider};
use crate::store::Store;

/// A configured source, ready to verify requests.
pub struct Source {
    pub provider: Provider,
    pub keys: Keys,
    pub tolerance: Option<u64>,
    /// Who may post to this source; `None` lets everyone.
    pub allow_ips: Option<Cidrs>,
}

/// What every handler shares.
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub sources: HashMap<String, Source>,
    /// Notified after each commit that created deliveries.
    pub wake: Arc<Notify>,
    pub metrics: PrometheusHandle,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Cidrs,
}

/// Which roles this process runs (`serve --no-ingest`, `--no-dispatcher`).
#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub ingest: bool,
    pub dispatcher: bool,
}

impl Default for Roles {
    fn default() -> Self {
        Self {
            ingest: true,
            dispatcher: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Store(#[from] crate::store::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    pub store: Arc<Store>,
    pub dispatcher: Arc<Dispatcher>,
    roles: Roles,
    grace: Duration,
    limits: crate::server::Limits,
    retention: crate::config::RetentionConfig,
}

impl Application {
    pub async fn build(config: Config, roles: Roles) -> Result<Application, StartupError> {
        let config = Arc::new(config);
        let mut sources = HashMap::new();
        for (i, s) in config.sources.iter().enumerate() {
            let key = format!("sources[{i}]");
            let (provider, keys) = Provider::from_config(s, &key)?;
            let allow_ips = match &s.allow_ips {
                Some(list) => Some(Cidrs::parse(list, &format!("{key}.allow_ips"))?),
                None => None,
            };
            sources.insert(
                s.name.clone(),
                Source {
                    provider,
                    keys,
                    tolerance: s.tolerance_secs,
                    allow_ips,
                },
            );
        }
        let trusted_proxies =
            Cidrs::parse(&config.server.trusted_proxies, "server.trusted_proxies")?;
        for place in config.shipped_development_values() {
            tracing::warn!(
                key = %place,
                "uses the development value shipped in hookgate.toml: anyone can sign with it; replace it"
            );
        }
        let limits = server_limits(&config, roles);
        let store = Arc::new(Store::connect(&config.database).await?);
        store.migrate().await?;
        let wake = Arc::new(Notify::new());
        let dispatcher = Arc::new(Dispatcher::new(store.clone(), &config, wake.clone())?);
        let listener = TcpListener::bind(&config.server.listen)
            .await
            .map_err(|source| StartupError::Listen {
                addr: config.server.listen.clone(),
                source,
            })?;
        if config.admin.token.is_none() {
            tracing::warn!("admin.token is not set: the admin API answers 404");
        }
        let state = Arc::new(AppState {
            config: config.clone(),
            store: store.clone(),
            sources,
            wake,
            metrics: crate::telemetry::metrics_handle(),
            trusted_proxies,
        });
        let router = router(state, roles);
        Ok(Application {
            listener,
            router,
            store,
            dispatcher,
            roles,
            grace: Duration::from_millis(config.server.shutdown_grace_ms),
            limits,
            retention: config.retention.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `stop` is cancelled; then stops accepting, finishes
    /// in-flight requests and lets the dispatcher drain.
    pub async fn run_until_stopped(self, stop: CancellationToken) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), backend = self.store.backend(), "hookgate listening");
        let dispatcher = if self.roles.dispatcher {
            Some(tokio::spawn(self.dispatcher.clone().run(stop.clone())))
        } else {
            None
        };
        tokio::spawn(crate::retention::run(
            self.store.clone(),
            self.retention.clone(),
            stop.clone(),
        ));
        let served =
            crate::server::serve(self.listener, self.router, self.limits, stop.clone()).await;
        if let Some(task) = dispatcher {
            // The dispatcher bounds its own drain by shutdown_grace_ms.
            let _ = tokio::time::timeout(self.grace + Duration::from_secs(5), task).await;
        }
        self.store.close().await;
        served
    }
}

/// The server's limits from `[server]`, with the connection cap lowered to
/// what the open-file limit (raised to its hard limit first) leaves after
/// the descriptors the database and outbound deliveries may hold.
fn server_limits(config: &Config, roles: Roles) -> crate::server::Limits {
    let open_files = crate::server::raise_open_file_limit();
    let deliveries: u64 = if roles.dispatcher {
        config
            .targets
            .iter()
            .map(|t| u64::from(t.max_in_flight))
            .sum()
    } else {
        0
    };
    // A SQLite connection holds the database, its WAL and shared memory.
    let reserved = 32 + 3 * u64::from(config.database.max_connections) + deliveries;
    let max_connections =
        crate::server::connection_cap(config.server.max_connections, open_files, reserved);
    if max_connections < config.server.max_connections {
        tracing::info!(
            max_connections,
            configured = config.server.max_connections,
            open_file_limit = open_files,
            "server.max_connections lowered to fit the open-file limit"
        );
    }
    let request_timeout = Duration::from_millis(config.server.request_timeout_ms);
    crate::server::Limits {
        header_timeout: Duration::from_millis(config.server.header_timeout_ms),
        idle_timeout: Duration::from_millis(config.server.idle_timeout_ms),
        max_connections,
        drain: request_timeout.max(Duration::from_millis(config.server.shutdown_grace_ms)),
    }
}

fn router(state: Arc<AppState>, roles: Roles) -> Router {
    let config = state.config.clone();
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if roles.ingest {
        router = router.route(
            "/ingest/{source}",
            any(crate::ingest::ingest).layer(DefaultBodyLimit::max(config.server.max_body_bytes)),
        );
    }
    router
        .nest("/admin/v1", crate::admin::router(state.clone()))
        .merge(crate::console::router())
        .fallback(|| async { ApiError::not_found("no such route") })
        .with_state(state)
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(config.server.request_timeout_ms),
        ))
        .layer(axum::middleware::from_fn(crate::error::json_errors))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The span of one HTTP request: method, path (never the query) and the
/// request ID that `x-request-id` carries back to the client.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id,
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    match app.store.probe().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            ApiError::unavailable(format!("the store cannot commit a write: {e}")).into_response()
        }
    }
}

async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    // Outbox gauges are read from the store at scrape time, so they hold
    // across processes sharing one database.
    if let Ok(backlog) = app.store.backlog().await {
        let now = now_ms();
        for target in &app.config.targets {
            let row = backlog.iter().find(|b| b.target == target.name);
            let pending = row.map_or(0, |b| b.pending);
            let oldest = row
                .and_then(|b| b.oldest_created_at)
                .map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
            metrics::gauge!("hookgate_outbox_pending", "target" => target.name.clone())
                .set(pending as f64);
            metrics::gauge!("hookgate_outbox_oldest_pending_seconds", "target" => target.name.clone())
                .set(oldest);
        }
    }
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}
