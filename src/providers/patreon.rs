//! Patreon: `X-Patreon-Signature`, the hex HMAC-MD5 of the body keyed with
//! the webhook's secret. Patreon sends no event ID of its own: the dedup key
//! is the body's SHA-256. The type is `X-Patreon-Event`
//! (`members:pledge:create`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Patreon",
    signature: BodyHmac::new("x-patreon-signature", "", Encoding::Hex, Digest::Md5),
    id: Field::BodySha256,
    event_type: Field::Header("x-patreon-event"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "patreon-secret-11";
    const BODY: &str = r#"{"data":{"id":"0b2e4e4a-5f8c-4d3e-9a1b-1c2d3e4f5a6b","type":"member","attributes":{"full_name":"Ada","patron_status":"active_patron","currently_entitled_amount_cents":500}},"included":[]}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// sender publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "2a2f2fa0a3e9d0bec51ea279ff5e624a";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "patreon",
            secret: SECRET,
            body: BODY,
            signature: ("x-patreon-signature", SIGNATURE),
            headers: &[("x-patreon-event", "members:pledge:create")],
            id: &crate::providers::kit::body_sha256(BODY.as_bytes()),
            event_type: "members:pledge:create",
        }
        .assert_verifies_and_signs();
    }
}
