//! Start-up: [`Application::build`] turns a [`Config`] into its running parts
//! (once, through [`Wiring`]), a bound listener, a migrated store, the
//! router and the dispatcher; [`Application::run_until_stopped`] serves
//! until the token is cancelled, then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::config::{Config, ConfigError, RetentionConfig};
use crate::dispatch::Dispatcher;
use crate::error::ApiError;
use crate::store::Store;
use crate::wiring::Wiring;

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
    Config(#[from] ConfigError),
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
    retention: RetentionConfig,
}

impl Application {
    /// Builds the running parts from `config` ([`Wiring::build`], which is
    /// also its validation), then connects and migrates the store and binds
    /// the listener.
    pub async fn build(config: Config, roles: Roles) -> Result<Application, StartupError> {
        let Wiring {
            config,
            sources,
            targets,
            routes,
            trusted_proxies,
        } = Wiring::build(config)?;
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
        let grace = Duration::from_millis(config.server.shutdown_grace_ms);
        let dispatcher = Arc::new(
            Dispatcher::new(
                store.clone(),
                targets,
                &config.dispatcher,
                grace,
                wake.clone(),
            )?
            .with_routes(routes.clone()),
        );
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
            routes,
            max_body_bytes: config.server.max_body_bytes,
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
            grace,
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
    let mut router = crate::health::router();
    if roles.ingest {
        router = router.route(
            "/ingest/{source}",
            any(crate::ingest::ingest).layer(DefaultBodyLimit::max(state.max_body_bytes)),
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
