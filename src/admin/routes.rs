//! Routes: what is configured (with its jq expressions) and the route
//! tester, which says where an event would go without storing or sending
//! anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::params::{optional_json, NoParams, Params};
use crate::app::AppState;
use crate::error::ApiError;
use crate::route_test::Tested;

#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    /// `routes[i] (source -> target)`.
    #[schema(example = "routes[0] (stripe -> billing)")]
    pub route: String,
    pub source: String,
    pub target: String,
    /// `event_types` globs; absent: every type.
    pub event_types: Option<Vec<String>>,
    #[schema(example = ".body.livemode and .body.data.object.amount_paid > 0")]
    pub filter: Option<String>,
    #[schema(example = "{id: .body.id, customer: .body.data.object.customer}")]
    pub transform: Option<String>,
    #[schema(example = ".body.data.object.customer")]
    pub ordering_key: Option<String>,
}

/// Configured routes in configuration order, with their expressions.
#[utoipa::path(get, path = "/routes", tag = "routes", operation_id = "listRoutes",
    responses((status = 200, body = Vec<RouteView>), (status = 400, description = "unknown query parameter")))]
pub async fn list(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
) -> Json<Vec<RouteView>> {
    let mut views: Vec<RouteView> = app
        .routes
        .all()
        .map(|(source, r)| RouteView {
            route: r.label.clone(),
            source: source.to_string(),
            target: r.target.clone(),
            event_types: r.event_types.clone(),
            filter: r.filter.as_ref().map(|e| e.text.clone()),
            transform: r.transform.as_ref().map(|e| e.text.clone()),
            ordering_key: r.ordering_key.as_ref().map(|e| e.text.clone()),
        })
        .collect();
    views.sort_by_key(|v| position(&v.route));
    Json(views)
}

/// The `i` of `routes[i] ...`, for configuration order.
fn position(label: &str) -> usize {
    label
        .strip_prefix("routes[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse().ok())
        .unwrap_or(usize::MAX)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTestRequest {
    #[schema(example = "stripe")]
    pub source: String,
    /// The event body, as the provider would send it (a JSON value).
    #[schema(value_type = Object, example = json!({"id": "evt_1", "type": "invoice.paid", "livemode": true}))]
    pub body: serde_json::Value,
    /// Headers the provider sends besides its signature (`X-GitHub-Event`).
    #[schema(example = json!({"X-GitHub-Event": "push"}))]
    pub headers: Option<BTreeMap<String, String>>,
}

/// Which routes and targets an event would reach, each route's transformed
/// body and ordering key, and why each other route does not apply. The body
/// is signed with the source's first secret and verified by its provider,
/// so the event type and ID are read as ingest reads them. Nothing is
/// stored or sent.
#[utoipa::path(post, path = "/routes/test", tag = "routes", operation_id = "testRoutes",
    request_body = RouteTestRequest,
    responses((status = 200, body = Tested), (status = 400, description = "bad body"),
        (status = 404, description = "unknown source"),
        (status = 422, description = "the event cannot be tested: the provider refuses it, it is a handshake, or the source cannot sign"),
        (status = 503, description = "the expressions cannot run now")))]
pub async fn test(
    State(app): State<Arc<AppState>>,
    Params(NoParams {}): Params<NoParams>,
    body: Bytes,
) -> Result<Json<Tested>, ApiError> {
    let request: RouteTestRequest = optional_json(&body)?
        .ok_or_else(|| ApiError::bad_request("a JSON body with source and body is required"))?;
    if !app.sources.contains_key(&request.source) {
        return Err(ApiError::not_found(format!(
            "no source named {:?}",
            request.source
        )));
    }
    let bytes = serde_json::to_vec(&request.body).expect("a JSON value serializes");
    let mut headers: Vec<(String, String)> =
        request.headers.unwrap_or_default().into_iter().collect();
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    crate::route_test::test(&app.sources, &app.routes, &request.source, &bytes, &headers)
        .await
        .map(Json)
        .map_err(|e| ApiError::status(StatusCode::UNPROCESSABLE_ENTITY, e))
}
