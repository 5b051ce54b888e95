//! SendGrid (Twilio) Event Webhook, signed: `X-Twilio-Email-Event-Webhook-Signature`
//! is the base64 DER ECDSA P-256/SHA-256 signature of
//! `{X-Twilio-Email-Event-Webhook-Timestamp}{body}`, verified with the
//! public key SendGrid shows under Mail Settings (base64 DER).
//!
//! The body is a JSON array of events. Each element is stored as an event
//! of its own (see [`super::batch`]): ID `sg_event_id`, type `event`
//! (`delivered`, `open`, `bounce`, ...), deduplicated and routed on its own.
//! SendGrid documents no timestamp tolerance; `tolerance_secs` sets one.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};

use super::batch::{body_array, Part};
use super::kit::has_signing_key;
use super::{
    bad_signature, check_timestamp, json_str, signature_header, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};

pub const SIGNATURE_HEADER: &str = "x-twilio-email-event-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-twilio-email-event-webhook-timestamp";

#[derive(Debug)]
pub struct Sendgrid {
    public_keys: Vec<VerifyingKey>,
    signing_key: Option<Box<SigningKey>>,
}

/// SendGrid shows keys as base64 DER; a PEM armour around it is accepted.
fn der_of(text: &str) -> Option<Vec<u8>> {
    let inner: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .split_whitespace()
        .collect();
    B64.decode(inner).ok()
}

impl Sendgrid {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Sendgrid, ConfigError> {
        let mut public_keys = Vec::new();
        for (i, text) in source.public_keys.iter().enumerate() {
            let parsed = der_of(text)
                .and_then(|der| VerifyingKey::from_public_key_der(&der).ok())
                .ok_or_else(|| {
                    ConfigError::new(
                        format!("{key}.public_keys[{i}]"),
                        "not a P-256 public key in base64 DER, as SendGrid shows it",
                    )
                })?;
            public_keys.push(parsed);
        }
        if public_keys.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.public_keys"),
                "sendgrid verifies with the Signed Event Webhook's verification key: list it (base64 DER)",
            ));
        }
        let signing_key = source
            .signing_key
            .as_ref()
            .map(|s| {
                der_of(s.expose())
                    .and_then(|der| SigningKey::from_pkcs8_der(&der).ok())
                    .map(Box::new)
                    .ok_or_else(|| {
                        ConfigError::new(
                            format!("{key}.signing_key"),
                            "not a P-256 private key in base64 PKCS#8 DER",
                        )
                    })
            })
            .transpose()?;
        Ok(Sendgrid {
            public_keys,
            signing_key,
        })
    }
}

