//! LaunchDarkly: `X-LD-Signature`, the hex HMAC-SHA256 of the body keyed
//! with the webhook's secret. A notification is an audit log entry: the
//! event ID is its `_id`; the type is its `kind` plus `.{action}` of its
//! first access when it has one (`flag.updateOn`).

use super::kit::{BodyHmac, Encoding};
use super::signed_body::{Field, Json, SignedBody};
use super::{json_str, required_json_str, Inbound, Rejection};
use crate::crypto::Digest;

pub const SCHEME: SignedBody = SignedBody {
    provider: "LaunchDarkly",
    signature: BodyHmac::new("x-ld-signature", "", Encoding::Hex, Digest::Sha256),
    id: Field::Pointer("/_id"),
    event_type: Field::Rule(kind_and_action),
    sent_at: None,
};

fn kind_and_action(_: &Inbound<'_>, json: &Json<'_>) -> Result<String, Rejection> {
    let json = json.get()?;
    let kind = required_json_str(json, "/kind", "kind")?;
    Ok(match json_str(json, "/accesses/0/action") {
        Some(action) => format!("{kind}.{action}"),
        None => kind,
    })
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Vector;

    const SECRET: &str = "ld-secret-5";
    const BODY: &str = r#"{"_id":"5defcee1f1f0d80a8a1b5d9c","kind":"flag","name":"Example flag","date":1575997153241,"titleVerb":"turned on","title":"Ada turned on Example flag","accesses":[{"action":"updateOn","resource":"proj/default:env/production:flag/example-flag"}],"member":{"email":"ada@example.com"}}"#;
    /// Computed from the documented scheme with Python's `hmac` module (no
    /// LaunchDarkly SDK verifies webhooks).
    const SIGNATURE: &str = "7cea10f7e766b6e02892fd544336691c1e9e692b89471b68ccdc309952b90db5";

    #[test]
    fn vector_verifies_and_signs() {
        Vector {
            provider: "launchdarkly",
            secret: SECRET,
            body: BODY,
            signature: ("x-ld-signature", SIGNATURE),
            headers: &[],
            id: "5defcee1f1f0d80a8a1b5d9c",
            event_type: "flag.updateOn",
        }
        .assert_verifies_and_signs();
    }
}
