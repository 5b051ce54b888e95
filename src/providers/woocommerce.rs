//! WooCommerce: `X-WC-Webhook-Signature`, the base64 HMAC-SHA256 of the body
//! keyed with the webhook's secret. The event ID is
//! `X-WC-Webhook-Delivery-ID`, the type `X-WC-Webhook-Topic`
//! (`order.created`).
//!
//! When a webhook is saved, WooCommerce pings the URL with the unsigned form
//! body `webhook_id=<n>`; that exact request is answered 200 and not stored,
//! so the webhook can be activated. It proves nothing and stores nothing.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use super::{header, Handshake, Inbound, Keys, Rejection, Scheme, Verdict};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Woocommerce;

const SIGNED: SignedBody = SignedBody {
    provider: "WooCommerce",
    signature: BodyHmac::new(
        "x-wc-webhook-signature",
        "",
        Encoding::Base64,
        Digest::Sha256,
    ),
    id: Field::Header("X-WC-Webhook-Delivery-ID"),
    event_type: Field::Header("x-wc-webhook-topic"),
    sent_at: None,
};

/// `webhook_id=<digits>` and nothing else.
fn is_ping(body: &[u8]) -> bool {
    body.strip_prefix(b"webhook_id=")
        .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
}

impl Scheme for Woocommerce {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        if header(req.headers, SIGNED.signature.header.name).is_none() && is_ping(req.body) {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "status": "ok" }),
            )));
        }
        SIGNED.verify(keys, tolerance, req, now)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        SIGNED.sign(key, body, now, delivery_id)
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::{Case, Vector};
    use crate::providers::Verdict;

    const SECRET: &str = "woo-secret-q";
    const BODY: &str = r#"{"id":727,"status":"processing","currency":"USD","total":"29.35","line_items":[{"id":315,"name":"Woo Single #1"}]}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following WooCommerce's documented scheme.
    const SIGNATURE: &str = "LEEsEPMyZla4r7CtIBwZL73zyuxdGac5Y5KVxuF2dSU=";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "woocommerce",
            secret: SECRET,
            body: BODY,
            signature: ("x-wc-webhook-signature", SIGNATURE),
            headers: &[
                ("x-wc-webhook-delivery-id", "9f2c"),
                ("x-wc-webhook-topic", "order.created"),
            ],
            id: "9f2c",
            event_type: "order.created",
        }
        .assert_verifies_and_signs();
    }

    #[test]
    fn the_creation_ping_is_answered_and_nothing_else_unsigned_is() {
        let case = Case::new("woocommerce", &[SECRET], "");
        assert!(matches!(
            case.raw(&[], b"webhook_id=12").verify(None, 0),
            Ok(Verdict::Handshake(_))
        ));
        case.raw(&[], b"webhook_id=12&x=1")
            .assert_unauthorized(None, 0);
        case.raw(&[], BODY.as_bytes()).assert_unauthorized(None, 0);
    }
}
