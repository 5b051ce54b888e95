//! Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the body.
//! The event ID is `X-Shopify-Event-Id`, else `X-Shopify-Webhook-Id`; the
//! type is `X-Shopify-Topic`.

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::check;
use super::{
    header, json_body, required_header, signature_header, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::crypto::hmac_sha256;
use crate::ids::fresh_uuid;

#[derive(Debug)]
pub struct Shopify;

impl Scheme for Shopify {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "x-shopify-hmac-sha256")?;
        let given = B64
            .decode(raw)
            .map_err(|_| Rejection::Unauthorized("X-Shopify-Hmac-Sha256 is not base64".into()))?;
        check(keys, &[given], |key| hmac_sha256(key, &[req.body]).to_vec())?;
        let id = header(req.headers, "x-shopify-event-id")
            .or_else(|| header(req.headers, "x-shopify-webhook-id"))
            .ok_or_else(|| {
                Rejection::BadRequest(
                    "missing header X-Shopify-Event-Id or X-Shopify-Webhook-Id".into(),
                )
            })?;
        let topic = required_header(req.headers, "x-shopify-topic")?;
        json_body(req.body, "Shopify")?;
        Verified::new(id.to_string(), topic.to_string()).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        sign(key, body, delivery_id)
    }
}

pub fn signature(key: &[u8], body: &[u8]) -> String {
    B64.encode(hmac_sha256(key, &[body]))
}

pub fn sign(key: &[u8], body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    vec![
        ("X-Shopify-Hmac-Sha256".into(), signature(key, body)),
        ("X-Shopify-Webhook-Id".into(), fresh_uuid()),
        ("X-Shopify-Event-Id".into(), delivery_id.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{event, headers, keys, post};

    #[test]
    fn verifies_and_prefers_event_id() {
        let body = br#"{"id":820982911946154508}"#;
        let sig = signature(b"shpss_1", body);
        let h = headers(&[
            ("x-shopify-hmac-sha256", &sig),
            ("x-shopify-webhook-id", "w-1"),
            ("x-shopify-event-id", "e-1"),
            ("x-shopify-topic", "orders/create"),
        ]);
        let v = post(&Shopify, &keys(&["shpss_0", "shpss_1"]), None, &h, body, 0).unwrap();
        assert_eq!(v, event("e-1", "orders/create"));
        let h = headers(&[
            ("x-shopify-hmac-sha256", &sig),
            ("x-shopify-webhook-id", "w-1"),
            ("x-shopify-topic", "orders/create"),
        ]);
        let v = post(&Shopify, &keys(&["shpss_1"]), None, &h, body, 0).unwrap();
        assert_eq!(v, event("w-1", "orders/create"));
        assert!(matches!(
            post(&Shopify, &keys(&["other"]), None, &h, body, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }
}
