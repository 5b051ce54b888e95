//! Gitea and Forgejo: `X-Gitea-Signature`, the hex HMAC-SHA256 of the body
//! keyed with the webhook's secret (Forgejo sends the same headers beside
//! its own `X-Forgejo-*` copies). The event ID is `X-Gitea-Delivery`; the
//! type is `X-Gitea-Event`, plus `.{action}` when the body has one
//! (`pull_request.opened`), as for GitHub.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{json_str, required_header, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Gitea",
    signature: BodyHmac::new("x-gitea-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Header("X-Gitea-Delivery"),
    event_type: Field::Rule(event_and_action),
    sent_at: None,
};

fn event_and_action(req: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let event = required_header(req.headers, "x-gitea-event")?;
    Ok(match json_str(json.get()?, "/action") {
        Some(action) => format!("{event}.{action}"),
        None => event.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "gitea-secret-2";
    const BODY: &str = r#"{"action":"opened","number":1,"pull_request":{"id":1,"number":1,"title":"Add a readme","state":"open"},"repository":{"id":1,"full_name":"gitea/webhooks"},"sender":{"id":1,"login":"gitea"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// Gitea SDK verifies webhooks).
    const SIGNATURE: &str = "d069926e6cb183ef33fdf220100a32347a8ff1dc14495ca3c62a0cde0268bea9";

    #[test]
    fn vector_verifies_and_signs_for_gitea_and_forgejo() {
        for provider in ["gitea", "forgejo"] {
            Vector {
                provider,
                secret: SECRET,
                body: BODY,
                signature: ("x-gitea-signature", SIGNATURE),
                headers: &[
                    ("x-gitea-delivery", "a4b5c6d7-0000-4000-8000-000000000001"),
                    ("x-gitea-event", "pull_request"),
                ],
                id: "a4b5c6d7-0000-4000-8000-000000000001",
                event_type: "pull_request.opened",
            }
            .assert_verifies_and_signs();
        }
    }
}
