//! The admin API under `/admin/v1`: inspect and repair what the gateway did.
//!
//! Every route is registered together with its OpenAPI description
//! (`utoipa_axum::routes!`), so `GET /admin/v1/openapi.json` cannot drift
//! from the router. All calls need `Authorization: Bearer <admin.token>`;
//! without a configured token the whole API answers 404.
//!
//! Every call refuses what it does not understand rather than guess: an
//! unknown query parameter is a 400 naming it ([`Params`]), a filter naming
//! an unknown source or target is a 404 naming it ([`known_source`],
//! [`known_target`]), and status words come from one vocabulary
//! ([`status`]).

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::ApiError;

pub mod config;
pub mod deliveries;
pub mod events;
pub mod status;

#[derive(OpenApi)]
#[openapi(
    info(title = "hookgate admin API", description = "Inspect and repair received webhooks and their deliveries."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    security(("bearer" = []))
)]
struct ApiDoc;

/// Every error the admin API answers with.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "bad_request", "detail": "unknown query parameter `provider_event`, expected one of `source`, `type`, `status`, `since`, `until`, `provider_event_id`, `limit`, `cursor`"}))]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `unauthorized`, `not_found`,
    /// `unknown_source`, `unknown_target`, `not_dead`, `unavailable`, `internal`.
    pub error: String,
    /// What went wrong, naming the parameter, value or resource.
    pub detail: String,
}

/// Documents the answers every call can give (401, 500, 503) and puts the
/// [`ErrorBody`] schema on every 4xx and 5xx, so a generated client can
/// read any error.
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        let common = [
            ("401", "missing or wrong admin token"),
            ("500", "internal error"),
            (
                "503",
                "the store cannot answer now; retry after `Retry-After` seconds",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut op.responses.responses;
                for (code, description) in common {
                    responses
                        .entry(code.to_string())
                        .or_insert_with(|| RefOr::T(error(description)));
                }
                for (code, response) in responses.iter_mut() {
                    if code.starts_with('4') || code.starts_with('5') {
                        if let RefOr::T(r) = response {
                            let description = r.description.clone();
                            *r = error(&description);
                        }
                    }
                }
            }
        }
    }
}

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
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(events::list))
        .routes(routes!(events::detail))
        .routes(routes!(events::replay))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::retry_one))
        .routes(routes!(deliveries::retry_bulk))
        .routes(routes!(deliveries::cancel))
        .routes(routes!(events::conflicts))
        .routes(routes!(events::conflict))
        .routes(routes!(config::sources))
        .routes(routes!(config::targets))
        .routes(routes!(config::stats))
        .split_for_parts();
    // After the routes are in: a modifier on `ApiDoc` would see no paths.
    utoipa::Modify::modify(&ErrorResponses, &mut doc);
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
    #[schema(example = "ZXZ0XzAxOWFiYzEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` were fetched with `limit + 1`: one more than the page shows
    /// says whether another page exists, so the last page has no cursor.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        id: impl Fn(&R) -> &str,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|r| B64URL.encode(id(r))))
            .flatten();
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

/// A query string read strictly: an unknown parameter is a 400 naming it
/// and listing the ones the call takes (the struct must
/// `deny_unknown_fields`). Empty values (`?source=`, as an HTML form sends
/// them) count as absent.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
        let kept: Vec<(String, String)> =
            pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let query = serde_urlencoded::to_string(&kept)
            .map_err(|e| ApiError::bad_request(format!("query string: {e}")))?;
        serde_urlencoded::from_str(&query).map(Params).map_err(|e| {
            let text = e.to_string();
            let mut error = ApiError::bad_request(
                text.replace("unknown field", "unknown query parameter")
                    .replace("there are no fields", "this call takes none")
                    .replace("duplicate field", "repeated query parameter"),
            );
            if let Some(name) = text
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                error = error.with("parameter", name);
            }
            error
        })
    }
}

/// The query of a call that takes no parameters: any one is refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// 404 naming `name` unless a source of that name is configured.
pub fn known_source(app: &AppState, name: Option<&str>) -> Result<(), ApiError> {
    let names = app.config.sources.iter().map(|s| s.name.as_str());
    known("source", name, names)
}

/// 404 naming `name` unless a target of that name is configured.
pub fn known_target(app: &AppState, name: Option<&str>) -> Result<(), ApiError> {
    let names = app.config.targets.iter().map(|t| t.name.as_str());
    known("target", name, names)
}

fn known<'a>(
    what: &'static str,
    name: Option<&str>,
    configured: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), ApiError> {
    match name {
        Some(n) if !configured.clone().any(|c| c == n) => {
            let list: Vec<&str> = configured.collect();
            let code = if what == "source" {
                "unknown_source"
            } else {
                "unknown_target"
            };
            Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                code,
                format!("no {what} named {n:?}; configured: {}", list.join(", ")),
            )
            .with(what, n))
        }
        _ => Ok(()),
    }
}

/// A time filter (`since`, `until`) as epoch milliseconds.
pub fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            crate::time::parse(v)
                .map_err(|e| ApiError::bad_request(format!("{name}: {e}")).with("parameter", name))
        })
        .transpose()
}

/// A `*` glob as a SQL LIKE pattern (with `\` as the escape character).
pub fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len());
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
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
