//! Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`, the HMAC-SHA256 of the
//! body keyed with the webhook's secret. The event ID is `X-Request-UUID`,
//! the type `X-Event-Key` (`repo:push`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{json_body, required_header, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Bitbucket;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-hub-signature",
        prefix: "sha256=",
        encoding: Encoding::Hex,
    },
    digest: Digest::Sha256,
};

impl Scheme for Bitbucket {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let id = required_header(req.headers, "x-request-uuid")?;
        let event_type = required_header(req.headers, "x-event-key")?;
        json_body(req.body, "Bitbucket")?;
        Verified::new(id.to_string(), event_type.to_string()).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        vec![
            SIGNATURE.sign(key, body),
            ("X-Request-UUID".into(), delivery_id.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "bitbucket-secret-x";
    const BODY: &str = r#"{"repository":{"full_name":"acme/api"},"push":{"changes":[{"new":{"name":"main"}}]},"actor":{"display_name":"Ada"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str =
        "sha256=b48fc71345d19e40221ca268033f431c32fb2b7552ac85892c7d6aef44919a65";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("bitbucket", &["rotated-out", SECRET], "");
        let given = case.raw(
            &[
                ("x-hub-signature", SIGNATURE),
                ("x-request-uuid", "u-1"),
                ("x-event-key", "repo:push"),
            ],
            BODY.as_bytes(),
        );
        let (id, event_type) = given.event(0);
        assert_eq!(id, "u-1");
        assert_eq!(event_type, "repo:push");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("bitbucket", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 0, "u-1", &[("x-event-key", "repo:push")]);
        assert_eq!(signed.header("x-hub-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
