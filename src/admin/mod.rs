//! The admin API under `/admin/v1`: inspect and repair what the gateway did.
//!
//! Every route is registered together with its OpenAPI description
//! (`utoipa_axum::routes!`), so `GET /admin/v1/openapi.json` cannot drift
//! from the router ([`openapi`] holds what the document says of every
//! call). All calls need `Authorization: Bearer <admin.token>`; without a
//! configured token the whole API answers 404.
//!
//! Every call refuses what it does not understand rather than guess: an
//! unknown query parameter is a 400 naming it ([`params::Params`]), a
//! filter naming an unknown source or target is a 404 naming it
//! ([`params::known_source`], [`params::known_target`]), and status words
//! come from one vocabulary ([`status`]).
//!
//! Rooms: one module per resource ([`events`], [`conflicts`],
//! [`deliveries`], [`config`], [`routes`], [`targets`] for pause and
//! resume), what calls take in [`params`], and the document's shared parts
//! in [`openapi`].

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;

pub mod config;
pub mod conflicts;
pub mod deliveries;
pub mod events;
pub mod openapi;
pub mod params;
pub mod routes;
pub mod status;
pub mod targets;

/// The OpenAPI document and the router it describes, built from one list.
pub fn api() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(events::list))
        .routes(routes!(events::detail))
        .routes(routes!(events::replay))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::retry_one))
        .routes(routes!(deliveries::retry_bulk))
        .routes(routes!(deliveries::cancel))
        .routes(routes!(conflicts::list))
        .routes(routes!(conflicts::detail))
        .routes(routes!(config::sources))
        .routes(routes!(config::targets))
        .routes(routes!(targets::pause))
        .routes(routes!(targets::resume))
        .routes(routes!(config::stats))
        .routes(routes!(routes::list))
        .routes(routes!(routes::test))
        .split_for_parts();
    // After the routes are in: a modifier on `ApiDoc` would see no paths.
    utoipa::Modify::modify(&openapi::ErrorResponses, &mut doc);
    utoipa::Modify::modify(&openapi::PageItems, &mut doc);
    (router, doc)
}

/// `/admin/v1`, behind the bearer-token check.
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    let (router, mut doc) = api();
    doc.servers = Some(vec![utoipa::openapi::Server::new("/admin/v1")]);
    let doc = Arc::new(doc);
    router
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(token) = &app.config.admin.token else {
        return ApiError::not_found("the admin API is off: set admin.token").into_response();
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token);
    match given {
        Some(g) if crate::crypto::ct_eq(g.as_bytes(), token.expose().as_bytes()) => {
            next.run(req).await
        }
        _ => ApiError::unauthorized("missing or wrong admin token (Authorization: Bearer <token>)")
            .into_response(),
    }
}

/// The token of an `Authorization: Bearer <token>` value. The scheme name
/// is case-insensitive (RFC 9110), so `bearer` and `BEARER` count too.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
