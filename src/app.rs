//! What every HTTP handler shares: [`AppState`], with the sources built
//! from the configuration, the routing table and the store. Its own module
//! so handlers (`ingest`, `admin`, `health`) never import `startup`, which
//! builds it and mounts them.

use std::collections::HashMap;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;

use crate::client_ip::Cidrs;
use crate::config::Config;
use crate::providers::{Keys, Provider};
use crate::routes::Routes;
use crate::server::BodyBudget;
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
    /// The configuration as loaded, for what operators are shown (the admin
    /// API's sources and targets) and the admin token.
    pub config: Arc<Config>,
    pub store: Arc<Store>,
    pub sources: HashMap<String, Source>,
    /// Which targets an event goes to.
    pub routes: Routes,
    /// The most bytes an ingest body may have.
    pub max_body_bytes: usize,
    /// Notified after each commit that created deliveries.
    pub wake: Arc<Notify>,
    pub metrics: PrometheusHandle,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Cidrs,
    /// Request bodies in memory, all together (`server.max_inflight_body_bytes`).
    pub body_budget: Arc<BodyBudget>,
}
