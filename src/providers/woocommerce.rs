//! WooCommerce: `X-WC-Webhook-Signature`, the base64 HMAC-SHA256 of the body
//! keyed with the webhook's secret. The event ID is
//! `X-WC-Webhook-Delivery-ID`, the type `X-WC-Webhook-Topic`
//! (`order.created`).
//!
//! When a webhook is saved, WooCommerce pings the URL with the unsigned form
//! body `webhook_id=<n>`; that exact request is answered 200 and not stored,
//! so the webhook can be activated. It proves nothing and stores nothing.

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{
    header, json_body, required_header, Handshake, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Woocommerce;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-wc-webhook-signature",
        prefix: "",
        encoding: Encoding::Base64,
    },
    digest: Digest::Sha256,
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
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        if header(req.headers, SIGNATURE.header.name).is_none() && is_ping(req.body) {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "status": "ok" }),
            )));
        }
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let id = required_header(req.headers, "x-wc-webhook-delivery-id")?;
        let topic = required_header(req.headers, "x-wc-webhook-topic")?;
        json_body(req.body, "WooCommerce")?;
        Verified::new(id.to_string(), topic.to_string()).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        vec![
            SIGNATURE.sign(key, body),
            ("X-WC-Webhook-Delivery-ID".into(), delivery_id.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::Verdict;

    const SECRET: &str = "woo-secret-q";
    const BODY: &str = r#"{"id":727,"status":"processing","currency":"USD","total":"29.35","line_items":[{"id":315,"name":"Woo Single #1"}]}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following WooCommerce's documented scheme.
    const SIGNATURE: &str = "LEEsEPMyZla4r7CtIBwZL73zyuxdGac5Y5KVxuF2dSU=";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("woocommerce", &[SECRET], "");
        let given = case.raw(
            &[
                ("x-wc-webhook-signature", SIGNATURE),
                ("x-wc-webhook-delivery-id", "9f2c"),
                ("x-wc-webhook-topic", "order.created"),
            ],
            BODY.as_bytes(),
        );
        assert_eq!(given.event(0), ("9f2c".into(), "order.created".into()));
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = case.signed(
            BODY.as_bytes(),
            0,
            "9f2c",
            &[("x-wc-webhook-topic", "order.created")],
        );
        assert_eq!(signed.header("x-wc-webhook-signature"), Some(SIGNATURE));
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
