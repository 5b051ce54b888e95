//! The routing decision for one verified event, made before its
//! transaction: routes that only match event types are decided in place;
//! routes with a filter or an ordering key run their expressions (in the
//! sandbox) over the event document built from what will be stored.

use super::Handled;
use crate::app::{AppState, Source};
use crate::error::ApiError;
use crate::providers::Verified;
use crate::routes::EventParts;
use axum::response::IntoResponse;

/// The deliveries an event gets (target and ordering key) and the errors
/// its route expressions raised, as the JSON the store keeps.
pub(super) struct Routing {
    pub targets: Vec<(String, Option<String>)>,
    pub errors: Option<String>,
}

/// Decides where `verified` goes. Expressions failing is part of the
/// decision (kept with the event); only a sandbox that cannot run at all is
/// an error, answered 503 so the sender retries.
pub(super) async fn decide(
    app: &AppState,
    source_name: &str,
    source: &Source,
    verified: &Verified,
    headers: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Routing, Handled> {
    let event_type = verified.event_type();
    if !app.routes.needs_document(source_name, event_type) {
        return Ok(Routing {
            targets: app
                .routes
                .targets(source_name, event_type)
                .into_iter()
                .map(|t| (t, None))
                .collect(),
            errors: None,
        });
    }
    let parts = EventParts {
        source: source_name,
        provider: source.provider.name(),
        event_type,
        provider_event_id: verified.provider_event_id(),
        headers,
        content_type,
        body,
    };
    match app.routes.decide(&parts).await {
        Ok(decision) => Ok(Routing {
            targets: decision
                .deliveries
                .into_iter()
                .map(|d| (d.target, d.ordering_key))
                .collect(),
            errors: (!decision.errors.is_empty())
                .then(|| serde_json::to_string(&decision.errors).expect("errors serialize")),
        }),
        Err(e) => {
            tracing::error!(source = source_name, error = %e, "route expressions cannot run; event not stored");
            Err((
                "unavailable",
                None,
                ApiError::unavailable("the routing decision cannot be made now; retry later")
                    .into_response(),
            ))
        }
    }
}
