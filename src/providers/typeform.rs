//! Typeform: `Typeform-Signature: sha256=<base64>`, the HMAC-SHA256 of the
//! body keyed with the webhook's secret. The event ID is the body's
//! `event_id`, the type `event_type` (`form_response`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Typeform",
    signature: BodyHmac::new(
        "typeform-signature",
        "sha256=",
        Encoding::Base64,
        Digest::Sha256,
    ),
    id: Field::Pointer("/event_id"),
    event_type: Field::Pointer("/event_type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "typeform-secret-abc";
    const BODY: &str = r#"{"event_id":"01GSBNZKBVNG7V8YXN4D5FZ4X5","event_type":"form_response","form_response":{"form_id":"lT4Z3j","token":"a3a12ec67a1365927098a606107fac15","submitted_at":"2023-02-16T12:00:00Z"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "sha256=SOD14GSWWu+99WEflz8Pn4VRWrIO2qIeeAsyaNQEzOc=";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "typeform",
            secret: SECRET,
            body: BODY,
            signature: ("typeform-signature", SIGNATURE),
            headers: &[],
            id: "01GSBNZKBVNG7V8YXN4D5FZ4X5",
            event_type: "form_response",
        }
        .assert_verifies_and_signs();
    }
}
