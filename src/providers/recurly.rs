//! Recurly (JSON webhooks): `recurly-signature: {ms},{hex}[,{hex}...]`, the
//! Unix time in milliseconds and one hex HMAC-SHA256 of `{ms}.{body}` per
//! key that is valid (two for a day after the endpoint's key is rotated),
//! keyed with the endpoint's secret key. The time counts within ±300 s,
//! the tolerance of Recurly's client libraries. The event ID is the body's
//! `id`, the type `{object_type}.{event_type}` (`subscription.created`).

use super::kit::{check, dotted_sha256, millis_to_secs};
use super::{
    check_timestamp, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};

#[derive(Debug)]
pub struct Recurly;

impl Scheme for Recurly {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "recurly-signature")?;
        let mut items = raw.split(',').map(str::trim);
        let ms = items.next().unwrap_or_default();
        let candidates: Vec<Vec<u8>> = items.filter_map(|s| hex::decode(s).ok()).collect();
        if candidates.is_empty() {
            return Err(Rejection::Unauthorized(
                "recurly-signature is not {timestamp},{hex signature}".into(),
            ));
        }
        check(keys, &candidates, |key| dotted_sha256(key, ms, req.body))?;
        check_timestamp(&millis_to_secs(ms)?, tolerance, now, false)?;
        let json = json_body(req.body, "Recurly")?;
        let object = required_json_str(&json, "/object_type", "object_type")?;
        let event = required_json_str(&json, "/event_type", "event_type")?;
        let id = required_json_str(&json, "/id", "id")?;
        Verified::new(id, format!("{object}.{event}")).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let ms = (now * 1000).to_string();
        let signature = hex::encode(dotted_sha256(key, &ms, body));
        vec![("recurly-signature".into(), format!("{ms},{signature}"))]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "recurly-endpoint-key-2c7";
    const BODY: &str = r#"{"id":"tvnwcj0nd1xq","object_type":"subscription","site_id":"rx8bbz6lxhmw","event_type":"created","event_time":"2026-02-11T10:40:00Z","account_code":"1a2b3c","uuid":"6b7d4b2d7e8f4f5c9a1b2c3d4e5f6a7b"}"#;
    const SENT: i64 = 1770806400;
    /// Recurly's Python and Node clients carry no verifier: computed with
    /// Python's `hmac` module from the documented scheme, with the
    /// signature of a rotated-out key first, as during a rotation.
    const HEADER: &str = "1770806400000,1a032e13e24336063267892e5ae313ae01a59057b0207d79eaef4695fcc1c9c9,7bcf5df6d13890cd1f5a240c9d9f767478bc9aca8acd224472943804749b7086";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("recurly", &[SECRET], "");
        let given = case.raw(&[("recurly-signature", HEADER)], BODY.as_bytes());
        assert_eq!(
            given.event(SENT),
            ("tvnwcj0nd1xq".into(), "subscription.created".into())
        );
        given.assert_tamper_and_wrong_secret_refused(SENT);
        let signed = case.signed(BODY.as_bytes(), SENT, "-", &[]);
        assert_eq!(
            signed.header("recurly-signature"),
            Some("1770806400000,7bcf5df6d13890cd1f5a240c9d9f767478bc9aca8acd224472943804749b7086")
        );
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused() {
        let now = SENT;
        let given = Case::new("recurly", &[SECRET], "")
            .raw(&[("recurly-signature", HEADER)], BODY.as_bytes());
        given.assert_unauthorized(None, now + 301);
        given.assert_unauthorized(None, now - 301);
        assert!(given.verify(None, now + 299).is_ok());
        given
            .raw(&[("recurly-signature", "1770806400123")], BODY.as_bytes())
            .assert_unauthorized(None, now);
    }
}
