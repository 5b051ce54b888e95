//! `POST /targets/{name}/pause` and `/resume`: an operator stops a
//! target's deliveries (a deploy, an incident) and lets them flow again.
//! The pause is stored, so it holds for every process sharing the
//! database and across restarts; resuming delivers the waiting backlog in
//! the order it would have gone.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;

use super::config::{target_views, TargetView};
use super::params::{known_target, NoParams, Params};
use crate::app::AppState;
use crate::error::ApiError;

/// Pauses a target: nothing more is sent to it (attempts already under way
/// finish) until it is resumed.
#[utoipa::path(post, path = "/targets/{name}/pause", tag = "config", operation_id = "pauseTarget",
    params(("name" = String, Path, description = "the target's name")),
    responses((status = 200, body = TargetView, description = "the target, paused"),
        (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown target")))]
pub async fn pause(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<TargetView>, ApiError> {
    set_paused(&app, &name, true).await
}

/// Resumes a paused target: its waiting deliveries go out in order.
#[utoipa::path(post, path = "/targets/{name}/resume", tag = "config", operation_id = "resumeTarget",
    params(("name" = String, Path, description = "the target's name")),
    responses((status = 200, body = TargetView, description = "the target, resumed"),
        (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown target")))]
pub async fn resume(
    State(app): State<Arc<AppState>>,
    Path(name): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<TargetView>, ApiError> {
    set_paused(&app, &name, false).await
}

async fn set_paused(
    app: &AppState,
    name: &str,
    paused: bool,
) -> Result<Json<TargetView>, ApiError> {
    known_target(app, Some(name))?;
    app.store.set_paused(name, paused).await?;
    tracing::info!(target = %name, paused, "target {}", if paused { "paused" } else { "resumed" });
    if !paused {
        // This process's dispatcher claims at once; others at their next poll.
        app.wake.notify_one();
    }
    let view = target_views(app, Some(name)).await?.pop();
    view.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no target named {name:?}")))
}
