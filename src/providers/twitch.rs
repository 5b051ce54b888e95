//! Twitch EventSub (webhook transport): `Twitch-Eventsub-Message-Signature:
//! sha256=<hex>` is the HMAC-SHA256 of `{message id}{timestamp}{body}`,
//! keyed with the subscription's secret, where the ID and the RFC 3339
//! timestamp are the `Twitch-Eventsub-Message-Id` and `-Timestamp` headers.
//! Messages older than 10 minutes are refused, as Twitch recommends.
//!
//! `Twitch-Eventsub-Message-Type` says what the message is:
//! - `webhook_callback_verification`: a handshake, answered with the raw
//!   `challenge` as `text/plain`, not stored;
//! - `notification`: an event, ID `Twitch-Eventsub-Message-Id` (the same on
//!   Twitch's resends), type `subscription.type` (`channel.follow`, ...);
//! - `revocation`: stored as an event of type `revocation.<subscription.type>`,
//!   so routes for `channel.*` never mistake it for a notification.

use super::kit::{Encoding, SignatureHeader};
use super::{
    bad_signature, check_sent_within, json_body, required_header, required_json_str,
    signature_header, Handshake, Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::{ct_eq, hmac_sha256};

pub const ID_HEADER: &str = "twitch-eventsub-message-id";
pub const TIMESTAMP_HEADER: &str = "twitch-eventsub-message-timestamp";
pub const SIGNATURE_HEADER: &str = "twitch-eventsub-message-signature";
pub const TYPE_HEADER: &str = "twitch-eventsub-message-type";

const SIGNATURE: SignatureHeader = SignatureHeader::new(SIGNATURE_HEADER, "sha256=", Encoding::Hex)
    .shown_as("Twitch-Eventsub-Message-Signature");

#[derive(Debug)]
pub struct Twitch;

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[id.as_bytes(), timestamp.as_bytes(), body])
}

/// An RFC 3339 time (Twitch sends nanoseconds) as Unix seconds.
fn rfc3339_secs(text: &str) -> Option<i64> {
    if !text.contains(['T', 't']) {
        return None;
    }
    crate::time::parse(text).ok().map(|ms| ms.div_euclid(1000))
}

