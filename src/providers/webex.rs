//! Webex (Webhooks API): `X-Spark-Signature`, the hex HMAC-SHA1 of the body
//! keyed with the webhook's secret. A notification's `id` is its webhook's,
//! the same on every notification, so the event ID is the body's SHA-256
//! (a redelivery resends the same bytes; two notifications differ at least
//! in `data`). The type is `{resource}.{event}` (`messages.created`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{required_json_str, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "Webex",
    signature: BodyHmac::new("x-spark-signature", "", Encoding::Hex, Digest::Sha1),
    id: Field::BodySha256,
    event_type: Field::Rule(resource_and_event),
    sent_at: None,
};

fn resource_and_event(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let json = json.get()?;
    Ok(format!(
        "{}.{}",
        required_json_str(json, "/resource", "resource")?,
        required_json_str(json, "/event", "event")?
    ))
}

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::Vector;

    const SECRET: &str = "webex-secret-1";
    /// Shaped like the notification in Webex's "Receive and verify events"
    /// guide.
    const BODY: &str = r#"{"id":"Y2lzY29zcGFyazovL3VzL1dFQkhPT0svZjRlNjA1NjA","name":"New messages","resource":"messages","event":"created","orgId":"OTZhYmMyYWEtM2RjYy0xMWU1LWExNTItZmUzNDgxOWNkYzlh","createdBy":"Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1j","appId":"Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OL0MyNzlj","ownedBy":"creator","status":"active","actorId":"Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1j","data":{"id":"Y2lzY29zcGFyazovL3VzL01FU1NBR0UvOTJkYjNiZTAtNDNiZC0xMWU2LThhZTktZGQ1YjNkZmM1NjVk","roomId":"Y2lzY29zcGFyazovL3VzL1JPT00vYmJjZWIxYWQtNDNmMS0zYjU4LTkxNDctZjE0YmIwYzRkMTU0","roomType":"group","personId":"Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mNWIzNjE4Ny1j","personEmail":"matt@example.com","created":"2015-10-18T14:26:16.203Z"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module
    /// (no Webex SDK verifies webhooks).
    const SIGNATURE: &str = "5e5b12429978df808fdd26f5b7bcbdb88003265a";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "webex",
            secret: SECRET,
            body: BODY,
            signature: ("x-spark-signature", SIGNATURE),
            headers: &[],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "messages.created",
        }
        .assert_verifies_and_signs();
    }
}
