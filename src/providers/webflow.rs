//! Webflow (Data API v2 webhooks): `x-webflow-signature`, the hex
//! HMAC-SHA256 of `{x-webflow-timestamp}:{body}` keyed with the webhook's
//! secret, the timestamp in Unix milliseconds; Webflow's guide refuses
//! requests more than 5 minutes off. Webflow sends no event ID: the dedup
//! key is the body's SHA-256. The type is the body's `triggerType`
//! (`form_submission`).

use super::kit::{Encoding, SignatureHeader};
use super::signed_at::{Carrier, Layout, SignedAt, Unit};
use super::signed_body::Field;
use crate::crypto::Digest;

pub const SCHEME: SignedAt = SignedAt {
    provider: "Webflow",
    carrier: Carrier::Headers {
        signature: SignatureHeader::new("x-webflow-signature", "", Encoding::Hex),
        timestamp: "x-webflow-timestamp",
    },
    layout: Layout {
        before: "",
        between: ":",
        body_first: false,
    },
    digest: Digest::Sha256,
    unit: Unit::Millis,
    tolerance: Some(300),
    stale_only: false,
    id: Field::BodySha256,
    event_type: Field::Pointer("/triggerType"),
};

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::TimedVector;

    const BODY: &str = r#"{"triggerType":"form_submission","payload":{"name":"Contact","siteId":"65427cf400e02b306eaa049c","data":{"email":"ada@example.com"},"submittedAt":"2024-05-20T10:00:00.000Z","id":"6321a1b2c3d4e5f6a7b8c9d0","formId":"65429eadebe8a9f3a30f62d0"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module.
    const SIGNATURE: &str = "f16179bc7810ab0aa844fd3b5ba034e9b3213babf16b6b84ec6f01aadb2b8481";

    #[test]
    fn vector_verifies_for_five_minutes_and_signs() {
        TimedVector {
            provider: "webflow",
            secret: "webflow-secret-20",
            body: BODY,
            headers: &[
                ("x-webflow-signature", SIGNATURE),
                ("x-webflow-timestamp", "1716199200000"),
            ],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "form_submission",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(None);
    }
}
