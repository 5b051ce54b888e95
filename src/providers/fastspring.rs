//! FastSpring: `X-FS-Signature`, the base64 HMAC-SHA256 of the body keyed
//! with the webhook's HMAC secret. The body is `{"events": [...]}`; each
//! event is stored as an event of its own (see [`super::batch`]): ID `id`,
//! type `type` (`order.completed`), deduplicated and routed on its own.

use super::kit::{BodyHmac, Encoding};
use super::signed_events::SignedEvents;
use crate::crypto::Digest;

pub const SCHEME: SignedEvents = SignedEvents {
    provider: "FastSpring",
    signature: BodyHmac::new("x-fs-signature", "", Encoding::Base64, Digest::Sha256),
    id: Some("/id"),
    event_type: |e| super::json_str(e, "/type"),
    empty_is_check: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::Rejection;

    const SECRET: &str = "fastspring-secret-13";
    const BODY: &str = r#"{"events":[{"id":"6d1e0d8a8b7c4a1f","live":false,"processed":false,"type":"order.completed","created":1716199200000,"data":{"order":"4t2MRmM8Sd6oxVk3iRYnWg","reference":"FUR240520-1234-56789X","total":29.95}},{"id":"7e2f1e9b9c8d5b2a","live":false,"processed":false,"type":"subscription.activated","created":1716199200500,"data":{"subscription":"N7Hb3kAuR2yWW7CSGkgmzQ","state":"active"}}]}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// FastSpring SDK verifies webhooks).
    const SIGNATURE: &str = "rkbQ7jShSrQAbiEo9iPvkWz1ViVSK8qSmpQhgL27C8E=";

    #[test]
    fn vector_splits_into_its_events() {
        let case = Case::new("fastspring", &["rotated-out", SECRET], "");
        let given = case.raw(&[("x-fs-signature", SIGNATURE)], BODY.as_bytes());
        let (parts, read) = given.batch(0);
        assert_eq!(
            read,
            [
                (
                    "6d1e0d8a8b7c4a1f".to_string(),
                    "order.completed".to_string()
                ),
                (
                    "7e2f1e9b9c8d5b2a".to_string(),
                    "subscription.activated".to_string()
                )
            ]
        );
        assert!(BODY[parts[1].range.clone()].starts_with(r#"{"id":"7e2f"#));
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("fastspring", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-fs-signature"), Some(SIGNATURE));
    }

    #[test]
    fn an_event_without_id_or_an_empty_batch_is_refused_whole() {
        let case = Case::new("fastspring", &[SECRET], "");
        for body in [
            r#"{"events":[{"id":"a","type":"order.completed"},{"type":"order.completed"}]}"#,
            r#"{"events":[]}"#,
            r#"[{"id":"a","type":"order.completed"}]"#,
        ] {
            let got = case.signed(body.as_bytes(), 0, "-", &[]).verify(None, 0);
            assert!(
                matches!(got, Err(Rejection::BadRequest(_))),
                "{body}: {got:?}"
            );
        }
    }
}
