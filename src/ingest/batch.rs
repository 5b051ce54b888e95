//! Batches: a request carrying several events (SendGrid's array, Microsoft
//! Graph's `value` array) has each event stored with its own bytes, ID,
//! type and routes, all in one transaction.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::respond::{content_type, not_stored, stored_headers, stored_json};
use super::Handled;
use crate::app::{AppState, Source};
use crate::error::ApiError;
use crate::providers::batch::Part;
use crate::store::{IngestOutcome, NewEvent};

/// Stores each event of a batch (its own bytes, ID, type and routes) in one
/// transaction. The answer lists every event's outcome in request order:
/// 200, or 409 when any of them conflicts with a stored event (the others
/// are stored all the same, so the sender's retry finds them duplicates).
pub(super) async fn ingest_batch(
    app: &AppState,
    source_name: &str,
    source: &Source,
    headers: &HeaderMap,
    body: &Bytes,
    parts: Vec<Part>,
    now: i64,
) -> Handled {
    let stored = stored_headers(source, headers);
    let content_type = content_type(headers);
    let mut events: Vec<NewEvent> = Vec::with_capacity(parts.len());
    for part in &parts {
        let bytes = body.slice(part.range.clone());
        let routing = match super::routing::decide(
            app,
            source_name,
            source,
            &part.verified,
            &stored,
            content_type.as_deref(),
            &bytes,
        )
        .await
        {
            Ok(routing) => routing,
            Err(handled) => return handled,
        };
        events.push(NewEvent::from_verified(
            &part.verified,
            source_name,
            bytes,
            stored.clone(),
            content_type.clone(),
            routing.targets,
            routing.errors,
            now,
        ));
    }
    let outcomes = if events.is_empty() {
        Vec::new()
    } else {
        match app.store.ingest_batch(&events).await {
            Ok(outcomes) => outcomes,
            Err(e) => return not_stored(source_name, e),
        }
    };
    let (mut accepted, mut duplicates, mut conflicts) = (0, 0, 0);
    let mut woke = false;
    let listed: Vec<serde_json::Value> = parts
        .iter()
        .zip(outcomes)
        .map(|(part, outcome)| {
            let provider_event_id = part.verified.provider_event_id();
            match outcome {
                IngestOutcome::Accepted {
                    event_id,
                    deliveries,
                } => {
                    accepted += 1;
                    if deliveries > 0 && !woke {
                        app.wake.notify_one();
                        woke = true;
                    }
                    stored_json(&event_id, provider_event_id, false, deliveries)
                }
                IngestOutcome::Duplicate {
                    event_id,
                    deliveries,
                } => {
                    duplicates += 1;
                    stored_json(&event_id, provider_event_id, true, deliveries)
                }
                IngestOutcome::Conflict {
                    event_id,
                    conflict_id,
                } => {
                    conflicts += 1;
                    json!({"error": "conflict", "event_id": event_id, "provider_event_id": provider_event_id, "conflict_id": conflict_id})
                }
            }
        })
        .collect();
    tracing::debug!(accepted, duplicates, conflicts, "batch stored");
    let summary = json!({
        "events": listed,
        "accepted": accepted,
        "duplicates": duplicates,
        "conflicts": conflicts,
    });
    if conflicts > 0 {
        let mut error = ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "an event ID of this batch was already stored with a different body; the other events were stored",
        );
        for (key, value) in summary.as_object().into_iter().flatten() {
            error = error.with(key, value.clone());
        }
        return ("conflict", None, error.into_response());
    }
    let outcome = if accepted > 0 {
        "accepted"
    } else {
        "duplicate"
    };
    (outcome, None, Json(summary).into_response())
}
