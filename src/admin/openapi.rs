//! What the OpenAPI document says of every call: the error body, the
//! answers any call can give, the bearer-token scheme, and list pages whose
//! items refer to their component.

use utoipa::openapi::RefOr;
use utoipa::{OpenApi, ToSchema};

use serde::Serialize;

#[derive(OpenApi)]
#[openapi(
    info(title = "hookgate admin API", description = "Inspect and repair received webhooks and their deliveries."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody)),
    security(("bearer" = []))
)]
pub(super) struct ApiDoc;

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
pub(super) struct ErrorResponses;

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

/// Makes each list page (`Page_EventItem`, ...) refer to its item's
/// component instead of carrying a copy of it, so a generated client has
/// one `EventItem` type (not `PageEventItemItemsItem`) for a list's items
/// and for anything else that names it.
pub(super) struct PageItems;

impl utoipa::Modify for PageItems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ArrayItems, Schema};
        use utoipa::openapi::Ref;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let known: Vec<String> = components.schemas.keys().cloned().collect();
        for (name, schema) in components.schemas.iter_mut() {
            let Some(item) = name.strip_prefix("Page_") else {
                continue;
            };
            if !known.iter().any(|k| k == item) {
                continue;
            }
            let RefOr::T(Schema::Object(page)) = schema else {
                continue;
            };
            if let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items") {
                items.items =
                    ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
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
