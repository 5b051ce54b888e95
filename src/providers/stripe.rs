//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, the hex
//! HMAC-SHA256 of `{t}.{body}` keyed with the whole `whsec_...` string.
//! Only stale timestamps are refused, as Stripe's own libraries do.

use super::kit::check;
use super::{
    check_timestamp, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::hmac_sha256;

pub const SIGNATURE_HEADER: &str = "stripe-signature";

#[derive(Debug)]
pub struct Stripe;

impl Scheme for Stripe {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let (timestamp, candidates) = parse(signature_header(req.headers, SIGNATURE_HEADER)?)?;
        check(keys, &candidates, |key| {
            hmac_sha256(key, &[timestamp.as_bytes(), b".", req.body]).to_vec()
        })?;
        check_timestamp(timestamp, tolerance, now, true)?;
        let json = json_body(req.body, "Stripe")?;
        Verified::new(
            required_json_str(&json, "/id", "event id")?,
            required_json_str(&json, "/type", "event type")?,
        )
        .map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        sign(key, body, now)
    }
    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
    fn body_id_pointer(&self) -> Option<&str> {
        Some("/id")
    }
}

/// The timestamp and every hex `v1` signature of a `Stripe-Signature`
/// value. Items are read as Stripe's own libraries read them: split on `,`
/// and the first `=`, keys and values taken as written.
fn parse(raw: &str) -> Result<(&str, Vec<Vec<u8>>), Rejection> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for item in raw.split(',') {
        match item.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", sig)) => candidates.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp
        .ok_or_else(|| Rejection::Unauthorized("Stripe-Signature has no timestamp".into()))?;
    if candidates.is_empty() {
        return Err(Rejection::Unauthorized(
            "Stripe-Signature has no v1 signature".into(),
        ));
    }
    Ok((timestamp, candidates))
}

pub fn signature(key: &[u8], body: &[u8], now: i64) -> String {
    let t = now.to_string();
    let mac = hmac_sha256(key, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

pub fn sign(key: &[u8], body: &[u8], now: i64) -> Vec<(String, String)> {
    vec![("Stripe-Signature".into(), signature(key, body, now))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys, post};

    const BODY: &[u8] = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const PUBLISHED: &str = "v1=af4ead0627a34a8cca29808e8de9ada8e41a92e6237c63cef6eacf51d36cca34";

    #[test]
    fn published_vector_signs_and_verifies() {
        let sig = signature(b"whsec_test_secret", BODY, 1614265330);
        assert_eq!(sig, format!("t=1614265330,{PUBLISHED}"));
        // Stripe events carry a type; the vector's body has none, so the
        // signature passes and the body is then refused as incomplete.
        let h = headers(&[(
            "stripe-signature",
            &format!("t=1614265330,v0=00,{PUBLISHED}"),
        )]);
        let err = post(
            &Stripe,
            &keys(&["whsec_test_secret"]),
            Some(300),
            &h,
            BODY,
            1614265330,
        )
        .unwrap_err();
        assert!(matches!(err, Rejection::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn tolerance_is_stale_only_and_rotation_works() {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        let ks = keys(&["whsec_old", "whsec_new"]);
        let h = headers(&[("stripe-signature", &signature(b"whsec_new", body, 1000))]);
        let ok = post(&Stripe, &ks, Some(300), &h, body, 1200).unwrap();
        assert_eq!(
            ok,
            Verdict::Event(Verified::new("evt_1".into(), "invoice.paid".into()).unwrap())
        );
        assert!(
            post(&Stripe, &ks, Some(300), &h, body, 700).is_ok(),
            "future is accepted"
        );
        assert!(matches!(
            post(&Stripe, &ks, Some(300), &h, body, 1301),
            Err(Rejection::Unauthorized(_))
        ));
        assert!(matches!(
            post(&Stripe, &keys(&["whsec_other"]), Some(300), &h, body, 1000),
            Err(Rejection::Unauthorized(_))
        ));
        let mut tampered = body.to_vec();
        tampered[8] = b'2';
        assert!(post(&Stripe, &ks, Some(300), &h, &tampered, 1000).is_err());
    }
}
