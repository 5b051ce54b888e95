//! Intercom: `X-Hub-Signature: sha1=<hex>`, the HMAC-SHA1 of the body keyed
//! with the app's client secret. The event ID is the notification's `id`,
//! the type its `topic` (`conversation.user.created`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, SignedBody};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Intercom",
    signature: BodyHmac::new("x-hub-signature", "sha1=", Encoding::Hex, Digest::Sha1),
    id: Field::Pointer("/id"),
    event_type: Field::Pointer("/topic"),
    sent_at: None,
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "intercom-client-secret-7d1";
    const BODY: &str = r#"{"type":"notification_event","app_id":"abc123","data":{"type":"notification_event_data","item":{"type":"conversation","id":"147"}},"id":"notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3","topic":"conversation.user.created","delivery_status":"pending","delivery_attempts":1,"created_at":1403865553}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "sha1=50720dc69b08fb9cae76118f7df3d438574fac19";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "intercom",
            secret: SECRET,
            body: BODY,
            signature: ("x-hub-signature", SIGNATURE),
            headers: &[],
            id: "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
            event_type: "conversation.user.created",
        }
        .assert_verifies_and_signs();
    }
}