impl Scheme for Sendgrid {
    fn verify(
        &self,
        _keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, SIGNATURE_HEADER)?;
        let timestamp = signature_header(req.headers, TIMESTAMP_HEADER)?;
        let signature = B64
            .decode(raw)
            .ok()
            .and_then(|der| Signature::from_der(&der).ok())
            .ok_or_else(|| {
                Rejection::Unauthorized(
                    "X-Twilio-Email-Event-Webhook-Signature is not a base64 DER signature".into(),
                )
            })?;
        let message = [timestamp.as_bytes(), req.body].concat();
        if !self
            .public_keys
            .iter()
            .any(|k| k.verify(&message, &signature).is_ok())
        {
            return Err(bad_signature());
        }
        check_timestamp(timestamp, tolerance, now, false)?;
        let elements = body_array(req.body).ok_or_else(|| {
            Rejection::BadRequest("body is not the JSON array of events SendGrid sends".into())
        })?;
        let mut parts = Vec::with_capacity(elements.len());
        for (i, (range, value)) in elements.into_iter().enumerate() {
            let id = json_str(&value, "/sg_event_id")
                .ok_or_else(|| Rejection::BadRequest(format!("event [{i}] has no sg_event_id")))?;
            let event_type = json_str(&value, "/event")
                .ok_or_else(|| Rejection::BadRequest(format!("event [{i}] has no event")))?;
            parts.push(Part {
                range,
                verified: Verified::new(id, event_type)?,
                bytes: None,
            });
        }
        Ok(Verdict::Batch(parts))
    }

    fn sign(&self, _key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let Some(key) = &self.signing_key else {
            return Vec::new();
        };
        let timestamp = now.to_string();
        let signature: Signature = key.sign(&[timestamp.as_bytes(), body].concat());
        vec![
            (
                "X-Twilio-Email-Event-Webhook-Signature".into(),
                B64.encode(signature.to_der()),
            ),
            ("X-Twilio-Email-Event-Webhook-Timestamp".into(), timestamp),
        ]
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    fn signing_ready(&self, _keys: &Keys) -> Result<(), String> {
        has_signing_key(
            self.signing_key.as_ref(),
            "the source has no signing_key (a development P-256 private key, base64 PKCS#8 DER)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{assert_config_errors, build, TimestampedHeaders};
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};

    // The two vectors of SendGrid's own `@sendgrid/eventwebhook` 8.0.0 (npm)
    // test suite (eventwebhook.spec.js): public key, payload (with its
    // trailing CRLF), timestamp and signature, all accepted by that
    // package's `verifySignature`.
    const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
    const SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
    const TIMESTAMP: &str = "1600112502";
    const PAYLOAD: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";
    const PUBLIC_KEY_MULTIPLE: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==";
    const SIGNATURE_MULTIPLE: &str = "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5";
    const TIMESTAMP_MULTIPLE: &str = "1619651159";
    const PAYLOAD_MULTIPLE: &str = "[{\"email\":\"invalid@gmail.com\",\"event\":\"processed\",\"send_at\":0,\"sg_event_id\":\"cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA\",\"sg_message_id\":\"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0\",\"smtp-id\":\"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>\",\"timestamp\":1619651146},\r\n{\"email\":\"invalid@gmail.com\",\"event\":\"bounce\",\"ip\":\"167.89.101.76\",\"reason\":\"552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp\",\"sg_event_id\":\"Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w\",\"sg_message_id\":\"qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0\",\"smtp-id\":\"<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>\",\"status\":\"5.2.2\",\"timestamp\":1619651147,\"tls\":1,\"type\":\"blocked\"}]\r\n";

    const SIGNED: TimestampedHeaders = TimestampedHeaders {
        signature: SIGNATURE_HEADER,
        timestamp: TIMESTAMP_HEADER,
    };

    fn source(extra: &str) -> Result<Sendgrid, ConfigError> {
        build(Sendgrid::from_config, "sendgrid", extra)
    }

    fn parts(v: Verdict) -> Vec<Part> {
        match v {
            Verdict::Batch(parts) => parts,
            other => panic!("a batch, got {other:?}"),
        }
    }

    #[test]
    fn published_vectors() {
        let s = source(&format!("public_keys = [\"{PUBLIC_KEY}\"]")).unwrap();
        let one = parts(
            SIGNED
                .verify(&s, PAYLOAD, SIGNATURE, TIMESTAMP, None, 0)
                .unwrap(),
        );
        assert_eq!(one.len(), 1);
        assert_eq!(
            one[0].verified.provider_event_id(),
            "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA"
        );
        assert_eq!(one[0].verified.event_type(), "dropped");
        assert_eq!(
            one[0].range,
            1..PAYLOAD.len() - 3,
            "the element without [, ], CR, LF"
        );

        let s = source(&format!("public_keys = [\"{PUBLIC_KEY_MULTIPLE}\"]")).unwrap();
        let two = parts(
            SIGNED
                .verify(
                    &s,
                    PAYLOAD_MULTIPLE,
                    SIGNATURE_MULTIPLE,
                    TIMESTAMP_MULTIPLE,
                    None,
                    0,
                )
                .unwrap(),
        );
        let read: Vec<(&str, &str)> = two
            .iter()
            .map(|p| (p.verified.provider_event_id(), p.verified.event_type()))
            .collect();
        assert_eq!(
            read,
            vec![
                (
                    "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
                    "processed"
                ),
                (
                    "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w",
                    "bounce"
                ),
            ]
        );
        for p in &two {
            let element: serde_json::Value =
                serde_json::from_slice(&PAYLOAD_MULTIPLE.as_bytes()[p.range.clone()]).unwrap();
            assert_eq!(element["sg_event_id"], p.verified.provider_event_id());
        }
    }

    #[test]
    fn tampering_a_wrong_key_and_stale_timestamps_are_refused() {
        let s = source(&format!("public_keys = [\"{PUBLIC_KEY}\"]")).unwrap();
        let unauthorized =
            |r: Result<Verdict, Rejection>| matches!(r, Err(Rejection::Unauthorized(_)));
        let tampered = PAYLOAD.replacen("dropped", "delivered", 1);
        assert!(unauthorized(
            SIGNED.verify(&s, &tampered, SIGNATURE, TIMESTAMP, None, 0)
        ));
        assert!(unauthorized(SIGNED.verify(
            &s,
            PAYLOAD,
            SIGNATURE,
            "1600112503",
            None,
            0
        )));
        let wrong = source(&format!("public_keys = [\"{PUBLIC_KEY_MULTIPLE}\"]")).unwrap();
        assert!(unauthorized(
            SIGNED.verify(&wrong, PAYLOAD, SIGNATURE, TIMESTAMP, None, 0)
        ));
        let rotated = source(&format!(
            "public_keys = [\"{PUBLIC_KEY_MULTIPLE}\", \"{PUBLIC_KEY}\"]"
        ))
        .unwrap();
        assert!(SIGNED
            .verify(&rotated, PAYLOAD, SIGNATURE, TIMESTAMP, None, 0)
            .is_ok());
        assert!(unauthorized(SIGNED.verify(
            &s,
            PAYLOAD,
            SIGNATURE,
            TIMESTAMP,
            Some(300),
            1600112502 + 301
        )));
        assert!(SIGNED
            .verify(
                &s,
                PAYLOAD,
                SIGNATURE,
                TIMESTAMP,
                Some(300),
                1600112502 + 300
            )
            .is_ok());
    }

    #[test]
    fn development_signer_round_trips() {
        let secret = p256::SecretKey::from_slice(&[3; 32]).unwrap();
        let public = secret.public_key().to_public_key_der().unwrap();
        let private = secret.to_pkcs8_der().unwrap();
        let s = source(&format!(
            "public_keys = [\"{}\"]\nsigning_key = \"{}\"",
            B64.encode(public.as_bytes()),
            B64.encode(private.as_bytes())
        ))
        .unwrap();
        let body = r#"[{"email":"a@example.com","event":"open","sg_event_id":"e1","timestamp":1}]"#;
        let h = s.sign(&[], body.as_bytes(), 77, "");
        let got = parts(SIGNED.verify(&s, body, &h[0].1, &h[1].1, None, 77).unwrap());
        assert_eq!(got[0].verified.provider_event_id(), "e1");
        let missing = r#"[{"event":"open"}]"#;
        let h = s.sign(&[], missing.as_bytes(), 77, "");
        assert!(matches!(
            SIGNED.verify(&s, missing, &h[0].1, &h[1].1, None, 77),
            Err(Rejection::BadRequest(_))
        ));
        let object = r#"{"event":"open","sg_event_id":"e1"}"#;
        let h = s.sign(&[], object.as_bytes(), 77, "");
        assert!(matches!(
            SIGNED.verify(&s, object, &h[0].1, &h[1].1, None, 77),
            Err(Rejection::BadRequest(_))
        ));
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