impl Scheme for Twitch {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = SIGNATURE.read(req.headers)?;
        let timestamp = signature_header(req.headers, TIMESTAMP_HEADER)?;
        let id = required_header(req.headers, ID_HEADER)?;
        if !keys
            .iter()
            .any(|key| ct_eq(&given, &mac(key, id, timestamp, req.body)))
        {
            return Err(bad_signature());
        }
        let sent = rfc3339_secs(timestamp).ok_or_else(|| {
            Rejection::Unauthorized(
                "Twitch-Eventsub-Message-Timestamp is not an RFC 3339 time".into(),
            )
        })?;
        if let Some(tol) = tolerance {
            check_sent_within(sent, tol, now)?;
        }
        let kind = required_header(req.headers, TYPE_HEADER)?;
        let json = json_body(req.body, "Twitch")?;
        match kind {
            "webhook_callback_verification" => {
                let challenge = required_json_str(&json, "/challenge", "challenge")?;
                Ok(Verdict::Handshake(Handshake::text(challenge)))
            }
            "notification" => {
                let event_type =
                    required_json_str(&json, "/subscription/type", "subscription.type")?;
                Ok(Verdict::Event(Verified::new(id.to_string(), event_type)?))
            }
            "revocation" => {
                let event_type =
                    required_json_str(&json, "/subscription/type", "subscription.type")?;
                Ok(Verdict::Event(Verified::new(
                    id.to_string(),
                    format!("revocation.{event_type}"),
                )?))
            }
            other => Err(Rejection::BadRequest(format!(
                "Twitch-Eventsub-Message-Type {other:?} is not one Twitch documents"
            ))),
        }
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let timestamp = crate::time::format_ms(now * 1000);
        vec![
            ("Twitch-Eventsub-Message-Id".into(), delivery_id.to_string()),
            (
                "Twitch-Eventsub-Message-Timestamp".into(),
                timestamp.clone(),
            ),
            (
                "Twitch-Eventsub-Message-Signature".into(),
                format!(
                    "sha256={}",
                    hex::encode(mac(key, delivery_id, &timestamp, body))
                ),
            ),
        ]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys};

    const SECRET: &str = "s3cRe7-twitch-test";

    fn request(
        kind: &str,
        id: &str,
        ts: &str,
        sig: &str,
        body: &str,
        now: i64,
        secret: &str,
    ) -> Result<Verdict, Rejection> {
        let h = headers(&[
            (ID_HEADER, id),
            (TIMESTAMP_HEADER, ts),
            (SIGNATURE_HEADER, sig),
            (TYPE_HEADER, kind),
        ]);
        Twitch.verify(
            &keys(&[secret]),
            Some(600),
            &Inbound::post(&h, body.as_bytes()),
            now,
        )
    }

    // Computed with the sample verification code in Twitch's "Handling
    // webhook events" guide (Node.js `crypto.createHmac('sha256', secret)`
    // over id + timestamp + body), run on Node 20.
    const ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";
    const TS: &str = "2019-11-16T10:11:12.634234626Z";
    const BODY: &str = r#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"enabled","type":"channel.follow","version":"2","condition":{"broadcaster_user_id":"1337","moderator_user_id":"1337"},"transport":{"method":"webhook","callback":"https://example.com/webhooks/callback"},"created_at":"2019-11-16T10:11:12.634234626Z","cost":0},"event":{"user_id":"1234","user_login":"cool_user","user_name":"Cool_User","broadcaster_user_id":"1337","broadcaster_user_login":"cooler_user","broadcaster_user_name":"Cooler_User","followed_at":"2020-07-15T18:16:11.17106713Z"}}"#;
    const SIGNATURE: &str =
        "sha256=2317806fa0434597a9bee5fa4ec3bfd26a711953493a8964c1809690eaf2d5e7";
    const SENT: i64 = 1573899072;

    #[test]
    fn reference_vector() {
        let v = request("notification", ID, TS, SIGNATURE, BODY, SENT, SECRET).unwrap();
        assert_eq!(
            v,
            Verdict::Event(Verified::new(ID.into(), "channel.follow".into()).unwrap())
        );
        assert_eq!(
            format!(
                "sha256={}",
                hex::encode(mac(SECRET.as_bytes(), ID, TS, BODY.as_bytes()))
            ),
            SIGNATURE,
            "the signer hookgate replay uses agrees"
        );
    }

    #[test]
    fn tampering_wrong_secret_and_stale_messages_are_refused() {
        let unauthorized =
            |r: Result<Verdict, Rejection>| matches!(r, Err(Rejection::Unauthorized(_)));
        let tampered = BODY.replace("1234", "1235");
        // (message ID, body, now, secret): one of them off in each.
        for (id, body, now, secret) in [
            (ID, tampered.as_str(), SENT, SECRET),
            (ID, BODY, SENT, "another-secret"),
            ("other-id", BODY, SENT, SECRET),
            (ID, BODY, SENT + 601, SECRET),
        ] {
            let got = request("notification", id, TS, SIGNATURE, body, now, secret);
            assert!(unauthorized(got), "{id} {now} {secret}");
        }
        assert!(request("notification", ID, TS, SIGNATURE, BODY, SENT + 600, SECRET).is_ok());
    }

    #[test]
    fn challenge_and_revocation() {
        let signed = |kind: &str, body: &str| {
            let h = Twitch.sign(SECRET.as_bytes(), body.as_bytes(), 1000, "m-1");
            request(kind, &h[0].1, &h[1].1, &h[2].1, body, 1000, SECRET)
        };
        let body = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#;
        assert_eq!(
            signed("webhook_callback_verification", body).unwrap(),
            Verdict::Handshake(Handshake::text("pogchamp-kappa-360noscope-vohiyo"))
        );
        let body = r#"{"subscription":{"type":"channel.follow","status":"authorization_revoked"}}"#;
        assert_eq!(
            signed("revocation", body).unwrap(),
            Verdict::Event(
                Verified::new("m-1".into(), "revocation.channel.follow".into()).unwrap()
            )
        );
        assert!(matches!(
            signed("other", body),
            Err(Rejection::BadRequest(_))
        ));
    }
}
