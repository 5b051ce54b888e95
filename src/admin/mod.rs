//! The admin API under `/admin/v1`: inspect and repair what the gateway did.
//!
//! Every route is registered together with its OpenAPI description
//! (`utoipa_axum::routes!`), so `GET /admin/v1/openapi.json` cannot drift
//! from the router. All calls need `Authorization: Bearer <admin.token>`;
//! without a configured token the whole API answers 404.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::startup::AppState;

pub mod config;
pub mod deliveries;
pub mod events;
pub mod time;

#[derive(OpenApi)]
#[openapi(
    info(title = "hookgate admin API", description = "Inspect and repair received webhooks and their deliveries."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document and the router it describes, built from one list.
pub fn api() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(events::list))
        .routes(routes!(events::detail))
        .routes(routes!(events::replay))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::retry_one))
        .routes(routes!(deliveries::retry_bulk))
        .routes(routes!(events::conflicts))
        .routes(routes!(config::sources))
        .routes(routes!(config::targets))
        .routes(routes!(config::stats))
        .split_for_parts()
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
        Some(g) if crate::providers::ct_eq(g.as_bytes(), token.expose().as_bytes()) => {
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

/// `limit` and `cursor`, which every list's query takes.
#[derive(Debug, Default)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn of(limit: Option<i64>, cursor: &Option<String>) -> PageParams {
        PageParams {
            limit,
            cursor: cursor.clone(),
        }
    }

    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(50),
            Some(l) if (1..=500).contains(&l) => Ok(l),
            Some(l) => Err(ApiError::bad_request(format!(
                "limit {l} is not between 1 and 500"
            ))),
        }
    }

    /// The ID the page starts after; `check` says whether it is well formed.
    pub fn after(&self, check: fn(&str) -> bool) -> Result<Option<String>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        B64URL
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|id| check(id))
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("cursor is not one this API gave out"))
    }
}

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `last_id` is the ID of the last item fetched; a full page may have more.
    pub fn new(items: Vec<T>, limit: i64, last_id: Option<&str>) -> Page<T> {
        let next_cursor = (items.len() as i64 == limit)
            .then(|| last_id.map(|id| B64URL.encode(id)))
            .flatten();
        Page { items, next_cursor }
    }
}

/// A query string, with its rejection as a JSON 400.
pub fn query<T>(
    q: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|axum::extract::Query(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// An optional JSON request body: empty means `None`.
pub fn optional_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
