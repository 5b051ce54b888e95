//! Cashfree Payments (Payment Gateway, Payouts V2, Secure ID):
//! `x-webhook-signature` is the base64 HMAC-SHA256 of
//! `{x-webhook-timestamp}{body}` keyed with the client secret; the
//! timestamp is Unix milliseconds. Cashfree names no tolerance, so none
//! applies unless the source sets `tolerance_secs`. The event ID is the
//! `x-idempotency-key` header when sent, else the body's SHA-256 (Cashfree
//! resends the same bytes); the type is the body's `type`
//! (`PAYMENT_SUCCESS_WEBHOOK`).

use super::kit::{body_sha256, check, millis_to_secs, Encoding, SignatureHeader};
use super::{
    check_timestamp, header, json_body, required_json_str, signature_header, Inbound, Keys,
    Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Cashfree;

const SIGNATURE: SignatureHeader =
    SignatureHeader::new("x-webhook-signature", "", Encoding::Base64);

fn signed(key: &[u8], ms: &str, body: &[u8]) -> Vec<u8> {
    mac(Digest::Sha256, key, &[ms.as_bytes(), body])
}

impl Scheme for Cashfree {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = SIGNATURE.read(req.headers)?;
        let ms = signature_header(req.headers, "x-webhook-timestamp")?;
        check(keys, &[given], |key| signed(key, ms, req.body))?;
        if tolerance.is_some() {
            check_timestamp(&millis_to_secs(ms)?, tolerance, now, false)?;
        }
        let json = json_body(req.body, "Cashfree")?;
        let event_type = required_json_str(&json, "/type", "type")?;
        let id = header(req.headers, "x-idempotency-key")
            .map(str::to_string)
            .unwrap_or_else(|| body_sha256(req.body));
        Verified::new(id, event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let ms = (now * 1000).to_string();
        vec![
            (
                "x-webhook-signature".into(),
                SIGNATURE.value(&signed(key, &ms, body)),
            ),
            ("x-webhook-timestamp".into(), ms),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::Case;

    const SECRET: &str = "cfsk_ma_test_4b1d2e";
    const BODY: &str = r#"{"data":{"order":{"order_id":"order_OFR_2","order_amount":2,"order_currency":"INR","order_tags":null},"payment":{"cf_payment_id":5114910371209,"payment_status":"SUCCESS","payment_amount":2,"payment_currency":"INR","payment_message":"Transaction Success","payment_time":"2026-02-11T16:10:00+05:30","bank_reference":"1234567890","auth_id":null,"payment_group":"upi"},"customer_details":{"customer_name":null,"customer_id":"7112AAA812234","customer_email":"test@example.com","customer_phone":"9908734801"}},"event_time":"2026-02-11T16:10:02+05:30","type":"PAYMENT_SUCCESS_WEBHOOK"}"#;
    const TIMESTAMP_MS: &str = "1770806402000";
    /// Computed with Python's `hmac` module and accepted by Cashfree's
    /// Python SDK, `cashfree_pg` 6.0.1 (`Cashfree.PGVerifyWebhookSignature`).
    const SIGNATURE: &str = "wf5o0YMj9E9XiVF4HqCr2/QmvffCWQxq4EpGEB4ivp8=";

    #[test]
    fn vector_verifies_and_signs() {
        let now = 1770806402;
        let case = Case::new("cashfree", &["rotated-out", SECRET], "");
        let headers = [
            ("x-webhook-signature", SIGNATURE),
            ("x-webhook-timestamp", TIMESTAMP_MS),
        ];
        let given = case.raw(&headers, BODY.as_bytes());
        let expected = (
            body_sha256(BODY.as_bytes()),
            "PAYMENT_SUCCESS_WEBHOOK".into(),
        );
        assert_eq!(given.event(now), expected);
        given.assert_tamper_and_wrong_secret_refused(now);
        let mut keyed = headers.to_vec();
        keyed.push(("x-idempotency-key", "idem-77"));
        assert_eq!(case.raw(&keyed, BODY.as_bytes()).event(now).0, "idem-77");
        let signed = Case::new("cashfree", &[SECRET], "").signed(BODY.as_bytes(), now, "-", &[]);
        assert_eq!(signed.header("x-webhook-signature"), Some(SIGNATURE));
        assert_eq!(signed.header("x-webhook-timestamp"), Some(TIMESTAMP_MS));
    }

    #[test]
    fn a_stale_timestamp_is_refused_when_a_tolerance_is_set() {
        let now = 1770806402;
        let case = Case::new("cashfree", &[SECRET], "tolerance_secs = 300");
        let given = case.signed(BODY.as_bytes(), now, "-", &[]);
        assert!(given.verify(Some(300), now + 300).is_ok());
        given.assert_unauthorized(Some(300), now + 301);
        assert!(given.verify(None, now + 100_000).is_ok(), "none by default");
    }
}
