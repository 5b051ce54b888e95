//! Conflicts: requests refused with 409 because a stored provider event
//! ID came again with another body, listed and shown side by side.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::events::shown;
use super::params::{known_source, list_query, NoParams, Page, Params};
use crate::app::AppState;
use crate::error::ApiError;
use crate::ids::ConflictId;
use crate::time::format_ms;

list_query! {
    pub struct ConflictQuery {
        /// Source name (a configured one; 404 otherwise).
        #[param(example = "stripe")]
        pub source: Option<String>,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictItem {
    #[schema(example = "cfl_019ab3c2d4e5f60718293a4b5c6d")]
    pub conflict_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    /// The stored event that owns this provider event ID.
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    pub stored_sha256: String,
    pub received_sha256: String,
    #[schema(example = "2026-11-24T08:31:00.456Z")]
    pub received_at: String,
}

/// Requests refused with 409: a stored provider event ID with another body.
#[utoipa::path(get, path = "/conflicts", tag = "events", operation_id = "listConflicts", params(ConflictQuery),
    responses((status = 200, body = Page<ConflictItem>),
        (status = 400, description = "unknown query parameter or bad cursor"),
        (status = 404, description = "unknown source")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    Params(q): Params<ConflictQuery>,
) -> Result<Json<Page<ConflictItem>>, ApiError> {
    known_source(&app, q.source.as_deref())?;
    let page = q.page();
    let limit = page.limit()?;
    let before = page.after(|id| ConflictId::parse(id).is_some())?;
    let rows = app
        .store
        .list_conflicts(q.source.as_deref(), before.as_deref(), limit + 1)
        .await?;
    Ok(Json(Page::from_rows(
        rows,
        limit,
        |r| &r.id,
        |c| ConflictItem {
            conflict_id: c.id,
            source: c.source,
            provider_event_id: c.provider_event_id,
            event_id: c.event_id,
            stored_sha256: c.stored_sha256,
            received_sha256: c.received_sha256,
            received_at: format_ms(c.received_at),
        },
    )))
}

/// One side of a conflict: a body with its headers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictSide {
    #[schema(example = "2026-11-24T08:30:00.123Z")]
    pub received_at: String,
    pub sha256: String,
    /// Request headers as `[name, value]` pairs, secrets left out.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: serde_json::Value,
    /// `json` when the body parses as JSON, else `base64`.
    pub payload_encoding: &'static str,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The body exactly as received when it is UTF-8, else `null`.
    pub body_text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictDetail {
    #[schema(example = "cfl_019ab3c2d4e5f60718293a4b5c6d")]
    pub conflict_id: String,
    #[schema(example = "stripe")]
    pub source: String,
    #[schema(example = "evt_1QdX2b2eZvKYlo2C8Q3mYb5A")]
    pub provider_event_id: String,
    #[schema(example = "evt_019ab3c2d4e5f60718293a4b5c6d")]
    pub event_id: String,
    /// The event as stored (and delivered).
    pub stored: ConflictSide,
    /// The refused request.
    pub received: ConflictSide,
}

/// One refused request next to the stored event it collided with.
#[utoipa::path(get, path = "/conflicts/{conflict_id}", tag = "events", operation_id = "getConflict",
    params(("conflict_id" = String, Path, description = "cfl_...")),
    responses((status = 200, body = ConflictDetail), (status = 400, description = "unknown query parameter"),
        (status = 404, description = "unknown conflict")))]
pub async fn detail(
    State(app): State<Arc<AppState>>,
    Path(raw): Path<String>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<ConflictDetail>, ApiError> {
    let missing = || ApiError::not_found(format!("no conflict {raw:?}"));
    let id = ConflictId::parse(&raw).ok_or_else(missing)?;
    let c = app.store.conflict(id.as_str()).await?.ok_or_else(missing)?;
    let event = app.store.event(&c.event_id).await?.ok_or_else(missing)?;
    let side = |received_at: i64, sha256: String, headers: &str, body: &[u8]| {
        let shown = shown(headers, body);
        ConflictSide {
            received_at: format_ms(received_at),
            sha256,
            headers: shown.headers,
            payload_encoding: shown.payload_encoding,
            payload: shown.payload,
            body_text: shown.body_text,
        }
    };
    Ok(Json(ConflictDetail {
        stored: side(
            event.received_at,
            c.stored_sha256,
            &event.headers,
            &event.body,
        ),
        received: side(c.received_at, c.received_sha256, &c.headers, &c.body),
        conflict_id: c.id,
        source: c.source,
        provider_event_id: c.provider_event_id,
        event_id: c.event_id,
    }))
}
