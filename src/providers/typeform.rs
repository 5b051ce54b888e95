//! Typeform: `Typeform-Signature: sha256=<base64>`, the HMAC-SHA256 of the
//! body keyed with the webhook's secret. The event ID is the body's
//! `event_id`, the type `event_type` (`form_response`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Typeform;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "typeform-signature",
        prefix: "sha256=",
        encoding: Encoding::Base64,
    },
    digest: Digest::Sha256,
};

impl Scheme for Typeform {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Typeform")?;
        Verified::new(
            required_json_str(&json, "/event_id", "event_id")?,
            required_json_str(&json, "/event_type", "event_type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![SIGNATURE.sign(key, body)]
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/event_id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "typeform-secret-abc";
    const BODY: &str = r#"{"event_id":"01GSBNZKBVNG7V8YXN4D5FZ4X5","event_type":"form_response","form_response":{"form_id":"lT4Z3j","token":"a3a12ec67a1365927098a606107fac15","submitted_at":"2023-02-16T12:00:00Z"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "sha256=SOD14GSWWu+99WEflz8Pn4VRWrIO2qIeeAsyaNQEzOc=";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("typeform", &["rotated-out", SECRET], "");
        let given = case.raw(&[("typeform-signature", SIGNATURE)], BODY.as_bytes());
        let (id, event_type) = given.event(0);
        assert_eq!(id, "01GSBNZKBVNG7V8YXN4D5FZ4X5");
        assert_eq!(event_type, "form_response");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("typeform", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 0, "01GSBNZKBVNG7V8YXN4D5FZ4X5", &[]);
        assert_eq!(signed.header("typeform-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
