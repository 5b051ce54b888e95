//! GoCardless: `Webhook-Signature`, the hex HMAC-SHA256 of the body keyed
//! with the webhook endpoint's secret. A webhook carries several events in
//! its `events` array; each is stored on its own with ID `id` (`EV...`) and
//! type `{resource_type}.{action}` (`payments.confirmed`).

use super::json_str;
use super::kit::{BodyHmac, Encoding};
use super::signed_events::SignedEvents;
use crate::crypto::Digest;

pub const SCHEME: SignedEvents = SignedEvents {
    provider: "GoCardless",
    signature: BodyHmac::new("webhook-signature", "", Encoding::Hex, Digest::Sha256),
    id: Some("/id"),
    event_type: |event| {
        let kind = json_str(event, "/resource_type")?;
        let action = json_str(event, "/action")?;
        Some(format!("{kind}.{action}"))
    },
    empty_is_check: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::{Rejection, Verdict};

    const SECRET: &str = "gc-webhook-endpoint-secret-51";
    const BODY: &str = r#"{"events":[{"id":"EV00BD05S5VM2T","created_at":"2026-02-11T10:25:01.000Z","resource_type":"payments","action":"confirmed","links":{"payment":"PM000260X9VKF4"},"details":{"origin":"gocardless","cause":"payment_confirmed","description":"Enough time has passed since the payment was submitted for the banks to return an error, so this payment is now confirmed."},"metadata":{}},{"id":"EV00BD05TB8K63","created_at":"2026-02-11T10:25:01.000Z","resource_type":"mandates","action":"cancelled","links":{"mandate":"MD000AMA19XGEC"},"details":{"origin":"bank","cause":"bank_account_disabled","description":"Your customer closed their bank account."},"metadata":{}}],"meta":{"webhook_id":"WB00000ABCDEF1"}}"#;
    /// Computed with Python's `hmac` module and accepted by GoCardless's
    /// Python SDK, `gocardless_pro` 3.22.0 (`webhooks.parse`).
    const SIGNATURE: &str = "22ff39e45a776815b4ecce486e9342832b860471dc57db141a02bdad1852fe45";

    #[test]
    fn vector_splits_into_its_events_and_signs() {
        let case = Case::new("gocardless", &["rotated-out", SECRET], "");
        let given = case.raw(&[("webhook-signature", SIGNATURE)], BODY.as_bytes());
        let Verdict::Batch(parts) = given.verify(None, 0).unwrap() else {
            panic!("a batch")
        };
        let got: Vec<(&str, &str)> = parts
            .iter()
            .map(|p| (p.verified.provider_event_id(), p.verified.event_type()))
            .collect();
        assert_eq!(
            got,
            [
                ("EV00BD05S5VM2T", "payments.confirmed"),
                ("EV00BD05TB8K63", "mandates.cancelled")
            ]
        );
        for p in &parts {
            let element: serde_json::Value = serde_json::from_str(&BODY[p.range.clone()]).unwrap();
            assert_eq!(element["id"], p.verified.provider_event_id());
        }
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("gocardless", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("webhook-signature"), Some(SIGNATURE));
    }

    #[test]
    fn an_event_without_its_fields_refuses_the_batch() {
        let case = Case::new("gocardless", &[SECRET], "");
        let body = br#"{"events":[{"id":"EV1","resource_type":"payments","action":"created"},{"id":"EV2","action":"created"}]}"#;
        match case.signed(body, 0, "-", &[]).verify(None, 0) {
            Err(Rejection::BadRequest(m)) => assert!(m.contains("[1]"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
