//! Sanity (GROQ-powered webhooks): `sanity-webhook-signature: t=<ms>,v1=<sig>`,
//! the HMAC-SHA256 of `{t}.{body}` keyed with the webhook's secret, in
//! URL-safe base64 without padding. The event ID is the `idempotency-key`
//! header, the same on every retry; the type is `sanity-operation`
//! (`create`, `update`, `delete`). Sanity's toolkit checks no age, so there
//! is no tolerance unless `tolerance_secs` sets one.

use super::kit::Encoding;
use super::signed_at::{Carrier, SignedAt, Unit, DOT};
use super::signed_body::Field;
use crate::crypto::Digest;

pub const SCHEME: SignedAt = SignedAt {
    provider: "Sanity",
    carrier: Carrier::List {
        header: "sanity-webhook-signature",
        timestamp: "t",
        signature: "v1",
        encoding: Encoding::Base64Url,
        signature_first: false,
        join: ",",
    },
    layout: DOT,
    digest: Digest::Sha256,
    unit: Unit::Millis,
    tolerance: None,
    stale_only: false,
    id: Field::Header("idempotency-key"),
    event_type: Field::Header("sanity-operation"),
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::TimedVector;

    /// Signed by Sanity's own toolkit, `@sanity/webhook` 4.0.4
    /// (`encodeSignatureHeader`), and accepted by its `isValidSignature`,
    /// which also accepts hookgate's signer's header (the same string).
    const HEADER: &str = "t=1716199200000,v1=LrPaQZIGuJfvugSNsnVMLAQ_3OBGwoH1uaIXBtLEKrI";
    const BODY: &str = r#"{"_id":"movie_10681","_type":"movie","_rev":"Ot3Bf2uNbvJqGa4mnkEDyK","title":"WALL-E","slug":{"_type":"slug","current":"wall-e"},"releaseDate":"2008-06-22"}"#;

    #[test]
    fn sdk_vector_verifies_expires_and_signs() {
        TimedVector {
            provider: "sanity",
            secret: "sanity-secret-17",
            body: BODY,
            headers: &[
                ("sanity-webhook-signature", HEADER),
                ("idempotency-key", "idem-3f1b0a2c"),
                ("sanity-operation", "update"),
            ],
            id: "idem-3f1b0a2c",
            event_type: "update",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(Some(300));
    }
}
