//! Vercel: `x-vercel-signature`, the hex HMAC-SHA1 of the body keyed with
//! the webhook's secret. The event ID is the body's `id`, the type `type`
//! (`deployment.succeeded`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Vercel;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-vercel-signature",
        prefix: "",
        encoding: Encoding::Hex,
    },
    digest: Digest::Sha1,
};

impl Scheme for Vercel {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Vercel")?;
        Verified::new(
            required_json_str(&json, "/id", "id")?,
            required_json_str(&json, "/type", "type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![SIGNATURE.sign(key, body)]
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "vercel-secret-0a9";
    const BODY: &str = r#"{"id":"uQsHeDEXAMPLE","type":"deployment.succeeded","createdAt":1700000000000,"payload":{"deployment":{"id":"dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa"}}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "6abec17f4cfb914345c76be8ecd1638bf53dd8ae";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("vercel", &["rotated-out", SECRET], "");
        let given = case.raw(&[("x-vercel-signature", SIGNATURE)], BODY.as_bytes());
        let (id, event_type) = given.event(0);
        assert_eq!(id, "uQsHeDEXAMPLE");
        assert_eq!(event_type, "deployment.succeeded");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("vercel", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), 0, "uQsHeDEXAMPLE", &[]);
        assert_eq!(signed.header("x-vercel-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
