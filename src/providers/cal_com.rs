//! Cal.com: `X-Cal-Signature-256`, the hex HMAC-SHA256 of the body keyed
//! with the webhook's secret. Cal.com sends no event ID of its own: the
//! dedup key is the body's SHA-256. The type is the body's `triggerEvent`
//! (`BOOKING_CREATED`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Cal.com",
    signature: BodyHmac::new("x-cal-signature-256", "", Encoding::Hex, Digest::Sha256),
    id: Field::BodySha256,
    event_type: Field::Pointer("/triggerEvent"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "cal-secret-7";
    const BODY: &str = r#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2024-05-20T10:00:00.000Z","payload":{"type":"30min","title":"30 min between Ada and Bob","startTime":"2024-05-21T09:00:00Z","endTime":"2024-05-21T09:30:00Z","uid":"bFJeNb2uX8ANpT3JL5EfXw","bookingId":91}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// sender publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "d17bd1dca5aab62486c38bc0fc4bb8a644294e67575dd82ff71018b24827bbbf";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "cal-com",
            secret: SECRET,
            body: BODY,
            signature: ("x-cal-signature-256", SIGNATURE),
            headers: &[],
            id: &crate::providers::kit::body_sha256(BODY.as_bytes()),
            event_type: "BOOKING_CREATED",
        }
        .assert_verifies_and_signs();
    }
}
