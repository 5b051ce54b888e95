//! Sources, targets and stats: the configuration as operators need it
//! (never a secret), with counts, backlog and the last error.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::params::{NoParams, Params};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::now_ms;
use crate::store::{BlockedKey, Circuit, GroupCount, TargetState};
use crate::time::format_ms;

/// The count grouped under (`key`, `sub`); 0 when there is none.
fn count_of(counts: &[GroupCount], key: &str, sub: &str) -> i64 {
    counts
        .iter()
        .find(|c| c.key == key && c.sub == sub)
        .map_or(0, |c| c.count)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    pub name: String,
    pub provider: String,
    pub ingest_path: String,
    /// How many secrets are configured (never their values).
    pub secrets: usize,
    pub tolerance_secs: Option<u64>,
    /// Targets this source routes to.
    pub routes: Vec<String>,
    pub events: i64,
    pub conflicts: i64,
}

/// Configured sources with their event and conflict counts.
#[utoipa::path(get, path = "/sources", tag = "config", operation_id = "listSources",
    responses((status = 200, body = Vec<SourceView>), (status = 400, description = "unknown query parameter")))]
pub async fn sources(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Vec<SourceView>>, ApiError> {
    let counts = app.store.source_counts().await?;
    let views = app
        .config
        .sources
        .iter()
        .map(|s| SourceView {
            name: s.name.clone(),
            provider: s.provider.clone(),
            ingest_path: format!("/ingest/{}", s.name),
            secrets: s.secrets.len(),
            tolerance_secs: app
                .sources
                .get(&s.name)
                .and_then(|r| r.tolerance.or(r.provider.default_tolerance())),
            routes: app
                .config
                .routes
                .iter()
                .filter(|r| r.source == s.name)
                .map(|r| r.target.clone())
                .collect(),
            events: count_of(&counts, &s.name, "events"),
            conflicts: count_of(&counts, &s.name, "conflicts"),
        })
        .collect();
    Ok(Json(views))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastErrorView {
    pub at: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    pub name: String,
    /// Scheme, host, port and path; never credentials or the query.
    pub url: String,
    pub signed: bool,
    /// Names of the configured extra headers (never their values).
    pub header_names: Vec<String>,
    pub timeout_ms: u64,
    pub max_attempts: u32,
    pub max_in_flight: u32,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    pub cancelled: i64,
    /// Age of the oldest pending delivery.
    pub oldest_pending_secs: Option<f64>,
    pub attempts: i64,
    /// Share of attempts answered 2xx; `null` before the first attempt.
    pub success_rate: Option<f64>,
    pub last_error: Option<LastErrorView>,
    /// `rate_limit` as configured (`"50/s"`); `null`: none.
    pub rate_limit: Option<String>,
    pub circuit_failures: u32,
    pub circuit_cooldown_ms: u64,
    /// Paused through the admin API: every delivery waits.
    pub paused: bool,
    pub circuit: Circuit,
    /// When `circuit` last changed; `null`: never.
    pub circuit_changed_at: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i64,
    /// Ordering keys with deliveries waiting behind an earlier one (at
    /// most 20, oldest first): a key that stays here is held by its head.
    pub blocked_keys: Vec<BlockedKey>,
}

/// Configured targets with delivery counts, backlog, success rate and last error.
#[utoipa::path(get, path = "/targets", tag = "config", operation_id = "listTargets",
    responses((status = 200, body = Vec<TargetView>), (status = 400, description = "unknown query parameter")))]
pub async fn targets(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Vec<TargetView>>, ApiError> {
    Ok(Json(target_views(&app, None).await?))
}

/// The views of every configured target, or only of the one named `only`.
pub(super) async fn target_views(
    app: &AppState,
    only: Option<&str>,
) -> Result<Vec<TargetView>, ApiError> {
    let counts = app.store.delivery_counts().await?;
    let totals = app.store.attempt_totals().await?;
    let backlog = app.store.backlog().await?;
    let states = app.store.target_states().await?;
    let now = now_ms();
    let mut views = Vec::new();
    for t in app
        .config
        .targets
        .iter()
        .filter(|t| only.is_none_or(|n| n == t.name))
    {
        let state = states
            .iter()
            .find(|s| s.target == t.name)
            .cloned()
            .unwrap_or_else(|| TargetState::new(&t.name));
        let count = |status: &str| count_of(&counts, &t.name, status);
        let total = totals.iter().find(|a| a.target == t.name);
        let last_error = app.store.last_error(&t.name).await?.map(|e| LastErrorView {
            at: format_ms(e.at),
            status_code: e.status_code,
            error: e.error,
        });
        views.push(TargetView {
            name: t.name.clone(),
            url: crate::config::redact_url(&t.url),
            signed: t.signing_secret.is_some(),
            header_names: t.headers.keys().cloned().collect(),
            timeout_ms: t.timeout_ms,
            max_attempts: t.max_attempts,
            max_in_flight: t.max_in_flight,
            pending: count("pending"),
            delivered: count("delivered"),
            dead: count("dead"),
            cancelled: count("cancelled"),
            oldest_pending_secs: backlog
                .iter()
                .find(|b| b.target == t.name)
                .and_then(|b| b.oldest_created_at)
                .map(|at| (now - at).max(0) as f64 / 1000.0),
            attempts: total.map_or(0, |a| a.attempts),
            success_rate: total
                .filter(|a| a.attempts > 0)
                .map(|a| a.succeeded as f64 / a.attempts as f64),
            last_error,
            rate_limit: t.rate_limit.clone(),
            circuit_failures: t.circuit_failures,
            circuit_cooldown_ms: t.circuit_cooldown_ms,
            paused: state.paused,
            circuit: state.circuit,
            circuit_changed_at: (state.changed_at > 0).then(|| format_ms(state.changed_at)),
            consecutive_failures: state.failures,
            blocked_keys: app.store.blocked_keys(&t.name).await?,
        });
    }
    Ok(views)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub events: i64,
    pub conflicts: i64,
    pub attempts: i64,
    pub events_by_source: BTreeMap<String, i64>,
    /// Deliveries by status (`pending`, `delivered`, `dead`, `cancelled`) over all targets.
    pub deliveries_by_outcome: BTreeMap<String, i64>,
    /// Deliveries by target, then outcome.
    pub deliveries_by_target: BTreeMap<String, BTreeMap<String, i64>>,
}

/// Totals by source, target and outcome.
#[utoipa::path(get, path = "/stats", tag = "config", operation_id = "getStats",
    responses((status = 200, body = Stats), (status = 400, description = "unknown query parameter")))]
pub async fn stats(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Stats>, ApiError> {
    let counts = app.store.counts().await?;
    let mut stats = Stats {
        events: counts.events,
        conflicts: counts.conflicts,
        attempts: counts.attempts,
        events_by_source: BTreeMap::new(),
        deliveries_by_outcome: BTreeMap::new(),
        deliveries_by_target: BTreeMap::new(),
    };
    for c in app.store.source_counts().await? {
        if c.sub == "events" {
            stats.events_by_source.insert(c.key, c.count);
        }
    }
    for c in app.store.delivery_counts().await? {
        *stats
            .deliveries_by_outcome
            .entry(c.sub.clone())
            .or_default() += c.count;
        stats
            .deliveries_by_target
            .entry(c.key)
            .or_default()
            .insert(c.sub, c.count);
    }
    Ok(Json(stats))
}
