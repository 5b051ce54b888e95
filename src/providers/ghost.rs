//! Ghost: `X-Ghost-Signature: sha256=<hex>, t=<ms>`, the HMAC-SHA256 of the
//! body followed by the timestamp, keyed with the custom integration's
//! webhook secret. Ghost names no tolerance; `tolerance_secs` sets one.
//! Ghost sends neither an event ID nor an event name: the dedup key is the
//! body's SHA-256, and the type is the body's first member, the resource
//! (`post`, `page`, `member`, ...), since `post.published` and `post.edited`
//! bodies look alike.

use super::kit::Encoding;
use super::signed_at::{Carrier, Layout, SignedAt, Unit};
use super::signed_body::{Field, Json};
use super::{Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedAt = SignedAt {
    provider: "Ghost",
    carrier: Carrier::List {
        header: "x-ghost-signature",
        timestamp: "t",
        signature: "sha256",
        encoding: Encoding::Hex,
        signature_first: true,
        join: ", ",
    },
    layout: Layout {
        before: "",
        between: "",
        body_first: true,
    },
    digest: Digest::Sha256,
    unit: Unit::Millis,
    tolerance: None,
    stale_only: false,
    id: Field::BodySha256,
    event_type: Field::Rule(resource),
};

fn resource(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    json.get()?
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .ok_or_else(|| Rejection::BadRequest("the Ghost body names no resource".into()))
}

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::TimedVector;

    const BODY: &str = r#"{"post":{"current":{"id":"6650c1a2f1b2c3d4e5f60718","uuid":"8d0f0b1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b","title":"Hello from Ghost","slug":"hello-from-ghost","status":"published","published_at":"2024-05-20T10:00:00.000Z"},"previous":{"status":"draft","published_at":null}}}"#;
    /// Computed from the documented scheme (Ghost's webhook code signs the
    /// body then the millisecond timestamp) with Python's `hmac` module.
    const HEADER: &str =
        "sha256=a69c8761921444e08585360625c578eb67c78c9db9c3cf00e134b2b47039393e, t=1716199200000";

    #[test]
    fn vector_verifies_expires_and_signs() {
        TimedVector {
            provider: "ghost",
            secret: "ghost-secret-19",
            body: BODY,
            headers: &[("x-ghost-signature", HEADER)],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "post",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(Some(300));
    }
}
