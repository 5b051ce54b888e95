//! Zoom: `x-zm-signature: v0=<hex>` is the HMAC-SHA256 of
//! `v0:{x-zm-request-timestamp}:{body}` keyed with the app's secret token;
//! the timestamp counts within 300 s unless `tolerance_secs` says otherwise.
//!
//! `{"event": "endpoint.url_validation"}` is a handshake: answered, after
//! the signature checks out, with `plainToken` and `encryptedToken` (hex
//! HMAC-SHA256 of the plain token under the same secret), not stored.
//!
//! Zoom events carry no ID of their own (`event`, `event_ts` and `payload`
//! only), so the event ID is the SHA-256 (hex) of the body: Zoom's retries
//! (after 5, 20 and 60 minutes) resend the same body, and two distinct
//! events differ at least in `event_ts` (milliseconds) or `payload`. The
//! type is `event` (`meeting.started`, ...).

use sha2::Digest;

use super::kit::{Encoding, SignatureHeader};
use super::{
    bad_signature, check_timestamp, json_body, required_json_str, signature_header, Handshake,
    Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::{ct_eq, hmac_sha256};

const SIGNATURE: SignatureHeader = SignatureHeader::new("x-zm-signature", "v0=", Encoding::Hex);

#[derive(Debug)]
pub struct Zoom;

fn mac(key: &[u8], timestamp: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[b"v0:", timestamp.as_bytes(), b":", body])
}

impl Scheme for Zoom {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = SIGNATURE.read(req.headers)?;
        let timestamp = signature_header(req.headers, "x-zm-request-timestamp")?;
        // The secret that signed the request also answers the handshake.
        let key = keys
            .iter()
            .find(|key| ct_eq(&given, &mac(key, timestamp, req.body)))
            .ok_or_else(bad_signature)?;
        check_timestamp(timestamp, tolerance, now, false)?;
        let json = json_body(req.body, "Zoom")?;
        let event_type = required_json_str(&json, "/event", "event")?;
        if event_type == "endpoint.url_validation" {
            let plain = required_json_str(&json, "/payload/plainToken", "payload.plainToken")?;
            let encrypted = hex::encode(hmac_sha256(key, &[plain.as_bytes()]));
            return Ok(Verdict::Handshake(Handshake::json(serde_json::json!({
                "plainToken": plain,
                "encryptedToken": encrypted,
            }))));
        }
        let id = hex::encode(sha2::Sha256::digest(req.body));
        Ok(Verdict::Event(Verified::new(id, event_type)?))
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let timestamp = now.to_string();
        vec![
            (
                "x-zm-signature".into(),
                format!("v0={}", hex::encode(mac(key, &timestamp, body))),
            ),
            ("x-zm-request-timestamp".into(), timestamp),
        ]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys};

    // Computed with the verification code of Zoom's official webhook sample
    // (`zoom/webhook-sample`, Node.js `crypto.createHmac('sha256', token)`
    // over `v0:${timestamp}:${JSON body}`), run on Node 20.
    const SECRET: &str = "ZOOM_WEBHOOK_SECRET_TOKEN";
    const TS: &str = "1658940994";
    const BODY: &str = r#"{"event":"meeting.started","event_ts":1658940994922,"payload":{"account_id":"D8cJuqWVQ623CI4Q8yQK0Q","object":{"id":"87906411592","uuid":"4444AAAiAAAAAiAiAiiAii==","host_id":"z8yCxjabcdEFGHfp8uQ","topic":"My Meeting","type":2,"start_time":"2022-07-27T16:56:34Z","timezone":"America/Los_Angeles","duration":60}}}"#;
    const SIGNATURE: &str = "v0=8b43b0b8d52c6ec8d85e1616dc4b098e91247fa814177b04e557ff6819c3ef9e";
    const PLAIN: &str = "qgg8vlvZRS6UYooatFL8Aw";
    const ENCRYPTED: &str = "86b96838c461c5cafc27d6631f663bbfd12746efb4293fc18dce8af8f1aaad30";

    fn verify(
        body: &str,
        sig: &str,
        ts: &str,
        secret: &str,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let h = headers(&[("x-zm-signature", sig), ("x-zm-request-timestamp", ts)]);
        Zoom.verify(
            &keys(&[secret]),
            Some(300),
            &Inbound::post(&h, body.as_bytes()),
            now,
        )
    }

    #[test]
    fn reference_vector() {
        let Verdict::Event(v) = verify(BODY, SIGNATURE, TS, SECRET, 1658940994).unwrap() else {
            panic!()
        };
        assert_eq!(v.event_type(), "meeting.started");
        assert_eq!(
            v.provider_event_id(),
            hex::encode(sha2::Sha256::digest(BODY))
        );
        let signed = Zoom.sign(SECRET.as_bytes(), BODY.as_bytes(), 1658940994, "");
        assert_eq!(
            (signed[0].1.as_str(), signed[1].1.as_str()),
            (SIGNATURE, TS)
        );
    }

    #[test]
    fn tampering_wrong_secret_and_stale_timestamps_are_refused() {
        let unauthorized =
            |r: Result<Verdict, Rejection>| matches!(r, Err(Rejection::Unauthorized(_)));
        assert!(unauthorized(verify(
            &BODY.replace("My Meeting", "Your Meeting"),
            SIGNATURE,
            TS,
            SECRET,
            1658940994
        )));
        assert!(unauthorized(verify(
            BODY,
            SIGNATURE,
            TS,
            "another-secret",
            1658940994
        )));
        assert!(unauthorized(verify(
            BODY,
            SIGNATURE,
            TS,
            SECRET,
            1658940994 + 301
        )));
        assert!(unauthorized(verify(
            BODY,
            SIGNATURE,
            TS,
            SECRET,
            1658940994 - 301
        )));
    }

    #[test]
    fn url_validation_is_answered() {
        let body = format!(
            r#"{{"payload":{{"plainToken":"{PLAIN}"}},"event_ts":1654503849680,"event":"endpoint.url_validation"}}"#
        );
        let signed = Zoom.sign(SECRET.as_bytes(), body.as_bytes(), 1654503849, "");
        let v = verify(&body, &signed[0].1, &signed[1].1, SECRET, 1654503849).unwrap();
        assert_eq!(
            v,
            Verdict::Handshake(Handshake::json(serde_json::json!({
                "plainToken": PLAIN,
                "encryptedToken": ENCRYPTED,
            })))
        );
        // Unsigned, it is refused like any request.
        assert!(verify(&body, "v0=00", &signed[1].1, SECRET, 1654503849).is_err());
    }
}
