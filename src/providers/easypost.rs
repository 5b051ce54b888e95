//! EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex>`, the HMAC-SHA256 of
//! the body keyed with the webhook secret (EasyPost's SDKs NFKD-normalise
//! the secret first, which leaves the ASCII secrets EasyPost issues as they
//! are). The event ID is the body's `id` (`evt_...`), the type its
//! `description` (`tracker.updated`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "EasyPost",
    signature: BodyHmac::new(
        "x-hmac-signature",
        "hmac-sha256-hex=",
        Encoding::Hex,
        Digest::Sha256,
    ),
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/description"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "easypost-secret-10";
    const BODY: &str = r#"{"id":"evt_1b7a9f2c1e5d4c3b8a7f6e5d4c3b2a1f","object":"Event","mode":"test","description":"tracker.updated","previous_attributes":{"status":"pre_transit"},"result":{"id":"trk_0c1d2e3f4a5b6c7d","object":"Tracker","status":"in_transit","tracking_code":"EZ2000000002"},"status":"pending","created_at":"2024-05-20T10:00:00Z"}"#;
    /// Accepted by EasyPost's official Python SDK, `easypost` 10.7.0
    /// (`easypost.util.validate_webhook`, which refuses it under another
    /// secret); hookgate's signer produces the same header.
    const SIGNATURE: &str =
        "hmac-sha256-hex=1a59329a260cb81eb1e124ef2dfe20dbeb62eb4af42d9fc12099e2df169ea836";

    #[test]
    fn sdk_vector_verifies_and_signs() {
        Vector {
            provider: "easypost",
            secret: SECRET,
            body: BODY,
            signature: ("x-hmac-signature", SIGNATURE),
            headers: &[],
            id: "evt_1b7a9f2c1e5d4c3b8a7f6e5d4c3b2a1f",
            event_type: "tracker.updated",
        }
        .assert_verifies_and_signs();
    }
}
