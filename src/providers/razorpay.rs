//! Razorpay: `X-Razorpay-Signature`, the hex HMAC-SHA256 of the body keyed
//! with the webhook secret. The event ID is `x-razorpay-event-id`, the type
//! the body's `event` (`payment.captured`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Razorpay",
    signature: BodyHmac::new("x-razorpay-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Header("x-razorpay-event-id"),
    event_type: Field::Pointer("/event"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "rzp_webhook_test_secret";
    const BODY: &str = r#"{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_DESlfW9H8K9uqM","amount":100}}},"created_at":1567674606}"#;
    /// Computed with Python's `hmac` module and accepted by Razorpay's
    /// official Python SDK, `razorpay` 2.0.1
    /// (`client.utility.verify_webhook_signature`).
    const SIGNATURE: &str = "021129e557cc9acff02e69c1df06cf8077d0cd14f33ec732a2108878118288e3";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "razorpay",
            secret: SECRET,
            body: BODY,
            signature: ("x-razorpay-signature", SIGNATURE),
            headers: &[("x-razorpay-event-id", "Ev_1")],
            id: "Ev_1",
            event_type: "payment.captured",
        }
        .assert_verifies_and_signs();
    }
}
