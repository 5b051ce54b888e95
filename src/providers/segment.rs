//! Segment (Webhooks destination): `X-Signature`, the hex HMAC-SHA1 of the
//! body keyed with the destination's shared secret. The event ID is the
//! message's `messageId`, the type its `type` (`track`, `identify`, ...).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Segment",
    signature: BodyHmac::new("x-signature", "", Encoding::Hex, Digest::Sha1),
    id: Field::Pointer("/messageId"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "segment-secret-9";
    const BODY: &str = r#"{"messageId":"ajs-2c5f6d1e8a7b4c3d9e0f1a2b3c4d5e6f","type":"track","event":"Order Completed","userId":"user-42","properties":{"revenue":42.5},"timestamp":"2024-05-20T10:00:00.000Z","sentAt":"2024-05-20T10:00:00.100Z"}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// sender publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "9171558af035765b6a7f22d07db07ac556a19861";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "segment",
            secret: SECRET,
            body: BODY,
            signature: ("x-signature", SIGNATURE),
            headers: &[],
            id: "ajs-2c5f6d1e8a7b4c3d9e0f1a2b3c4d5e6f",
            event_type: "track",
        }
        .assert_verifies_and_signs();
    }
}
