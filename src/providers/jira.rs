//! Jira Cloud (Atlassian webhooks with a secret): `X-Hub-Signature:
//! sha256=<hex>`, the HMAC-SHA256 of the body. The event ID is
//! `X-Atlassian-Webhook-Identifier`, which Atlassian keeps across retries;
//! the type is the body's `webhookEvent` (`jira:issue_created`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Jira",
    signature: BodyHmac::new("x-hub-signature", "sha256=", Encoding::Hex, Digest::Sha256),
    id: Field::Header("X-Atlassian-Webhook-Identifier"),
    event_type: Field::Pointer("/webhookEvent"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "jira-secret-y";
    const BODY: &str = r#"{"timestamp":1700000000000,"webhookEvent":"jira:issue_created","issue_event_type_name":"issue_created","issue":{"id":"10002","key":"ENG-7"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str =
        "sha256=6d8350decc2ec9a54b1c0e06154bfab86ee479bf8d78a82e5bd6faa128851b9a";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "jira",
            secret: SECRET,
            body: BODY,
            signature: ("x-hub-signature", SIGNATURE),
            headers: &[("x-atlassian-webhook-identifier", "a-1")],
            id: "a-1",
            event_type: "jira:issue_created",
        }
        .assert_verifies_and_signs();
    }
}
