//! ClickUp: `X-Signature`, the hex HMAC-SHA256 of the body keyed with the
//! webhook's secret. ClickUp sends no event ID of its own: the dedup key is
//! the body's SHA-256 (a retry resends the same bytes). The type is the
//! body's `event` (`taskCreated`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "ClickUp",
    signature: BodyHmac::new("x-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::BodySha256,
    event_type: Field::Pointer("/event"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "clickup-secret-6";
    const BODY: &str = r#"{"event":"taskCreated","history_items":[{"id":"2800763136717140857","type":1,"date":"1642734631523","field":"status","user":{"id":183,"username":"John"}}],"task_id":"1vj37mc","webhook_id":"7fa3ec74-69a8-4530-a251-8a13730bd204"}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// sender publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "e6abf767fcd618085b15704ed78dad2218e4ab9172f75e3c3be4c6097152b7e6";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "clickup",
            secret: SECRET,
            body: BODY,
            signature: ("x-signature", SIGNATURE),
            headers: &[],
            id: &crate::providers::kit::body_sha256(BODY.as_bytes()),
            event_type: "taskCreated",
        }
        .assert_verifies_and_signs();
    }
}
