//! Mailgun: the signature travels in the JSON body, as
//! `signature.timestamp`, `signature.token` and `signature.signature`, the
//! last being the hex HMAC-SHA256 of `{timestamp}{token}` keyed with the
//! account's webhook signing key. The token is random per request and is the
//! event ID: a resend of the same request is a duplicate, and a replayed
//! token can never be stored twice. The type is `event-data.event`. The
//! MAC covers the timestamp and token only, not the event data: that is
//! Mailgun's scheme, and the reason the token must never be reused. Mailgun
//! sets no tolerance, so none applies unless the source sets
//! `tolerance_secs`.

use super::kit::check;
use super::{
    check_timestamp, json_body, json_str, required_json_str, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Mailgun;

fn signed(key: &[u8], timestamp: &str, token: &str) -> Vec<u8> {
    mac(
        Digest::Sha256,
        key,
        &[timestamp.as_bytes(), token.as_bytes()],
    )
}

impl Scheme for Mailgun {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let json = json_body(req.body, "Mailgun")?;
        let field = |name: &str| {
            json_str(&json, &format!("/signature/{name}"))
                .ok_or_else(|| Rejection::Unauthorized(format!("body has no signature.{name}")))
        };
        let (timestamp, token, signature) =
            (field("timestamp")?, field("token")?, field("signature")?);
        let given = hex::decode(&signature)
            .map_err(|_| Rejection::Unauthorized("signature.signature is not hex".into()))?;
        check(keys, &[given], |key| signed(key, &timestamp, &token))?;
        check_timestamp(&timestamp, tolerance, now, false)?;
        Verified::new(
            token,
            required_json_str(&json, "/event-data/event", "event-data.event")?,
        )
        .map(Verdict::Event)
    }

    /// Mailgun signs inside the body: nothing goes in the headers.
    fn sign(&self, _: &[u8], _: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Writes a fresh `signature` object (timestamp, the delivery ID as the
    /// token, the MAC) in place of the body's, keeping the other bytes.
    fn stamp(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(body).ok()?;
        let (start, end) = signature_object(text)?;
        let ts = now.to_string();
        let object = serde_json::json!({
            "timestamp": ts,
            "token": delivery_id,
            "signature": hex::encode(signed(key, &ts, delivery_id)),
        });
        Some(format!("{}{object}{}", &text[..start], &text[end..]).into_bytes())
    }

    fn fresh_delivery_id(&self) -> String {
        // Mailgun's tokens are 50 random hex digits.
        hex::encode(rand::random::<[u8; 25]>())
    }
}

/// The byte range of the top-level `"signature": {...}` object.
fn signature_object(text: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("\"signature\"") {
        let after = from + i + "\"signature\"".len();
        let rest = text[after..].trim_start();
        if let Some(value) = rest.strip_prefix(':').map(str::trim_start) {
            if value.starts_with('{') {
                let start = text.len() - value.len();
                let end = start + value.find('}')? + 1;
                return Some((start, end));
            }
        }
        from = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const KEY: &str = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    /// Expected values computed independently with Python's `hmac` module
    /// following Mailgun's documented reference code (HMAC-SHA256 hex of
    /// timestamp + token).
    const BODY: &str = r#"{"signature":{"timestamp":"1529006854","token":"a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0","signature":"b63c0701c4f4b614f272106a1b367c5c3369bcdca664ae73ebd52787e45eef07"},"event-data":{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe","timestamp":1521472262.908181}}"#;

    #[test]
    fn reference_vector_and_refusals() {
        let case = Case::new("mailgun", &[KEY], "").raw(&[], BODY.as_bytes());
        assert_eq!(
            case.event(0),
            (
                "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0".into(),
                "delivered".into()
            )
        );
        let mut wrong = case.clone();
        wrong.keys = Case::new("mailgun", &["key-other"], "").keys;
        wrong.assert_unauthorized(None, 0);
        // Mailgun signs the timestamp and token, not the event data: a
        // forged token or timestamp fails; the tolerance applies when set.
        let forged = case.raw(&[], BODY.replace("a8ce0", "a8ce1").as_bytes());
        forged.assert_unauthorized(None, 0);
        let forged = case.raw(&[], BODY.replace("1529006854", "1529006855").as_bytes());
        forged.assert_unauthorized(None, 0);
        assert!(case.verify(Some(300), 1529006854 + 300).is_ok());
        case.assert_unauthorized(Some(300), 1529006854 + 301);
    }

    #[test]
    fn replay_writes_a_fresh_signature_object() {
        let case = Case::new("mailgun", &[KEY], "");
        let signed = case.signed(BODY.as_bytes(), 1700000000, "tok123", &[]);
        let text = String::from_utf8(signed.body.clone()).unwrap();
        // The object's keys in the order Mailgun sends them.
        assert!(
            text.starts_with(
                r#"{"signature":{"timestamp":"1700000000","token":"tok123","signature":""#
            ),
            "{text}"
        );
        assert!(text.ends_with(r#","event-data":{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe","timestamp":1521472262.908181}}"#));
        assert_eq!(
            signed.event(1700000000),
            ("tok123".into(), "delivered".into())
        );
    }
}
