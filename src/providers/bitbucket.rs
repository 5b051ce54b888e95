//! Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the
//! body keyed with the webhook's secret. The event ID is `X-Request-UUID`,
//! the type `X-Event-Key` (`repo:push`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Bitbucket",
    signature: BodyHmac::new("x-hub-signature", "sha256=", Encoding::Hex, Digest::Sha256),
    id: Field::Header("X-Request-UUID"),
    event_type: Field::Header("X-Event-Key"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "bitbucket-secret-x";
    const BODY: &str = r#"{"repository":{"full_name":"acme/api"},"push":{"changes":[{"new":{"name":"main"}}]},"actor":{"display_name":"Ada"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str =
        "sha256=b48fc71345d19e40221ca268033f431c32fb2b7552ac85892c7d6aef44919a65";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "bitbucket",
            secret: SECRET,
            body: BODY,
            signature: ("x-hub-signature", SIGNATURE),
            headers: &[("x-request-uuid", "u-1"), ("x-event-key", "repo:push")],
            id: "u-1",
            event_type: "repo:push",
        }
        .assert_verifies_and_signs();
    }
}
