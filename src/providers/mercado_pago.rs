//! Mercado Pago: `x-signature: ts=..,v1=<hex>`, the HMAC-SHA256, keyed
//! with the application's webhook secret, of the manifest
//! `id:{data.id};request-id:{x-request-id};ts:{ts};`. `data.id` is the
//! query's `data.id` (lower-cased, as Mercado Pago signs alphanumeric IDs),
//! else the body's; when both are present they must agree.
//!
//! The manifest does not cover the rest of the body: a notification only
//! names the resource, which the receiver reads back from Mercado Pago's
//! API by `data.id`, and that ID is signed. Mercado Pago names no
//! tolerance, so none applies unless the source sets `tolerance_secs`. The
//! event ID is the body's `id`, the type its `action` (`payment.updated`),
//! else its `type`.

use super::kit::{check, millis_to_secs, timestamped_hex};
use super::{
    check_timestamp, json_body, json_str, required_header, required_json_str, signature_header,
    Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct MercadoPago;

fn manifest(data_id: &str, request_id: &str, ts: &str) -> String {
    format!("id:{data_id};request-id:{request_id};ts:{ts};")
}

fn lower(id: &str) -> String {
    id.to_ascii_lowercase()
}

impl Scheme for MercadoPago {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "x-signature")?;
        let (ts, candidates) = timestamped_ts(raw)?;
        let request_id = required_header(req.headers, "x-request-id")?;
        let json = json_body(req.body, "Mercado Pago")?;
        let body_id = json_str(&json, "/data/id").map(|id| lower(&id));
        let data_id = match (req.query_param("data.id").map(|id| lower(&id)), body_id) {
            (Some(q), Some(b)) if q != b => {
                return Err(Rejection::BadRequest(
                    "the query's data.id and the body's differ".into(),
                ))
            }
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => {
                return Err(Rejection::BadRequest(
                    "no data.id in the query or body".into(),
                ))
            }
        };
        let signed = manifest(&data_id, request_id, &ts);
        check(keys, &candidates, |key| {
            mac(Digest::Sha256, key, &[signed.as_bytes()])
        })?;
        if tolerance.is_some() {
            let secs = if ts.len() > 11 {
                millis_to_secs(&ts)?
            } else {
                ts
            };
            check_timestamp(&secs, tolerance, now, false)?;
        }
        let id = required_json_str(&json, "/id", "id")?;
        let event_type = json_str(&json, "/action")
            .or_else(|| json_str(&json, "/type"))
            .ok_or_else(|| Rejection::BadRequest("body has neither action nor type".into()))?;
        Verified::new(id, event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let data_id = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|j| json_str(&j, "/data/id"))
            .unwrap_or_default();
        let ts = now.to_string();
        let signed = manifest(&lower(&data_id), delivery_id, &ts);
        let v1 = hex::encode(mac(Digest::Sha256, key, &[signed.as_bytes()]));
        vec![
            ("x-signature".into(), format!("ts={ts},v1={v1}")),
            ("x-request-id".into(), delivery_id.to_string()),
        ]
    }
}

/// `ts=..,v1=..` as Mercado Pago writes it (Stripe's form, `ts` for `t`).
fn timestamped_ts(raw: &str) -> Result<(String, Vec<Vec<u8>>), Rejection> {
    timestamped_hex(&raw.replacen("ts=", "t=", 1), "x-signature")
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use axum::http::Uri;

    const SECRET: &str = "mp-webhook-secret-6e0b8f";
    const BODY: &str = r#"{"action":"payment.updated","api_version":"v1","data":{"id":"123456789"},"date_created":"2026-02-11T10:45:00Z","id":118362451922,"live_mode":false,"type":"payment","user_id":"241261700"}"#;
    const REQUEST_ID: &str = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e";
    /// Mercado Pago's SDKs carry no verifier: computed with Python's
    /// `hmac` module from the documented manifest.
    const SIGNATURE: &str =
        "ts=1770806700,v1=6c2bdb01d8dd17f594d3d9c405ff1808988bd990be52504e5b7ebfa3964b747c";
    /// The same for `data.id=ABC123def` in the query (signed lower-cased).
    const SIGNATURE_ALNUM: &str =
        "ts=1770806700,v1=d89efd6af23f8a40a7157f11650f8c2afa0b5206480c3fb93c6440a6733c65c5";

    fn given(signature: &str, body: &str, query: &str) -> Case {
        let mut c = Case::new("mercado-pago", &["rotated-out", SECRET], "").raw(
            &[("x-signature", signature), ("x-request-id", REQUEST_ID)],
            body.as_bytes(),
        );
        c.uri = format!("/ingest/mp{query}").parse::<Uri>().unwrap();
        c
    }

    #[test]
    fn vector_verifies_and_signs() {
        let expected = ("118362451922".to_string(), "payment.updated".to_string());
        assert_eq!(given(SIGNATURE, BODY, "").event(0), expected);
        assert_eq!(
            given(SIGNATURE, BODY, "?data.id=123456789&type=payment").event(0),
            expected
        );
        let alnum = BODY.replace("123456789", "abc123DEF");
        assert_eq!(
            given(SIGNATURE_ALNUM, &alnum, "?data.id=ABC123def&type=payment").event(0),
            expected
        );
        let signed = Case::new("mercado-pago", &[SECRET], "").signed(
            BODY.as_bytes(),
            1770806700,
            REQUEST_ID,
            &[],
        );
        assert_eq!(signed.header("x-signature"), Some(SIGNATURE));
        assert_eq!(signed.header("x-request-id"), Some(REQUEST_ID));
    }

    #[test]
    fn forged_ids_request_ids_and_secrets_are_refused() {
        let tampered = BODY.replace("123456789", "123456780");
        given(SIGNATURE, &tampered, "").assert_unauthorized(None, 0);
        assert!(matches!(
            given(SIGNATURE, BODY, "?data.id=123456780").verify(None, 0),
            Err(crate::providers::Rejection::BadRequest(_))
        ));
        let mut other_request = given(SIGNATURE, BODY, "");
        other_request.headers[1].1 = "bb56a2f1-6aae-46ac-982e-9dcd3581d08f".into();
        other_request.assert_unauthorized(None, 0);
        let mut wrong = given(SIGNATURE, BODY, "");
        wrong.keys = crate::providers::testing::keys(&["not-the-secret"]);
        wrong.assert_unauthorized(None, 0);
        let stale = given(SIGNATURE, BODY, "");
        assert!(stale.verify(Some(300), 1770806700 + 300).is_ok());
        stale.assert_unauthorized(Some(300), 1770806700 + 301);
    }
}
