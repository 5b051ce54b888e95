//! Heroku (app webhooks): `Heroku-Webhook-Hmac-SHA256`, the base64
//! HMAC-SHA256 of the body keyed with the subscription's secret. The event
//! ID is `webhook_metadata.event.id`, which every attempt keeps (a retry
//! carries a new `webhook_metadata.attempt.id`, hence other bytes: a retry
//! of a stored event is a recorded conflict, never a second delivery). The
//! type is the entity and action, `{webhook_metadata.event.include}.{action}`
//! (`api:release.update`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{required_json_str, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Heroku",
    signature: BodyHmac::new(
        "heroku-webhook-hmac-sha256",
        "",
        Encoding::Base64,
        Digest::Sha256,
    ),
    id: Field::Pointer("/webhook_metadata/event/id"),
    event_type: Field::Rule(entity_and_action),
    sent_at: None,
};

fn entity_and_action(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let json = json.get()?;
    let entity = required_json_str(
        json,
        "/webhook_metadata/event/include",
        "webhook_metadata.event.include",
    )?;
    Ok(format!(
        "{entity}.{}",
        required_json_str(json, "/action", "action")?
    ))
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "heroku-secret-4";
    const BODY: &str = r#"{"id":"6f5f2fa1-3bbe-4a8a-b6d4-5b3e0a7b2a13","data":{"id":"9a1a3b29-5f6b-4cd6-a8b5-d1a0bd0b0ee1","version":12,"status":"succeeded","app":{"name":"example-app"}},"actor":{"email":"dev@example.com"},"action":"update","resource":"release","version":"application/vnd.heroku+json; version=3","previous_data":{"status":"pending"},"published_at":"2024-05-20T10:00:00Z","created_at":"2024-05-20T10:00:00Z","updated_at":"2024-05-20T10:00:00Z","sequence":null,"webhook_metadata":{"attempt":{"id":"47bd3d2e-0d80-4a8d-9c3a-2d7a3a5a0d01"},"delivery":{"id":"0b3e7a6c-6b0a-4a55-8f0c-7e35e1b8a0a2"},"event":{"id":"6f5f2fa1-3bbe-4a8a-b6d4-5b3e0a7b2a13","include":"api:release"},"webhook":{"id":"e1a0c2d4-9f3b-4c8a-a6b1-2d3e4f5a6b7c"}}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// Heroku SDK verifies webhooks).
    const SIGNATURE: &str = "wSX1cSihxD30aNtgyxZXlUoKvUEw1E5ETQLdVZM8Sro=";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "heroku",
            secret: SECRET,
            body: BODY,
            signature: ("heroku-webhook-hmac-sha256", SIGNATURE),
            headers: &[],
            id: "6f5f2fa1-3bbe-4a8a-b6d4-5b3e0a7b2a13",
            event_type: "api:release.update",
        }
        .assert_verifies_and_signs();
    }
}
