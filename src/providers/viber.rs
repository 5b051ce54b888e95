//! Viber (bots): `X-Viber-Content-Signature`, the hex HMAC-SHA256 of the
//! body keyed with the bot's authentication token. Callbacks carry no ID of
//! their own and one message yields several (`delivered`, `seen`), so the
//! event ID is `{message_token}:{event}`; the type is `event`. The callback
//! Viber sends when the webhook is set (`"event": "webhook"`) is signed the
//! same way and stored like any other event.

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{required_json_str, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Viber",
    signature: BodyHmac::new(
        "x-viber-content-signature",
        "",
        Encoding::Hex,
        Digest::Sha256,
    ),
    id: Field::Rule(token_and_event),
    event_type: Field::Pointer("/event"),
    sent_at: None,
};

/// `{message_token}:{event}`: one token, several callbacks.
fn token_and_event(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let json = json.get()?;
    let token = required_json_str(json, "/message_token", "message_token")?;
    let event = required_json_str(json, "/event", "event")?;
    Ok(format!("{token}:{event}"))
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";
    const BODY: &str = r#"{"event":"message","timestamp":1770805200123,"chat_hostname":"SN-CHAT-01_","message_token":5741311803571721087,"sender":{"id":"01234567890A=","name":"John McClane","language":"en","country":"UK","api_version":1},"message":{"text":"a message to the service","type":"text"},"silent":false}"#;
    /// Computed with Python's `hmac` module and accepted by Viber's Python
    /// SDK, `viberbot` 1.0.12 (`Api.verify_signature`).
    const SIGNATURE: &str = "6f505d0ffea4a34db7804e68480da34a86bc9a27a31c91d99118407c83662798";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "viber",
            secret: SECRET,
            body: BODY,
            signature: ("x-viber-content-signature", SIGNATURE),
            headers: &[],
            id: "5741311803571721087:message",
            event_type: "message",
        }
        .assert_verifies_and_signs();
    }
}
