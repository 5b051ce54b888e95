//! Paystack: `x-paystack-signature`, the hex HMAC-SHA512 of the body keyed
//! with the account's secret key. Paystack sends no event ID: the dedup key
//! is the body's SHA-256. The type is the body's `event` (`charge.success`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Paystack",
    signature: BodyHmac::new("x-paystack-signature", "", Encoding::Hex, Digest::Sha512),
    id: Field::BodySha256,
    event_type: Field::Pointer("/event"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "sk_test_paystack_secret";
    const BODY: &str = r#"{"event":"charge.success","data":{"id":302961,"domain":"live","status":"success","reference":"qTPrJoy9Bx","amount":10000}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "b970431041599edbf55e36009569cf25455f90d077ef246e852ff2d1e63a1d61e945425f051f6be31fb9109d3fe94c0f9c418ebcf5519430ff68f9d06058950c";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "paystack",
            secret: SECRET,
            body: BODY,
            signature: ("x-paystack-signature", SIGNATURE),
            headers: &[],
            id: &crate::providers::kit::body_sha256(BODY.as_bytes()),
            event_type: "charge.success",
        }
        .assert_verifies_and_signs();
    }
}
