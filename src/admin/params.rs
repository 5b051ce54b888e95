//! What admin calls take: query strings read strictly, paging, filters
//! that must name configured sources and targets, times, optional JSON
//! bodies.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64URL, Engine};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;

/// Declares a list's query: a strict query-string struct (see [`Params`])
/// with the given filters, then the `limit` and `cursor` every list takes,
/// read by its `page()`. A macro rather than a flattened struct: serde
/// cannot deny unknown fields across a flatten, and utoipa would describe
/// the parameters differently.
macro_rules! list_query {
    ($(#[$meta:meta])* pub struct $name:ident { $($filters:tt)* }) => {
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        $(#[$meta])*
        pub struct $name {
            $($filters)*
            /// Items per page: 1 to 500, default 50.
            pub limit: Option<i64>,
            /// `next_cursor` of the previous page.
            pub cursor: Option<String>,
        }

        impl $name {
            pub fn page(&self) -> $crate::admin::params::PageParams {
                $crate::admin::params::PageParams {
                    limit: self.limit,
                    cursor: self.cursor.clone(),
                }
            }
        }
    };
}
pub(crate) use list_query;

/// `limit` and `cursor`, which every list's query takes.
#[derive(Debug, Default)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageParams {
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

/// An optional JSON request body: empty means `None`.
pub fn optional_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<Option<T>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
