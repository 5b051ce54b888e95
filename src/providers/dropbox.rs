//! Dropbox: registering the webhook sends `GET ?challenge=...`, answered
//! with the challenge as `text/plain` and `X-Content-Type-Options: nosniff`,
//! not stored. Notifications are `POST`s whose `X-Dropbox-Signature` is the
//! hex HMAC-SHA256 of the body, keyed with the app secret.
//!
//! A notification only says "these accounts changed" and has no ID of its
//! own; the same body legitimately recurs whenever the same accounts change
//! again. So the event ID is the body's SHA-256 (hex) followed by `@` and
//! the Unix minute it arrived in: a resend within that minute is a
//! duplicate, a later identical notification is a new event (a resend that
//! straddles a minute boundary is delivered twice, which a notification's
//! reader, who calls `list_folder/continue`, tolerates). The type is
//! `list_folder` when the body has that member, else its first member's name.

use sha2::Digest;

use super::{
    bad_signature, json_body, signature_header, Handshake, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::crypto::{ct_eq, hmac_sha256};

#[derive(Debug)]
pub struct Dropbox;

impl Scheme for Dropbox {
    fn verify(
        &self,
        keys: &Keys,
        _tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::GET {
            let challenge = req.query_param("challenge").ok_or_else(|| {
                Rejection::BadRequest("a GET from Dropbox carries ?challenge=".into())
            })?;
            return Ok(Verdict::Handshake(Handshake::text(challenge)));
        }
        let given = hex::decode(signature_header(req.headers, "x-dropbox-signature")?)
            .map_err(|_| Rejection::Unauthorized("X-Dropbox-Signature is not hex".into()))?;
        if !keys
            .iter()
            .any(|key| ct_eq(&given, &hmac_sha256(key, &[req.body])))
        {
            return Err(bad_signature());
        }
        let json = json_body(req.body, "Dropbox")?.value();
        let object = json.as_object().expect("json_body returns objects");
        let event_type = if object.contains_key("list_folder") {
            "list_folder".to_string()
        } else {
            object
                .keys()
                .next()
                .cloned()
                .ok_or_else(|| Rejection::BadRequest("the notification is empty".into()))?
        };
        let id = format!(
            "{}@{}",
            hex::encode(sha2::Sha256::digest(req.body)),
            now.div_euclid(60)
        );
        Ok(Verdict::Event(Verified::new(id, event_type)?))
    }

    fn sign(&self, key: &[u8], body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            "X-Dropbox-Signature".into(),
            hex::encode(hmac_sha256(key, &[body])),
        )]
    }

    fn handles_get(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys};
    use axum::http::{Method, Uri};

    // Computed with the verification code of Dropbox's webhook tutorial
    // (Python `hmac.new(APP_SECRET, request.data, sha256).hexdigest()`),
    // run on Python 3.11.
    const SECRET: &str = "dropbox-app-secret-test";
    const BODY: &str = r#"{"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}, "delta": {"users": [4245623]}}"#;
    const SIGNATURE: &str = "b459d9648f30a37af0d3b15173405a28cefbf95e264a43b2f89e6442cfb156d7";

    fn post(body: &str, sig: &str, secret: &str, now: i64) -> Result<Verdict, Rejection> {
        let h = headers(&[("x-dropbox-signature", sig)]);
        Dropbox.verify(
            &keys(&[secret]),
            None,
            &Inbound::post(&h, body.as_bytes()),
            now,
        )
    }

    #[test]
    fn reference_vector_and_dedup_key() {
        let Verdict::Event(v) = post(BODY, SIGNATURE, SECRET, 120).unwrap() else {
            panic!()
        };
        assert_eq!(v.event_type(), "list_folder");
        let hash = hex::encode(sha2::Sha256::digest(BODY));
        assert_eq!(v.provider_event_id(), format!("{hash}@2"));
        let Verdict::Event(same_minute) = post(BODY, SIGNATURE, SECRET, 179).unwrap() else {
            panic!()
        };
        assert_eq!(same_minute.provider_event_id(), v.provider_event_id());
        let Verdict::Event(later) = post(BODY, SIGNATURE, SECRET, 180).unwrap() else {
            panic!()
        };
        assert_ne!(later.provider_event_id(), v.provider_event_id());
        assert_eq!(
            Dropbox.sign(SECRET.as_bytes(), BODY.as_bytes(), 0, "")[0].1,
            SIGNATURE
        );
    }

    #[test]
    fn tampering_and_a_wrong_secret_are_refused() {
        assert!(matches!(
            post(&BODY.replace("4245623", "4245624"), SIGNATURE, SECRET, 0),
            Err(Rejection::Unauthorized(_))
        ));
        assert!(matches!(
            post(BODY, SIGNATURE, "other-secret", 0),
            Err(Rejection::Unauthorized(_))
        ));
    }

    #[test]
    fn get_challenge_is_echoed() {
        let get = |uri: &'static str| {
            let h = headers(&[]);
            let req = Inbound {
                method: &Method::GET,
                uri: &Uri::from_static(uri),
                headers: &h,
                body: b"",
            };
            Dropbox.verify(&keys(&[SECRET]), None, &req, 0)
        };
        assert_eq!(
            get("/ingest/dropbox?challenge=a%2Bb%20c").unwrap(),
            Verdict::Handshake(Handshake::text("a+b c"))
        );
        assert!(matches!(
            get("/ingest/dropbox"),
            Err(Rejection::BadRequest(_))
        ));
    }
}
