//! Paystack: `x-paystack-signature`, the hex HMAC-SHA512 of the body keyed
//! with the account's secret key. Paystack sends no event ID: the dedup key
//! is the body's SHA-256. The type is the body's `event` (`charge.success`).

use super::kit::{body_sha256, BodyHmac, Encoding, SignatureHeader};
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Paystack;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-paystack-signature",
        prefix: "",
        encoding: Encoding::Hex,
    },
    digest: Digest::Sha512,
};

impl Scheme for Paystack {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Paystack")?;
        Verified::new(
            body_sha256(req.body),
            required_json_str(&json, "/event", "event")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![SIGNATURE.sign(key, body)]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "sk_test_paystack_secret";
    const BODY: &str = r#"{"event":"charge.success","data":{"id":302961,"domain":"live","status":"success","reference":"qTPrJoy9Bx","amount":10000}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "b970431041599edbf55e36009569cf25455f90d077ef246e852ff2d1e63a1d61e945425f051f6be31fb9109d3fe94c0f9c418ebcf5519430ff68f9d06058950c";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("paystack", &["rotated-out", SECRET], "");
        let given = case.raw(&[("x-paystack-signature", SIGNATURE)], BODY.as_bytes());
        let (id, event_type) = given.event(0);
        assert_eq!(id, crate::providers::kit::body_sha256(BODY.as_bytes()));
        assert_eq!(event_type, "charge.success");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("paystack", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 0, "d-1", &[]);
        assert_eq!(signed.header("x-paystack-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
