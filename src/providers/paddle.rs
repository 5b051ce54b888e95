//! Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]`, the hex
//! HMAC-SHA256 of `{ts}:{body}` keyed with the notification destination's
//! secret (`pdl_ntfset_...`) as text. Several `h1` appear while Paddle rotates
//! the secret. The event ID is the body's `event_id`, the type `event_type`.
//! The tolerance is Paddle's SDKs' default, 5 s either way.

use super::kit::{check, pairs};
use super::{
    check_timestamp, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Paddle;

const HEADER: &str = "paddle-signature";

fn signed(key: &[u8], ts: &str, body: &[u8]) -> Vec<u8> {
    mac(Digest::Sha256, key, &[ts.as_bytes(), b":", body])
}

impl Scheme for Paddle {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, HEADER)?;
        let mut ts = None;
        let mut candidates = Vec::new();
        for (k, v) in pairs(raw, ';') {
            match k {
                "ts" => ts = Some(v),
                "h1" => candidates.extend(hex::decode(v).ok()),
                _ => {}
            }
        }
        let ts = ts.ok_or_else(|| Rejection::Unauthorized("Paddle-Signature has no ts".into()))?;
        check(keys, &candidates, |key| signed(key, ts, req.body))?;
        check_timestamp(ts, tolerance, now, false)?;
        let json = json_body(req.body, "Paddle")?;
        Verified::new(
            required_json_str(&json, "/event_id", "event_id")?,
            required_json_str(&json, "/event_type", "event_type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let ts = now.to_string();
        let h1 = hex::encode(signed(key, &ts, body));
        vec![("Paddle-Signature".into(), format!("ts={ts};h1={h1}"))]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(5)
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/event_id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "pdl_ntfset_01h8bz3p5c6x1yq2j1g2v3y4z5_test";
    const BODY: &str = r#"{"event_id":"evt_01h8bzakzx3hm2fmen703n5q45","event_type":"transaction.paid","occurred_at":"2023-08-21T11:57:47.390028Z","notification_id":"ntf_01h8bzam1z32agrxjwhjgqk8w6","data":{"id":"txn_01h8bx69629a16wwm9z8rjmak3","status":"paid"}}"#;
    /// Computed with Paddle's official Python SDK, `paddle-python-sdk` 1.16.1
    /// (`PaddleSignature.calculate_hmac`, accepted by `PaddleSignature.verify`).
    const SDK_HEADER: &str =
        "ts=1692619067;h1=e1c1505ec8a3811a14b885f84c5d472996e60add0047a4eab8cafe84bbdb28cb";

    #[test]
    fn sdk_vector_verifies_and_signs() {
        let case = Case::new("paddle", &[SECRET], "");
        let given = case.raw(&[("paddle-signature", SDK_HEADER)], BODY.as_bytes());
        assert_eq!(
            given.event(1692619067),
            (
                "evt_01h8bzakzx3hm2fmen703n5q45".into(),
                "transaction.paid".into()
            )
        );
        let signed = case.signed(BODY.as_bytes(), 1692619067, "-", &[]);
        assert_eq!(signed.header("paddle-signature"), Some(SDK_HEADER));
        given.assert_tamper_and_wrong_secret_refused(1692619067);
    }

    #[test]
    fn rotation_and_tolerance() {
        let case = Case::new("paddle", &["old", SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 1000, "-", &[]);
        let two = format!(
            "ts=1000;h1=00ff;{}",
            &signed.header("paddle-signature").unwrap()[8..]
        );
        let rotated = case.raw(&[("paddle-signature", &two)], BODY.as_bytes());
        assert_eq!(rotated.event(1005).1, "transaction.paid");
        rotated.assert_unauthorized(None, 1006);
        rotated.assert_unauthorized(None, 994);
        assert!(rotated.verify(Some(60), 1060).is_ok());
    }
}
