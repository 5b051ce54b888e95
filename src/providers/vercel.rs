//! Vercel: `x-vercel-signature`, the hex HMAC-SHA1 of the body keyed with
//! the webhook's secret. The event ID is the body's `id`, the type `type`
//! (`deployment.succeeded`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Vercel",
    signature: BodyHmac::new("x-vercel-signature", "", Encoding::Hex, Digest::Sha1),
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "vercel-secret-0a9";
    const BODY: &str = r#"{"id":"uQsHeDEXAMPLE","type":"deployment.succeeded","createdAt":1700000000000,"payload":{"deployment":{"id":"dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa"}}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "6abec17f4cfb914345c76be8ecd1638bf53dd8ae";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "vercel",
            secret: SECRET,
            body: BODY,
            signature: ("x-vercel-signature", SIGNATURE),
            headers: &[],
            id: "uQsHeDEXAMPLE",
            event_type: "deployment.succeeded",
        }
        .assert_verifies_and_signs();
    }
}
