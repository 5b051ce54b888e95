//! Buildkite (Pipelines webhooks, signature mode): `X-Buildkite-Signature:
//! timestamp=<unix>,signature=<hex>`, the HMAC-SHA256 of `{timestamp}.{body}`
//! keyed with the webhook's token. Buildkite names no tolerance, so none is
//! applied unless `tolerance_secs` sets one. Its webhooks carry no delivery
//! ID: the dedup key is the body's SHA-256. The type is `X-Buildkite-Event`
//! (`build.finished`).

use super::kit::Encoding;
use super::signed_at::{Carrier, SignedAt, Unit, DOT};
use super::signed_body::Field;
use crate::crypto::Digest;

pub const SCHEME: SignedAt = SignedAt {
    provider: "Buildkite",
    carrier: Carrier::List {
        header: "x-buildkite-signature",
        timestamp: "timestamp",
        signature: "signature",
        encoding: Encoding::Hex,
        signature_first: false,
        join: ",",
    },
    layout: DOT,
    digest: Digest::Sha256,
    unit: Unit::Seconds,
    tolerance: None,
    stale_only: false,
    id: Field::BodySha256,
    event_type: Field::Header("x-buildkite-event"),
};

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::TimedVector;

    const BODY: &str = r#"{"event":"build.finished","build":{"id":"f62a1b4d-10f9-4790-bc1c-e2c3a0c80983","number":42,"state":"passed","branch":"main","commit":"a1b2c3d"},"pipeline":{"slug":"hookgate","name":"hookgate"},"sender":{"name":"Ada"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// Buildkite SDK verifies webhooks).
    const HEADER: &str = "timestamp=1716199200,signature=67bc4a1ee7e71c730a687e8e9d0cac6ffa8f0152736e38c7320848e8d00237d5";

    #[test]
    fn vector_verifies_expires_and_signs() {
        TimedVector {
            provider: "buildkite",
            secret: "buildkite-token-18",
            body: BODY,
            headers: &[
                ("x-buildkite-signature", HEADER),
                ("x-buildkite-event", "build.finished"),
            ],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "build.finished",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(Some(300));
    }
}
