//! `/healthz` (the process answers), `/readyz` (the store can commit a
//! write) and `/metrics` (Prometheus text: what the recorder holds, outbox
//! gauges read from the store at scrape time, and the process's own
//! metrics from [`process`]).

mod process;

pub use process::resident_bytes;

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::now_ms;

/// The three endpoints, mounted at the root.
pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
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

/// How far `hookgate_outbox_pending` counts per target: beyond it the
/// gauge stays at this value, so a scrape costs the same with a backlog of
/// ten thousand or ten million (`hookgate_outbox_oldest_pending_seconds`
/// keeps growing and is the signal then).
pub const PENDING_COUNT_CAP: i64 = 10_000;

async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    // Outbox gauges are read from the store at scrape time, so they hold
    // across processes sharing one database.
    let now = now_ms();
    for target in &app.config.targets {
        let Ok(backlog) = app
            .store
            .target_backlog(&target.name, PENDING_COUNT_CAP)
            .await
        else {
            continue;
        };
        let oldest = backlog
            .oldest_created_at
            .map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
        metrics::gauge!("hookgate_outbox_pending", "target" => target.name.clone())
            .set(backlog.pending as f64);
        metrics::gauge!("hookgate_outbox_oldest_pending_seconds", "target" => target.name.clone())
            .set(oldest);
    }
    // Pause and circuit are the store's too, shared by every process.
    if let Ok(states) = app.store.target_states().await {
        for target in &app.config.targets {
            let state = states.iter().find(|s| s.target == target.name);
            let paused = state.is_some_and(|s| s.paused);
            let open = state.is_some_and(|s| s.circuit != crate::store::Circuit::Closed);
            metrics::gauge!("hookgate_target_paused", "target" => target.name.clone())
                .set(f64::from(u8::from(paused)));
            metrics::gauge!("hookgate_target_circuit_open", "target" => target.name.clone())
                .set(f64::from(u8::from(open)));
        }
    }
    metrics::gauge!("hookgate_inflight_body_bytes").set(app.body_budget.in_use() as f64);
    metrics::gauge!("hookgate_inflight_body_bytes_limit").set(app.body_budget.limit() as f64);
    let mut page = app.metrics.render();
    process::render(&mut page);
    (
        StatusCode::OK,
        [("content-type", "text/plain; version=0.0.4")],
        page,
    )
        .into_response()
}
