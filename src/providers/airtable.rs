//! Airtable: `X-Airtable-Content-MAC: hmac-sha256=<hex>`, the HMAC-SHA256 of
//! the body keyed with the webhook's `macSecretBase64` decoded (the secret
//! is configured as Airtable returns it, in base64). A notification only
//! says "this webhook has new payloads" and carries no ID: the dedup key is
//! the body's SHA-256 (a retry resends the same bytes; notifications differ
//! in `timestamp`). The type is `notification`.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Base64Keyed, Field, Json, SignedBody};
use super::{Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: Base64Keyed = Base64Keyed(SignedBody {
    provider: "Airtable",
    signature: BodyHmac::new(
        "x-airtable-content-mac",
        "hmac-sha256=",
        Encoding::Hex,
        Digest::Sha256,
    ),
    id: Field::BodySha256,
    event_type: Field::Rule(notification),
    sent_at: None,
});

fn notification(_: &Inbound<'_>, _: &Json<'_>) -> Result<String, Rejection> {
    Ok("notification".into())
}

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::{Case, Vector};

    /// `macSecretBase64` as Airtable returns it.
    const SECRET: &str = "c2VjcmV0LWFpcnRhYmxlLW1hYy1rZXktMTU=";
    const BODY: &str = r#"{"base":{"id":"appJk7W8zQ2kU9mXy"},"webhook":{"id":"achW8xVQ1rN2pK7Lm"},"timestamp":"2024-05-20T10:00:00.000Z"}"#;
    /// Computed from the documented scheme with Python's `hmac` module over
    /// the base64-decoded secret (no Airtable SDK verifies notifications).
    const SIGNATURE: &str =
        "hmac-sha256=d4b13e1ac3dadfb12e8072bcac09a3188deec3c43d30492a78f8598e7bfabfc6";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "airtable",
            secret: SECRET,
            body: BODY,
            signature: ("x-airtable-content-mac", SIGNATURE),
            headers: &[],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "notification",
        }
        .assert_verifies_and_signs();
    }

    #[test]
    fn the_secret_must_be_base64() {
        let text = "name = \"s\"\nprovider = \"airtable\"\nsecrets = [\"not base64!\"]\n";
        let source: crate::config::SourceConfig = toml::from_str(text).unwrap();
        let err = crate::providers::Provider::from_config(&source, "sources[0]").unwrap_err();
        assert_eq!(err.key, "sources[0].secrets[0]");
        // The raw secret (not decoded) signs nothing Airtable would send.
        let raw = Case::new("airtable", &["c2VjcmV0"], "");
        raw.raw(&[("x-airtable-content-mac", SIGNATURE)], BODY.as_bytes())
            .assert_unauthorized(None, 0);
    }
}
