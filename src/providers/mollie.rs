//! Mollie (next-gen webhooks): `X-Mollie-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of the body keyed with the webhook's signing secret. The
//! event ID is the body's `id` (`event_...`), the type its `type`
//! (`payment-link.paid`). Mollie's classic webhooks (`id=tr_...` form posts)
//! are not signed, so a `mollie` source refuses them: `401`.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Mollie",
    signature: BodyHmac::new(
        "x-mollie-signature",
        "sha256=",
        Encoding::Hex,
        Digest::Sha256,
    ),
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::{Case, Vector};

    const SECRET: &str = "mollie-signing-secret-0a6d";
    const BODY: &str = r#"{"resource":"event","id":"event_GvJ8WHrp5isUdRub9CJyH","type":"payment-link.paid","entityId":"pl_qng5gbbv8NAZ5gpM5ZYgx","createdAt":"2026-02-11T10:50:00+00:00","_links":{"self":{"href":"https://api.mollie.com/v2/events/event_GvJ8WHrp5isUdRub9CJyH","type":"application/hal+json"},"entity":{"href":"https://api.mollie.com/v2/payment-links/pl_qng5gbbv8NAZ5gpM5ZYgx","type":"application/hal+json"}}}"#;
    /// Mollie's verifier ships in its PHP SDK (`SignatureValidator`), which
    /// cannot run here: computed with Python's `hmac` module from the
    /// documented scheme, with the `sha256=` prefix that SDK strips.
    const SIGNATURE: &str =
        "sha256=f70bb6a2758c04c627b1b3e2126c060c7b28b57f0489620246516725089094c6";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "mollie",
            secret: SECRET,
            body: BODY,
            signature: ("x-mollie-signature", SIGNATURE),
            headers: &[],
            id: "event_GvJ8WHrp5isUdRub9CJyH",
            event_type: "payment-link.paid",
        }
        .assert_verifies_and_signs();
    }

    #[test]
    fn a_classic_unsigned_webhook_is_refused() {
        Case::new("mollie", &[SECRET], "")
            .raw(&[], b"id=tr_5B8cwPMGnU6qLbRvo7qEZo")
            .assert_unauthorized(None, 0);
    }
}
