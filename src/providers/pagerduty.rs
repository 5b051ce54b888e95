//! PagerDuty (v3 webhooks), a [`SignedBody`] row: `X-PagerDuty-Signature:
//! v1=<hex>[,v1=<hex>]`, the HMAC-SHA256 of the body; several signatures
//! appear while a subscription's secret rotates, and any one may match. The
//! event ID is the body's `event.id`, the type `event.event_type`
//! (`incident.triggered`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "PagerDuty",
    signature: BodyHmac {
        header: SignatureHeader::listed("x-pagerduty-signature", "v1", Encoding::Hex)
            .shown_as("X-PagerDuty-Signature"),
        digest: Digest::Sha256,
    },
    id: Field::Pointer("/event/id"),
    event_type: Field::Pointer("/event/event_type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "pd-secret-v3";
    const BODY: &str = r#"{"event":{"id":"5ac64822-4adc-4fda-ade0-410becf0de4f","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2020-10-02T18:45:22.169Z","data":{"id":"PGR0VU2","type":"incident"}}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following PagerDuty's documented v3 scheme.
    const SIGNATURE: &str = "v1=0edd5b72cfb067f36797b2adb4345832796531a8bea13e68e9f1e4ee25d7457d";

    #[test]
    fn vector_with_rotation_verifies_and_signs() {
        let case = Case::new("pagerduty", &[SECRET], "");
        let rotating = format!("v1=00aa,{SIGNATURE}");
        let given = case.raw(&[("x-pagerduty-signature", &rotating)], BODY.as_bytes());
        assert_eq!(
            given.event(0),
            (
                "5ac64822-4adc-4fda-ade0-410becf0de4f".into(),
                "incident.priority_updated".into()
            )
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = case.signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-pagerduty-signature"), Some(SIGNATURE));
    }
}
