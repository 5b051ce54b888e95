//! Slack: `X-Slack-Signature: v0=<hex>` of `v0:{ts}:{body}` with
//! `X-Slack-Request-Timestamp`. The event ID is the body's `event_id`, the
//! type `event.type`, else `type`. A `url_verification` request is a
//! handshake: answered with its challenge, never stored.

use super::kit::{check, Encoding, SignatureHeader};
use super::{
    check_timestamp, json_body, json_str, required_json_str, signature_header, Handshake, Inbound,
    Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::hmac_sha256;

const SIGNATURE: SignatureHeader =
    SignatureHeader::new("x-slack-signature", "v0=", Encoding::Hex).shown_as("X-Slack-Signature");

#[derive(Debug)]
pub struct Slack;

impl Scheme for Slack {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = SIGNATURE.read(req.headers)?;
        let timestamp = signature_header(req.headers, "x-slack-request-timestamp")?;
        check(keys, &[given], |key| mac(key, timestamp, req.body).to_vec())?;
        check_timestamp(timestamp, tolerance, now, false)?;
        let json = json_body(req.body, "Slack")?;
        if json.string_at("/type").as_deref() == Some("url_verification") {
            let challenge = required_json_str(&json, "/challenge", "challenge")?;
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "challenge": challenge }),
            )));
        }
        let id = required_json_str(&json, "/event_id", "event_id")?;
        let event_type = json_str(&json, "/event/type")
            .or_else(|| json_str(&json, "/type"))
            .ok_or_else(|| Rejection::BadRequest("body has no event.type or type".into()))?;
        Verified::new(id, event_type).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        sign(key, body, now)
    }
    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
    fn body_id_pointer(&self) -> Option<&str> {
        Some("/event_id")
    }
}

fn mac(key: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[b"v0:", timestamp.as_bytes(), b":", body])
}

pub fn signature(key: &[u8], body: &[u8], now: i64) -> String {
    format!("v0={}", hex::encode(mac(key, &now.to_string(), body)))
}

pub fn sign(key: &[u8], body: &[u8], now: i64) -> Vec<(String, String)> {
    vec![
        ("X-Slack-Signature".into(), signature(key, body, now)),
        ("X-Slack-Request-Timestamp".into(), now.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys, post};

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const PUBLISHED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn published_vector() {
        assert_eq!(
            signature(SECRET.as_bytes(), BODY.as_bytes(), 1531420618),
            PUBLISHED
        );
        let h = headers(&[
            ("x-slack-signature", PUBLISHED),
            ("x-slack-request-timestamp", "1531420618"),
        ]);
        // A slash command is form-encoded, not an Events API event: signature
        // valid, body refused.
        let at = |now| {
            post(
                &Slack,
                &keys(&[SECRET]),
                Some(300),
                &h,
                BODY.as_bytes(),
                now,
            )
        };
        let err = at(1531420618).unwrap_err();
        assert!(matches!(err, Rejection::BadRequest(_)), "{err:?}");
        let err = at(1531420618 + 301).unwrap_err();
        assert!(matches!(err, Rejection::Unauthorized(_)));
    }

    #[test]
    fn handshake_and_events() {
        let body = br#"{"type":"url_verification","challenge":"abc","token":"t"}"#;
        let h = headers(&[
            ("x-slack-signature", &signature(b"k", body, 50)),
            ("x-slack-request-timestamp", "50"),
        ]);
        let v = post(&Slack, &keys(&["k"]), None, &h, body, 50).unwrap();
        assert_eq!(
            v,
            Verdict::Handshake(Handshake::json(serde_json::json!({"challenge": "abc"})))
        );

        let body = br#"{"type":"event_callback","event_id":"Ev1","event":{"type":"app_mention"}}"#;
        let h = headers(&[
            ("x-slack-signature", &signature(b"k", body, 50)),
            ("x-slack-request-timestamp", "50"),
        ]);
        let v = post(&Slack, &keys(&["k"]), None, &h, body, 50).unwrap();
        assert_eq!(
            v,
            Verdict::Event(Verified::new("Ev1".into(), "app_mention".into()).unwrap())
        );
    }
}
