//! Customer.io (reporting webhooks): `X-CIO-Signature`, the hex HMAC-SHA256
//! of `v0:{X-CIO-Timestamp}:{body}` keyed with the webhook's signing key,
//! Slack's layout. Customer.io names no tolerance; `tolerance_secs` sets
//! one. The event ID is the body's `event_id`; the type is
//! `{object_type}.{metric}` (`email.delivered`).

use super::kit::{Encoding, SignatureHeader};
use super::signed_at::{Carrier, Layout, SignedAt, Unit};
use super::signed_body::{Field, Json};
use super::{required_json_str, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedAt = SignedAt {
    provider: "Customer.io",
    carrier: Carrier::Headers {
        signature: SignatureHeader::new("x-cio-signature", "", Encoding::Hex),
        timestamp: "x-cio-timestamp",
    },
    layout: Layout {
        before: "v0:",
        between: ":",
        body_first: false,
    },
    digest: Digest::Sha256,
    unit: Unit::Seconds,
    tolerance: None,
    stale_only: false,
    id: Field::Pointer("/event_id"),
    event_type: Field::Rule(object_and_metric),
};

fn object_and_metric(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let json = json.get()?;
    Ok(format!(
        "{}.{}",
        required_json_str(json, "/object_type", "object_type")?,
        required_json_str(json, "/metric", "metric")?
    ))
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::TimedVector;

    const BODY: &str = r#"{"data":{"customer_id":"42","delivery_id":"RPILAgABcRhIBqSp7kiPekGBIeVh","identifiers":{"id":"42"},"recipient":"ada@example.com"},"event_id":"01E2EMRMM6TZ12TF9WGZN0WJQT","metric":"delivered","object_type":"email","timestamp":1716199200}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// Customer.io SDK verifies reporting webhooks).
    const SIGNATURE: &str = "5fed809cdf80d61245c17eb98a55f6e53e17ab3624886e698844be2d6ac721f7";

    #[test]
    fn vector_verifies_expires_and_signs() {
        TimedVector {
            provider: "customer-io",
            secret: "cio-secret-21",
            body: BODY,
            headers: &[
                ("x-cio-signature", SIGNATURE),
                ("x-cio-timestamp", "1716199200"),
            ],
            id: "01E2EMRMM6TZ12TF9WGZN0WJQT",
            event_type: "email.delivered",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(Some(300));
    }
}
