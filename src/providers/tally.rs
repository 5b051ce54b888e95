//! Tally: `Tally-Signature`, the base64 HMAC-SHA256 of the body keyed with
//! the webhook's signing secret. The event ID is the body's `eventId`, the
//! type `eventType` (`FORM_RESPONSE`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Tally",
    signature: BodyHmac::new("tally-signature", "", Encoding::Base64, Digest::Sha256),
    id: Field::Pointer("/eventId"),
    event_type: Field::Pointer("/eventType"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "tally-secret-8";
    const BODY: &str = r#"{"eventId":"a4cb511e-d513-4fa5-baee-b815d718dfd1","eventType":"FORM_RESPONSE","createdAt":"2023-06-28T15:00:21.889Z","data":{"responseId":"2wgx4n","submissionId":"2wgx4n","respondentId":"dwQKYm","formId":"VwbNEw","formName":"Webhook payload","fields":[{"key":"question_3EKz4n","label":"Name","type":"INPUT_TEXT","value":"Ada"}]}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (the
    /// sender publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "L9bNSMWruuuJdA7w33HIHNH6nDrygLMJYS1nTJiuR/U=";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "tally",
            secret: SECRET,
            body: BODY,
            signature: ("tally-signature", SIGNATURE),
            headers: &[],
            id: "a4cb511e-d513-4fa5-baee-b815d718dfd1",
            event_type: "FORM_RESPONSE",
        }
        .assert_verifies_and_signs();
    }
}
