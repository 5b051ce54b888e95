//! CircleCI (outbound webhooks): `circleci-signature: v1=<hex>`, a list of
//! versioned signatures of which only `v1` (the hex HMAC-SHA256 of the body)
//! is read, so a request can never downgrade to another version. The event
//! ID is the body's `id` (CircleCI's own dedup key), the type `type`
//! (`workflow-completed`, `job-completed`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "CircleCI",
    signature: BodyHmac {
        header: SignatureHeader::listed("circleci-signature", "v1", Encoding::Hex),
        digest: Digest::Sha256,
    },
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::{Case, Vector};
    use crate::providers::Rejection;

    const SECRET: &str = "circleci-secret-3";
    const BODY: &str = r#"{"type":"workflow-completed","id":"3888f21b-eaa7-38e3-8f3d-75a63bba8895","happened_at":"2021-09-01T22:49:34.317Z","webhook":{"id":"cf8c4fdd-0587-4da1-b4ca-4846e9640af9","name":"Sample Webhook"},"workflow":{"id":"fda08377-fe7e-46b1-8992-3a7aaecac9c3","name":"build-test-deploy","status":"success"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module
    /// (CircleCI publishes no SDK that verifies webhooks).
    const SIGNATURE: &str = "v1=9ec096da8f177c90e6007a6af5813975c24e5ad89b4374ef62883ae9def7ae4e";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "circleci",
            secret: SECRET,
            body: BODY,
            signature: ("circleci-signature", SIGNATURE),
            headers: &[],
            id: "3888f21b-eaa7-38e3-8f3d-75a63bba8895",
            event_type: "workflow-completed",
        }
        .assert_verifies_and_signs();
    }

    /// CircleCI's validation guide: `hello world` keyed with `secret`. The
    /// signature holds; the body is then not the JSON CircleCI sends.
    #[test]
    fn documented_vector_and_versions() {
        let case = Case::new("circleci", &["secret"], "");
        let doc = "v1=734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a";
        let got = case
            .raw(&[("circleci-signature", doc)], b"hello world")
            .verify(None, 0);
        assert!(matches!(got, Err(Rejection::BadRequest(_))), "{got:?}");
        // Another version beside v1 is ignored; v1 alone under another
        // version's name is refused.
        let case = Case::new("circleci", &[SECRET], "");
        let listed = format!("v2=00ff,{SIGNATURE}");
        assert!(case
            .raw(&[("circleci-signature", &listed)], BODY.as_bytes())
            .verify(None, 0)
            .is_ok());
        let downgraded = SIGNATURE.replace("v1=", "v0=");
        case.raw(&[("circleci-signature", &downgraded)], BODY.as_bytes())
            .assert_unauthorized(None, 0);
    }
}
