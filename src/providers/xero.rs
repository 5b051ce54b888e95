//! Xero: `x-xero-signature`, the base64 HMAC-SHA256 of the body keyed with
//! the webhook key. The body is `{"events": [...], "firstEventSequence",
//! "lastEventSequence", "entropy"}`; each event is stored as an event of its
//! own (see [`super::batch`]). Xero's events carry no ID: each one's is the
//! SHA-256 of its bytes (a resend carries the same bytes, and two events
//! differ at least in resource or time); its type is
//! `{eventCategory}.{eventType}` (`INVOICE.UPDATE`).
//!
//! Xero's "intent to receive" check posts an empty `events` list, once
//! correctly signed and several times wrongly: the signed one is answered
//! 200 with an empty body and not stored, the others 401 like any forgery.

use super::json_str;
use super::kit::{BodyHmac, Encoding};
use super::signed_events::SignedEvents;
use super::Handshake;
use crate::crypto::Digest;

pub const SCHEME: SignedEvents = SignedEvents {
    provider: "Xero",
    signature: BodyHmac::new("x-xero-signature", "", Encoding::Base64, Digest::Sha256),
    id: None,
    event_type: |e| {
        Some(format!(
            "{}.{}",
            json_str(e, "/eventCategory")?,
            json_str(e, "/eventType")?
        ))
    },
    empty_is_check: Some(|| Handshake::text("")),
};

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::Case;
    use crate::providers::{Handshake, Verdict};

    const KEY: &str = "xero-key-14";
    const EVENT: &str = r#"{"resourceUrl":"https://api.xero.com/api.xro/2.0/Invoices/0b64e4e3-3b1a-4b2c-9d8e-7f6a5b4c3d2e","resourceId":"0b64e4e3-3b1a-4b2c-9d8e-7f6a5b4c3d2e","eventDateUtc":"2024-05-20T10:00:00.000","eventType":"UPDATE","eventCategory":"INVOICE","tenantId":"c2cc9b6e-9458-4c7d-93cc-f02b81b0594f","tenantType":"ORGANISATION"}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// Xero SDKs do not verify webhooks), over the body below.
    const SIGNATURE: &str = "zZd9N31wea3udJCQ14b0TQPkErVx4pqq7jEv6FZdF0E=";

    fn body() -> String {
        format!(
            r#"{{"events":[{EVENT}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"S0MEENTROPYSTRING"}}"#
        )
    }

    #[test]
    fn vector_splits_into_its_events() {
        let case = Case::new("xero", &["rotated-out", KEY], "");
        let body = body();
        let given = case.raw(&[("x-xero-signature", SIGNATURE)], body.as_bytes());
        let (parts, read) = given.batch(0);
        assert_eq!(&body[parts[0].range.clone()], EVENT);
        assert_eq!(
            read,
            [(body_sha256(EVENT.as_bytes()), "INVOICE.UPDATE".to_string())]
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("xero", &[KEY], "").signed(body.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-xero-signature"), Some(SIGNATURE));
    }

    #[test]
    fn intent_to_receive_right_signature_200_wrong_401() {
        let case = Case::new("xero", &[KEY], "");
        let body = br#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"YOOVBPKWWYQBKQ"}"#;
        let signed = case.signed(body, 0, "-", &[]);
        assert_eq!(
            signed.verify(None, 0).unwrap(),
            Verdict::Handshake(Handshake::text(""))
        );
        let wrong = case.raw(&[("x-xero-signature", SIGNATURE)], body);
        wrong.assert_unauthorized(None, 0);
    }
}
