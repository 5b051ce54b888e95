//! Discord: `X-Signature-Ed25519` is the hex Ed25519 signature of
//! `{X-Signature-Timestamp}{body}` under the application's public key (hex,
//! from the developer portal). One source serves both endpoints an
//! application registers:
//!
//! - **Webhook Events URL**: `{"type": 0}` is a PING, answered `204` with no
//!   body and not stored; `{"type": 1, "event": {...}}` is an event of type
//!   `event.type`. These carry no ID of their own, so the event ID is the
//!   SHA-256 (hex) of the body: Discord's retries (up to 10 minutes) resend
//!   the same bytes. Stored events are answered `204`, as Discord asks.
//! - **Interactions Endpoint URL**: type 1 is a PING, answered
//!   `{"type": 1}` (PONG) and not stored. Other interactions are stored with
//!   ID `id` and type `interaction.<name>` and answered with a deferred
//!   response (type 5 for commands and modals, 6 for components, an empty
//!   choice list for autocomplete), so the target can follow up with the
//!   interaction token within Discord's 15 minutes.
//!
//! Discord documents no timestamp tolerance; `tolerance_secs` sets one.

use sha2::Digest;

use super::ed25519::{Form, Timestamped};
use super::kit::Encoding;
use super::{
    json_body, json_str, required_json_str, Ack, Handshake, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};

static FORM: Form = Form {
    signature_header: "X-Signature-Ed25519",
    timestamp_header: "X-Signature-Timestamp",
    separator: b"",
    encoding: Encoding::Hex,
    private: "64 or 128 hex digits",
    missing: "discord verifies with the application's public key: list it (hex, from the developer portal)",
};

#[derive(Debug)]
pub struct Discord(Timestamped);

impl Discord {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Discord, ConfigError> {
        Timestamped::from_config(&FORM, source, key).map(Discord)
    }
}

impl Scheme for Discord {
    fn verify(
        &self,
        _keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        self.0.check(req, tolerance, now)?;
        let json = json_body(req.body, "Discord")?.value();
        let kind = json.get("type").and_then(|t| t.as_u64());
        if json.get("token").is_some() {
            return interaction(&json, kind);
        }
        match kind {
            Some(0) => Ok(Verdict::Handshake(Handshake::no_content())),
            Some(1) => {
                let event_type = required_json_str(&json, "/event/type", "event.type")?;
                let id = hex::encode(sha2::Sha256::digest(req.body));
                Ok(Verdict::Event(
                    Verified::new(id, event_type)?.with_ack(Ack::NoContent),
                ))
            }
            _ => Err(Rejection::BadRequest(
                "body type is neither 0 (PING) nor 1 (event)".into(),
            )),
        }
    }

