//! Nylas (API v3): `X-Nylas-Signature`, the hex HMAC-SHA256 of the body
//! keyed with the webhook secret Nylas returned when the webhook was
//! created. The event ID is the notification's `id`, the type its `type`
//! (`message.created`).
//!
//! Creating or reactivating a webhook sends `GET ?challenge=...` (unsigned:
//! the secret does not exist yet), answered with the challenge as
//! `text/plain` within Nylas's 10 seconds, not stored.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use super::{Handshake, Inbound, Keys, Rejection, Scheme, Verdict};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Nylas;

const SIGNED: SignedBody = SignedBody {
    provider: "Nylas",
    signature: BodyHmac::new("x-nylas-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
};

impl Scheme for Nylas {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::GET {
            let challenge = req.query_param("challenge").ok_or_else(|| {
                Rejection::BadRequest("a GET from Nylas carries ?challenge=".into())
            })?;
            return Ok(Verdict::Handshake(Handshake::text(challenge)));
        }
        SIGNED.verify(keys, tolerance, req, now)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        SIGNED.sign(key, body, now, delivery_id)
    }

    fn handles_get(&self) -> bool {
        true
    }

    fn body_id_pointer(&self) -> Option<&str> {
        SIGNED.body_id_pointer()
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::{Case, Vector};
    use crate::providers::{Handshake, Rejection, Verdict};

    const SECRET: &str = "nylas-secret-12";
    const BODY: &str = r#"{"specversion":"1.0","type":"message.created","source":"/google/emails/realtime","id":"mock-id-7d4c2a1b","time":1716199200,"webhook_delivery_attempt":1,"data":{"application_id":"NYLAS_APPLICATION_ID","object":{"grant_id":"NYLAS_GRANT_ID","id":"18f95a7b2c3d4e5f","object":"message","subject":"Hello"}}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// Nylas SDKs do not verify webhooks).
    const SIGNATURE: &str = "214cc6b218e14a6c03dd93151a3469ee87a2b7cd4557f62bf559994ee51edf5d";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "nylas",
            secret: SECRET,
            body: BODY,
            signature: ("x-nylas-signature", SIGNATURE),
            headers: &[],
            id: "mock-id-7d4c2a1b",
            event_type: "message.created",
        }
        .assert_verifies_and_signs();
    }

    #[test]
    fn the_challenge_is_echoed_and_a_bare_get_refused() {
        let mut case = Case::new("nylas", &[SECRET], "");
        case.method = axum::http::Method::GET;
        case.uri = "/ingest/nylas?challenge=bc609b38-c81f-47fb-a275-1d9bd61a968b"
            .parse()
            .unwrap();
        assert_eq!(
            case.verify(None, 0).unwrap(),
            Verdict::Handshake(Handshake::text("bc609b38-c81f-47fb-a275-1d9bd61a968b"))
        );
        case.uri = "/ingest/nylas".parse().unwrap();
        assert!(matches!(
            case.verify(None, 0),
            Err(Rejection::BadRequest(_))
        ));
    }
}
