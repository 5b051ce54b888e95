//! Telnyx (API v2): `telnyx-signature-ed25519` is the base64 Ed25519
//! signature of `{telnyx-timestamp}|{body}`, verified with the account's
//! public key as the portal shows it (base64, `public_keys`). The timestamp
//! counts within ±300 s, as Telnyx's SDKs check. The event ID is
//! `data.id`, the type `data.event_type` (`message.received`).

use super::ed25519::{Form, Timestamped};
use super::kit::Encoding;
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};

static FORM: Form = Form {
    signature_header: "telnyx-signature-ed25519",
    timestamp_header: "telnyx-timestamp",
    separator: b"|",
    encoding: Encoding::Base64,
    private: "base64 of 32 or 64 bytes",
    missing: "telnyx verifies with the account's public key: list it (base64, from the portal)",
};

#[derive(Debug)]
pub struct Telnyx(Timestamped);

impl Telnyx {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Telnyx, ConfigError> {
        Timestamped::from_config(&FORM, source, key).map(Telnyx)
    }
}

impl Scheme for Telnyx {
    fn verify(
        &self,
        _keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        self.0.check(req, tolerance, now)?;
        let json = json_body(req.body, "Telnyx")?;
        let id = required_json_str(&json, "/data/id", "data.id")?;
        let event_type = required_json_str(&json, "/data/event_type", "data.event_type")?;
        Verified::new(id, event_type).map(Verdict::Event)
    }

    fn sign(&self, _key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        self.0.sign(body, now)
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    fn signing_ready(&self, _keys: &Keys) -> Result<(), String> {
        self.0.signing_ready()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ed25519::PrivateKey;
    use crate::providers::testing::{assert_config_errors, build, TimestampedHeaders};
    use base64::{engine::general_purpose::STANDARD as B64, Engine};

    // Signed with PyNaCl 1.6.2 under the seed 0x44 * 32 and accepted by
    // Telnyx's Python SDK, `telnyx` 4.189.0
    // (`telnyx.lib.webhook_verification.verify_webhook_signature`).
    const PUBLIC_KEY: &str = "11l5O7wTooGagnx2rbb7qKSa7gB/SfLQmS2ZuCWtLEg=";
    const SEED: &str = "REREREREREREREREREREREREREREREREREREREREREQ=";
    const BODY: &str = r#"{"data":{"event_type":"message.received","id":"b301ed3f-1490-491f-995f-6e64e69674d4","occurred_at":"2026-02-11T10:30:00.000+00:00","payload":{"direction":"inbound","from":{"phone_number":"+13125550001"},"id":"84cca175-9755-4859-b67f-4730d7f58aa3","text":"Hello from Telnyx!","to":[{"phone_number":"+17735550002","status":"webhook_delivered"}],"type":"SMS"},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/webhooks"}}"#;
    const TIMESTAMP: i64 = 1770805800;
    const SIGNATURE: &str =
        "Shs8sr0EFxiL/cV9Uvxr9Fx3oBMRZ1dR5rzf3LNzzcNKUcfHzoZNLTCQZyjnG23HVeaO85He2MwKEk95OHSCBw==";

    const SIGNED: TimestampedHeaders = TimestampedHeaders {
        signature: "telnyx-signature-ed25519",
        timestamp: "telnyx-timestamp",
    };

    fn source(extra: &str) -> Result<Telnyx, ConfigError> {
        build(Telnyx::from_config, "telnyx", extra)
    }

    fn unauthorized(r: Result<Verdict, Rejection>) -> bool {
        matches!(r, Err(Rejection::Unauthorized(_)))
    }

    #[test]
    fn vector_verifies_and_the_signer_reproduces_it() {
        let t = source(&format!(
            "public_keys = [\"{PUBLIC_KEY}\"]\nsigning_key = \"{SEED}\""
        ))
        .unwrap();
        let ts = TIMESTAMP.to_string();
        let got = SIGNED
            .verify(&t, BODY, SIGNATURE, &ts, Some(300), TIMESTAMP + 10)
            .unwrap();
        assert_eq!(
            got,
            crate::providers::testing::event(
                "b301ed3f-1490-491f-995f-6e64e69674d4",
                "message.received"
            )
        );
        let h = t.sign(&[], BODY.as_bytes(), TIMESTAMP, "");
        assert_eq!(h[0], ("telnyx-signature-ed25519".into(), SIGNATURE.into()));
        assert_eq!(h[1].1, ts);
    }

    #[test]
    fn tampering_a_wrong_key_and_stale_timestamps_are_refused() {
        let t = source(&format!("public_keys = [\"{PUBLIC_KEY}\"]")).unwrap();
        let ts = TIMESTAMP.to_string();
        let tampered = BODY.replace("Hello", "Hellp");
        assert!(unauthorized(
            SIGNED.verify(&t, &tampered, SIGNATURE, &ts, None, TIMESTAMP)
        ));
        assert!(unauthorized(SIGNED.verify(
            &t,
            BODY,
            SIGNATURE,
            &(TIMESTAMP + 1).to_string(),
            None,
            TIMESTAMP
        )));
        let other = B64.encode(PrivateKey::from_bytes(&[9; 32]).unwrap().public_key());
        let wrong = source(&format!("public_keys = [\"{other}\"]")).unwrap();
        assert!(unauthorized(
            SIGNED.verify(&wrong, BODY, SIGNATURE, &ts, None, TIMESTAMP)
        ));
        let tolerance = t.default_tolerance();
        assert!(unauthorized(SIGNED.verify(
            &t,
            BODY,
            SIGNATURE,
            &ts,
            tolerance,
            TIMESTAMP + 301
        )));
        assert!(unauthorized(SIGNED.verify(
            &t,
            BODY,
            SIGNATURE,
            &ts,
            tolerance,
            TIMESTAMP - 301
        )));
    }

    #[test]
    fn configuration_errors_name_the_key() {
        assert_config_errors(
            source,
            &[
                ("", "sources[0].public_keys"),
                (
                    "public_keys = [\"bm90IGEga2V5\"]",
                    "sources[0].public_keys[0]",
                ),
                (
                    &format!("public_keys = [\"{PUBLIC_KEY}\"]\nsigning_key = \"eA==\""),
                    "sources[0].signing_key",
                ),
            ],
        );
    }
}
