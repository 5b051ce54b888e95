//! Razorpay: `X-Razorpay-Signature`, the hex HMAC-SHA256 of the body keyed
//! with the webhook secret. The event ID is `x-razorpay-event-id`, the type
//! the body's `event` (`payment.captured`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{
    json_body, required_header, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Razorpay;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-razorpay-signature",
        prefix: "",
        encoding: Encoding::Hex,
    },
    digest: Digest::Sha256,
};

impl Scheme for Razorpay {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let id = required_header(req.headers, "x-razorpay-event-id")?;
        let json = json_body(req.body, "Razorpay")?;
        Verified::new(id.to_string(), required_json_str(&json, "/event", "event")?)
            .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        vec![
            SIGNATURE.sign(key, body),
            ("x-razorpay-event-id".into(), delivery_id.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "rzp_webhook_test_secret";
    const BODY: &str = r#"{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_DESlfW9H8K9uqM","amount":100}}},"created_at":1567674606}"#;
    /// Computed with Python's `hmac` module and accepted by Razorpay's
    /// official Python SDK, `razorpay` 2.0.1
    /// (`client.utility.verify_webhook_signature`).
    const SIGNATURE: &str = "021129e557cc9acff02e69c1df06cf8077d0cd14f33ec732a2108878118288e3";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("razorpay", &["rotated-out", SECRET], "");
        let given = case.raw(
            &[
                ("x-razorpay-signature", SIGNATURE),
                ("x-razorpay-event-id", "Ev_1"),
            ],
            BODY.as_bytes(),
        );
        let (id, event_type) = given.event(0);
        assert_eq!(id, "Ev_1");
        assert_eq!(event_type, "payment.captured");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("razorpay", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 0, "Ev_1", &[]);
        assert_eq!(signed.header("x-razorpay-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
