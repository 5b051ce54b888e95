//! Lemon Squeezy: `X-Signature`, the hex HMAC-SHA256 of the body keyed with
//! the webhook's signing secret. Lemon Squeezy sends no event ID: the dedup
//! key is the body's SHA-256 (a resend carries the same bytes). The type is
//! `meta.event_name` (`order_created`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Lemon Squeezy",
    signature: BodyHmac::new("x-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::BodySha256,
    event_type: Field::Pointer("/meta/event_name"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "lemon-secret-z";
    const BODY: &str = r#"{"meta":{"event_name":"order_created","custom_data":{"customer_id":25},"test_mode":true},"data":{"type":"orders","id":"1","attributes":{"status":"paid"}}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "c174bfebb03066e2b399c4e4efa3ac9f01c0e3f2c4d108653d0376f635211da5";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "lemon-squeezy",
            secret: SECRET,
            body: BODY,
            signature: ("x-signature", SIGNATURE),
            headers: &[],
            id: &crate::providers::kit::body_sha256(BODY.as_bytes()),
            event_type: "order_created",
        }
        .assert_verifies_and_signs();
    }
}