    fn sign(&self, _key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        self.0.sign(body, now)
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    fn signing_ready(&self, _keys: &Keys) -> Result<(), String> {
        self.0.signing_ready()
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/id")
    }
}

/// An interaction: PING answered with PONG, anything else stored and
/// acknowledged with the deferred response that suits its type.
fn interaction(json: &serde_json::Value, kind: Option<u64>) -> Result<Verdict, Rejection> {
    let (name, reply) = match kind {
        Some(1) => {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({"type": 1}),
            )))
        }
        Some(2) => ("application_command", serde_json::json!({"type": 5})),
        Some(3) => ("message_component", serde_json::json!({"type": 6})),
        Some(4) => (
            "application_command_autocomplete",
            serde_json::json!({"type": 8, "data": {"choices": []}}),
        ),
        Some(5) => ("modal_submit", serde_json::json!({"type": 5})),
        _ => {
            return Err(Rejection::BadRequest(
                "interaction type is not one Discord documents (1-5)".into(),
            ))
        }
    };
    let id = json_str(json, "/id")
        .ok_or_else(|| Rejection::BadRequest("interaction has no id".into()))?;
    Ok(Verdict::Event(
        Verified::new(id, format!("interaction.{name}"))?.with_ack(Ack::Json(reply)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ed25519::PrivateKey;
    use crate::providers::testing::{assert_config_errors, build, TimestampedHeaders};

    // A vector made with PyNaCl 1.5.0 (libsodium's Ed25519) from the seed
    // below and checked with Discord's own `discord-interactions` 4.4.0
    // (npm) `verifyKey`, which accepted it.
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const TIMESTAMP: &str = "1700000000";
    const BODY: &str = r#"{"version":1,"application_id":"1234560123453231555","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{"integration_type":1,"scopes":["applications.commands"],"user":{"id":"1111","username":"user"}}}}"#;
    const SIGNATURE: &str = "cb6448906236d439714c9e56684ad46ec78caf2af60df5e371bf32a019942d6d4cb4ce9465830cbe7178d9a60d0dc91b215658a8e914e807697f64f57b5a5806";

    const SIGNED: TimestampedHeaders = TimestampedHeaders {
        signature: "x-signature-ed25519",
        timestamp: "x-signature-timestamp",
    };

    fn source(extra: &str) -> Result<Discord, ConfigError> {
        build(Discord::from_config, "discord", extra)
    }

    #[test]
    fn published_vector_and_signer() {
        let d = source(&format!(
            "public_keys = [\"{PUBLIC}\"]\nsigning_key = \"{SEED}\""
        ))
        .unwrap();
        let v = SIGNED
            .verify(&d, BODY, SIGNATURE, TIMESTAMP, None, 0)
            .unwrap();
        let Verdict::Event(v) = v else {
            panic!("{v:?}")
        };
        assert_eq!(v.event_type(), "APPLICATION_AUTHORIZED");
        assert_eq!(
            v.provider_event_id(),
            hex::encode(sha2::Sha256::digest(BODY))
        );
        assert_eq!(v.ack(), Some(&Ack::NoContent));
        let signed = d.sign(&[], BODY.as_bytes(), 1700000000, "");
        assert_eq!(signed[0].1, SIGNATURE, "the development signer agrees");
        assert_eq!(signed[1].1, TIMESTAMP);
    }

    #[test]
    fn tampering_a_wrong_key_and_stale_timestamps_are_refused() {
        let d = source(&format!("public_keys = [\"{PUBLIC}\"]")).unwrap();
        let tampered = BODY.replace("1111", "2222");
        assert!(matches!(
            SIGNED.verify(&d, &tampered, SIGNATURE, TIMESTAMP, None, 0),
            Err(Rejection::Unauthorized(_))
        ));
        assert!(matches!(
            SIGNED.verify(&d, BODY, SIGNATURE, "1700000001", None, 0),
            Err(Rejection::Unauthorized(_))
        ));
        let other = PrivateKey::from_bytes(&[7; 32]).unwrap();
        let wrong = source(&format!(
            "public_keys = [\"{}\"]",
            hex::encode(other.public_key())
        ))
        .unwrap();
        assert!(matches!(
            SIGNED.verify(&wrong, BODY, SIGNATURE, TIMESTAMP, None, 0),
            Err(Rejection::Unauthorized(_))
        ));
        // Rotation: any listed key verifies.
        let both = source(&format!(
            "public_keys = [\"{}\", \"{PUBLIC}\"]",
            hex::encode(other.public_key())
        ))
        .unwrap();
        assert!(SIGNED
            .verify(&both, BODY, SIGNATURE, TIMESTAMP, None, 0)
            .is_ok());
        assert!(SIGNED
            .verify(&d, BODY, SIGNATURE, TIMESTAMP, Some(300), 1700000000 + 301)
            .is_err());
        assert!(SIGNED
            .verify(&d, BODY, SIGNATURE, TIMESTAMP, Some(300), 1700000000 + 300)
            .is_ok());
    }

    #[test]
    fn pings_are_answered_and_interactions_deferred() {
        let d = source(&format!(
            "public_keys = [\"{PUBLIC}\"]\nsigning_key = \"{SEED}\""
        ))
        .unwrap();
        let signed = |body: &str| {
            let h = d.sign(&[], body.as_bytes(), 5, "");
            SIGNED.verify(&d, body, &h[0].1, &h[1].1, None, 5)
        };
        assert_eq!(
            signed(r#"{"version":1,"application_id":"1","type":0}"#).unwrap(),
            Verdict::Handshake(Handshake::no_content())
        );
        assert_eq!(
            signed(r#"{"id":"9","application_id":"1","type":1,"token":"t","version":1}"#).unwrap(),
            Verdict::Handshake(Handshake::json(serde_json::json!({"type": 1})))
        );
        let Verdict::Event(v) =
            signed(r#"{"id":"81","application_id":"1","type":2,"token":"t","version":1,"data":{"name":"ping"}}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (v.provider_event_id(), v.event_type()),
            ("81", "interaction.application_command")
        );
        assert_eq!(v.ack(), Some(&Ack::Json(serde_json::json!({"type": 5}))));
        assert!(matches!(
            signed(r#"{"type":7}"#),
            Err(Rejection::BadRequest(_))
        ));
    }

    #[test]
    fn configuration_errors_name_the_key() {
        assert_config_errors(
            source,
            &[
                ("", "sources[0].public_keys"),
                ("public_keys = [\"abc\"]", "sources[0].public_keys[0]"),
                (
                    &format!("public_keys = [\"{PUBLIC}\"]\nsigning_key = \"zz\""),
                    "sources[0].signing_key",
                ),
            ],
        );
    }
}
