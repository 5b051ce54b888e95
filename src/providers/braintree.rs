//! Braintree: a form post with `bt_signature` and `bt_payload` (base64 of
//! the notification's XML). `bt_signature` lists `public_key|hex` pairs
//! joined by `&`; the pair of a configured public key must hold the hex
//! HMAC-SHA1 of `bt_payload` (with or without a trailing newline, as
//! Braintree's SDKs accept), keyed with the SHA-1 of the private key.
//! `secrets` holds `PUBLIC_KEY:PRIVATE_KEY` pairs (several = rotation).
//!
//! Creating a webhook destination sends `GET ?bt_challenge=<hex>`, answered
//! `{public_key}|{hex HMAC-SHA1 of the challenge}` with the first pair, not
//! stored. Notifications carry no ID and Braintree's retries resend the
//! same payload, so the event ID is the SHA-256 (hex) of `bt_payload`; the
//! type is the notification's `<kind>` (`subscription_went_past_due`).

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use sha1::Digest as _;

use super::kit::body_sha256;
use super::{
    bad_signature, form_encode, form_pairs, Handshake, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::crypto::{ct_eq, hmac_sha1};

#[derive(Debug)]
pub struct Braintree;

/// A configured `PUBLIC_KEY:PRIVATE_KEY` pair.
fn pair(key: &[u8]) -> (&[u8], &[u8]) {
    let at = key.iter().position(|b| *b == b':').unwrap_or(key.len());
    (&key[..at], key.get(at + 1..).unwrap_or_default())
}

/// Braintree's MAC: HMAC-SHA1 keyed with the SHA-1 of the private key.
fn signature(private: &[u8], content: &[u8]) -> [u8; 20] {
    hmac_sha1(&sha1::Sha1::digest(private), &[content])
}

fn field(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The text of the first `<name>` element of the notification's XML.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim()).filter(|t| !t.is_empty())
}

impl Braintree {
    fn challenge(&self, keys: &Keys, challenge: &str) -> Result<Verdict, Rejection> {
        let well_formed = (20..=32).contains(&challenge.len())
            && challenge
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !well_formed {
            return Err(Rejection::BadRequest(
                "bt_challenge is not 20 to 32 lowercase hex digits".into(),
            ));
        }
        let (public, private) = pair(keys.first().ok_or_else(bad_signature)?);
        let answer = format!(
            "{}|{}",
            String::from_utf8_lossy(public),
            hex::encode(signature(private, challenge.as_bytes()))
        );
        Ok(Verdict::Handshake(Handshake::text(answer)))
    }
}

impl Scheme for Braintree {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::GET {
            let challenge = req.query_param("bt_challenge").ok_or_else(|| {
                Rejection::BadRequest("a GET from Braintree carries ?bt_challenge=".into())
            })?;
            return self.challenge(keys, &challenge);
        }
        let fields = form_pairs(req.body);
        let signed = field(&fields, "bt_signature")
            .ok_or_else(|| Rejection::Unauthorized("missing bt_signature".into()))?;
        let payload = field(&fields, "bt_payload")
            .ok_or_else(|| Rejection::BadRequest("missing bt_payload".into()))?;
        if !payload
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'=' | b'/' | b'\n'))
        {
            return Err(Rejection::Unauthorized(
                "bt_payload holds characters base64 does not".into(),
            ));
        }
        let given: Vec<(&str, Vec<u8>)> = signed
            .split('&')
            .filter_map(|p| p.split_once('|'))
            .filter_map(|(public, sig)| Some((public, hex::decode(sig.trim()).ok()?)))
            .collect();
        let with_newline = format!("{payload}\n");
        let matched = keys.iter().any(|key| {
            let (public, private) = pair(key);
            given.iter().any(|(p, sig)| {
                p.as_bytes() == public
                    && [payload.as_bytes(), with_newline.as_bytes()]
                        .iter()
                        .any(|content| ct_eq(sig, &signature(private, content)))
            })
        });
        if !matched {
            return Err(bad_signature());
        }
        let compact: String = payload.split_whitespace().collect();
        let xml = B64
            .decode(compact)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Rejection::BadRequest("bt_payload is not base64 text".into()))?;
        let kind = element(&xml, "kind")
            .ok_or_else(|| Rejection::BadRequest("the notification has no <kind>".into()))?;
        Verified::new(body_sha256(payload.as_bytes()), kind.to_string()).map(Verdict::Event)
    }

    /// Braintree signs inside the form: see [`Scheme::stamp`].
    fn sign(&self, _key: &[u8], _body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The form with `bt_signature` computed for its `bt_payload`.
    fn stamp(&self, key: &[u8], body: &[u8], _now: i64, _: &str) -> Option<Vec<u8>> {
        let payload = field(&form_pairs(body), "bt_payload")?;
        let (public, private) = pair(key);
        let signed = format!(
            "{}|{}",
            String::from_utf8_lossy(public),
            hex::encode(signature(private, payload.as_bytes()))
        );
        Some(
            format!(
                "bt_signature={}&bt_payload={}",
                form_encode(&signed),
                form_encode(&payload)
            )
            .into_bytes(),
        )
    }

    fn handles_get(&self) -> bool {
        true
    }

    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        match raw.split_once(':') {
            Some((public, private)) if !public.is_empty() && !private.is_empty() => {
                Ok(raw.as_bytes().to_vec())
            }
            _ => Err(
                "not PUBLIC_KEY:PRIVATE_KEY, the key pair Braintree shows under API keys".into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;
    use axum::http::{Method, Uri};

    const KEYS: &str = "integration_public_key:integration_private_key";
    /// Made by Braintree's Python SDK, `braintree` 4.48.0
    /// (`webhook_testing.sample_notification(SubscriptionWentPastDue, "my_id")`
    /// with these keys), form-encoded as Braintree posts it.
    const BODY: &str = "bt_signature=integration_public_key%7Ca5368023c9088d1f44cceab260c99003a3aef28d&bt_payload=CiAgICAgICAgICAgIDxub3RpZmljYXRpb24%2BCiAgICAgICAgICAgICAgICA8dGltZXN0YW1wIHR5%0AcGU9ImRhdGV0aW1lIj4yMDI2LTEyLTAzVDA5OjMzOjQ5WjwvdGltZXN0YW1wPgogICAgICAgICAg%0AICAgICAgPGtpbmQ%2Bc3Vic2NyaXB0aW9uX3dlbnRfcGFzdF9kdWU8L2tpbmQ%2BCiAgICAgICAgICAg%0AICAgICAKICAgICAgICAgICAgICAgIDxzdWJqZWN0PgogICAgICAgICAgICA8c3Vic2NyaXB0aW9u%0APgogICAgICAgICAgICAgICAgPGlkPm15X2lkPC9pZD4KICAgICAgICAgICAgICAgIDx0cmFuc2Fj%0AdGlvbnMgdHlwZT0iYXJyYXkiPjwvdHJhbnNhY3Rpb25zPgogICAgICAgICAgICAgICAgPGFkZF9v%0AbnMgdHlwZT0iYXJyYXkiPjwvYWRkX29ucz4KICAgICAgICAgICAgICAgIDxkaXNjb3VudHMgdHlw%0AZT0iYXJyYXkiPjwvZGlzY291bnRzPgogICAgICAgICAgICA8L3N1YnNjcmlwdGlvbj4KICAgICAg%0AICA8L3N1YmplY3Q%2BCiAgICAgICAgICAgIDwvbm90aWZpY2F0aW9uPgogICAgICAgIA%3D%3D%0A";

    fn payload() -> String {
        field(&form_pairs(BODY.as_bytes()), "bt_payload").unwrap()
    }

    #[test]
    fn sdk_vector_verifies_and_the_signer_reproduces_it() {
        let case = Case::new("braintree", &["old_public:old_private", KEYS], "");
        let given = case.raw(&[], BODY.as_bytes());
        assert_eq!(
            given.event(0),
            (
                body_sha256(payload().as_bytes()),
                "subscription_went_past_due".to_string()
            )
        );
        let unsigned = format!("bt_payload={}", form_encode(&payload()));
        let signed = Case::new("braintree", &[KEYS], "").signed(unsigned.as_bytes(), 0, "-", &[]);
        assert_eq!(String::from_utf8(signed.body).unwrap(), BODY);
    }

    #[test]
    fn tampering_and_a_wrong_or_unknown_key_are_refused() {
        let given = Case::new("braintree", &[KEYS], "").raw(&[], BODY.as_bytes());
        given.assert_tamper_and_wrong_secret_refused(0);
        Case::new("braintree", &["integration_public_key:other_private"], "")
            .raw(&[], BODY.as_bytes())
            .assert_unauthorized(None, 0);
        Case::new("braintree", &["other_public:integration_private_key"], "")
            .raw(&[], BODY.as_bytes())
            .assert_unauthorized(None, 0);
        let tampered = BODY.replace("IDxub3Rp", "IDxub3Rq");
        Case::new("braintree", &[KEYS], "")
            .raw(&[], tampered.as_bytes())
            .assert_unauthorized(None, 0);
    }

    #[test]
    fn the_challenge_is_answered_as_the_sdk_answers_it() {
        let case = Case::new("braintree", &[KEYS], "");
        let get = |query: &str| {
            let mut c = case.raw(&[], b"");
            c.method = Method::GET;
            c.uri = format!("/ingest/bt?{query}").parse::<Uri>().unwrap();
            c.verify(None, 0)
        };
        // `braintree` 4.48.0: webhook_notification.verify(challenge).
        assert_eq!(
            get("bt_challenge=20f9f8ed05f77439fe955c977e4c8a53").unwrap(),
            Verdict::Handshake(Handshake::text(
                "integration_public_key|d9b899556c966b3f06945ec21311865d35df3ce4"
            ))
        );
        assert!(matches!(
            get("bt_challenge=not-hex"),
            Err(Rejection::BadRequest(_))
        ));
    }

    #[test]
    fn secrets_are_key_pairs() {
        assert!(Braintree.decode_secret("public:private").is_ok());
        for bad in ["publiconly", ":private", "public:"] {
            assert!(Braintree.decode_secret(bad).is_err(), "{bad}");
        }
    }
}
