//! Microsoft Teams outgoing webhooks: `Authorization: HMAC <base64>`, the
//! HMAC-SHA256 of the body keyed with the webhook's security token decoded
//! from base64 (the token is configured as Teams shows it). The
//! `Authorization` header is never stored. The event ID is the activity's
//! `id`, the type its `type` (`message`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::signed_body::{Base64Keyed, Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: Base64Keyed = Base64Keyed(SignedBody {
    provider: "Microsoft Teams",
    signature: BodyHmac {
        header: SignatureHeader::new("authorization", "HMAC ", Encoding::Base64)
            .shown_as("Authorization"),
        digest: Digest::Sha256,
    },
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/type"),
    sent_at: None,
});

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    /// The security token as Teams shows it (base64).
    const SECRET: &str = "dGVhbXMtc2VjdXJpdHktdG9rZW4tMTYtYnl0ZXMhIQ==";
    const BODY: &str = r#"{"type":"message","id":"1716199200123","timestamp":"2024-05-20T10:00:00.123Z","serviceUrl":"https://smba.trafficmanager.net/emea/","channelId":"msteams","from":{"id":"29:1a2b3c","name":"Ada"},"conversation":{"id":"19:meeting_abc@thread.v2","isGroup":true},"text":"<at>hookgate</at> deploy","textFormat":"plain"}"#;
    /// Computed from the documented scheme with Python's `hmac` module over
    /// the base64-decoded token (no Microsoft SDK verifies outgoing
    /// webhooks).
    const SIGNATURE: &str = "HMAC CRIb5m6aQn0zjhviuyrpDWseXDmEPdZwz5RYivjHUxw=";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "microsoft-teams",
            secret: SECRET,
            body: BODY,
            signature: ("authorization", SIGNATURE),
            headers: &[],
            id: "1716199200123",
            event_type: "message",
        }
        .assert_verifies_and_signs();
    }
}
