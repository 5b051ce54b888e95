//! Sentry (integration platform): `Sentry-Hook-Signature`, the hex
//! HMAC-SHA256 of the body keyed with the integration's client secret. The
//! event ID is the `Request-ID` header; the type is `Sentry-Hook-Resource`
//! plus `.{action}` when the body has one (`issue.created`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{json_str, required_header, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Sentry",
    signature: BodyHmac::new("sentry-hook-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Header("Request-ID"),
    event_type: Field::Rule(resource_and_action),
    sent_at: Some("Sentry-Hook-Timestamp"),
};

/// `Sentry-Hook-Resource`, plus `.{action}` when the body has one.
fn resource_and_action(req: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let resource = required_header(req.headers, "sentry-hook-resource")?;
    Ok(match json_str(json.get()?, "/action") {
        Some(action) => format!("{resource}.{action}"),
        None => resource.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "sentry-client-secret-11";
    const BODY: &str = r#"{"action":"created","installation":{"uuid":"a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},"data":{"issue":{"id":"1170820242","title":"Error: boom"}},"actor":{"type":"application","id":"sentry","name":"Sentry"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "4cbe43ea2cb01772c862784673d81e4f8adc40c430ae998fd627d019ea257fbd";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "sentry",
            secret: SECRET,
            body: BODY,
            signature: ("sentry-hook-signature", SIGNATURE),
            headers: &[("request-id", "r-1"), ("sentry-hook-resource", "issue")],
            id: "r-1",
            event_type: "issue.created",
        }
        .assert_verifies_and_signs();
    }
}
