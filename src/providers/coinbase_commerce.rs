//! Coinbase Commerce: `X-CC-Webhook-Signature`, the hex HMAC-SHA256 of the
//! body keyed with the shared secret (Settings → Notifications). The body
//! wraps the event: the ID is `event.id`, the type `event.type`
//! (`charge:confirmed`). A retry carries a new `attempt_number`, so it is
//! the same ID with other bytes: a recorded `409`, never a second delivery.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Coinbase Commerce",
    signature: BodyHmac::new("x-cc-webhook-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Pointer("/event/id"),
    event_type: Field::Pointer("/event/type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "cc-shared-secret-8d21";
    const BODY: &str = r#"{"attempt_number":1,"event":{"api_version":"2018-03-22","created_at":"2026-02-11T10:20:00Z","data":{"code":"66BEOV2A","name":"Sweater","pricing_type":"fixed_price"},"id":"24934862-d980-46cb-9402-43c81b0cdba6","resource":"event","type":"charge:created"},"id":"f6a2d1b0-4b64-4c29-a1a4-97d1a4a1f7e3","scheduled_for":"2026-02-11T10:20:00Z"}"#;
    /// Computed with Python's `hmac` module and accepted by Coinbase's
    /// Python SDK, `coinbase-commerce` 1.0.1 (`Webhook.construct_event`).
    const SIGNATURE: &str = "971cd076e217eb01e2298fdda4bb23cbee61a241e7cc46ff8ceaed4bcd85b6b4";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "coinbase-commerce",
            secret: SECRET,
            body: BODY,
            signature: ("x-cc-webhook-signature", SIGNATURE),
            headers: &[],
            id: "24934862-d980-46cb-9402-43c81b0cdba6",
            event_type: "charge:created",
        }
        .assert_verifies_and_signs();
    }
}
