//! Standard Webhooks (and Svix, which uses `svix-*` header names): headers
//! `webhook-id`, `webhook-timestamp`, `webhook-signature`; the signature is a
//! space-separated list of `v1,<base64>` HMAC-SHA256 of `{id}.{ts}.{body}`,
//! keyed with the base64-decoded secret after `whsec_`, and/or `v1a,<base64>`
//! Ed25519 signatures of the same string, verified with the source's
//! `public_keys` (`whpk_<base64>`). A source may hold both kinds of key; any
//! one matching signature verifies. Timestamps count in both directions.
//! hookgate signs its own forwarded requests the same way (`v1`).

use std::sync::Arc;

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::ed25519::{self, PrivateKey, PublicKeys};
use super::kit::check;
use super::{
    bad_signature, check_timestamp, header, json_body, required_json_str, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::hmac_sha256;
use crate::ids::fresh_id;

/// The provider-specific source keys Standard Webhooks reads.
pub const KEYS: &[&str] = &["public_keys", "signing_key"];

/// Verification accepts both header spellings; `headers` is the one this
/// sender uses, which `hookgate replay` signs with (Clerk and Resend send
/// Svix's `svix-*`).
#[derive(Debug)]
pub struct StandardWebhooks {
    pub headers: &'static str,
    public_keys: PublicKeys,
    /// Development only: signs `v1a` for `hookgate replay`.
    signing_key: Option<PrivateKey>,
}

fn decode_prefixed(prefix: &'static str) -> impl Fn(&str) -> Option<Vec<u8>> {
    move |text: &str| B64.decode(text.strip_prefix(prefix).unwrap_or(text)).ok()
}

impl StandardWebhooks {
    /// The scheme of a source whose sender uses the `headers` spelling.
    pub fn build(
        source: &SourceConfig,
        key: &str,
        headers: &'static str,
    ) -> Result<Arc<dyn Scheme>, ConfigError> {
        Ok(Arc::new(StandardWebhooks {
            headers,
            ..StandardWebhooks::from_config(source, key)?
        }))
    }

    pub fn from_config(source: &SourceConfig, key: &str) -> Result<StandardWebhooks, ConfigError> {
        let public_keys = PublicKeys::parse(
            &source.public_keys,
            key,
            decode_prefixed("whpk_"),
            "whpk_ followed by base64",
        )?;
        let signing_key = ed25519::signing_key(
            source.signing_key.as_ref().map(|s| s.expose()),
            key,
            decode_prefixed("whsk_"),
            "whsk_ followed by base64",
        )?;
        Ok(StandardWebhooks {
            headers: "webhook",
            public_keys,
            signing_key,
        })
    }
}

impl Scheme for StandardWebhooks {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let signatures = either(req.headers, "signature")
            .ok_or_else(|| Rejection::Unauthorized("missing webhook-signature header".into()))?;
        let timestamp = either(req.headers, "timestamp")
            .ok_or_else(|| Rejection::Unauthorized("missing webhook-timestamp header".into()))?;
        let id = either(req.headers, "id").ok_or_else(|| {
            Rejection::BadRequest("missing or unreadable header webhook-id".into())
        })?;
        let decoded = |version: &str| -> Vec<Vec<u8>> {
            signatures
                .split_whitespace()
                .filter_map(|s| s.strip_prefix(version))
                .filter_map(|b| B64.decode(b).ok())
                .collect()
        };
        let symmetric = decoded("v1,");
        let hmac_ok = check(keys, &symmetric, |key| {
            mac(key, id, timestamp, req.body).to_vec()
        })
        .is_ok();
        let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", req.body];
        let ed25519_ok = !hmac_ok
            && decoded("v1a,")
                .iter()
                .any(|sig| self.public_keys.verify(&signed, sig));
        if !(hmac_ok || ed25519_ok) {
            return Err(bad_signature());
        }
        check_timestamp(timestamp, tolerance, now, false)?;
        let json = json_body(req.body, "a Standard Webhooks sender")?;
        let event_type = required_json_str(&json, "/type", "event type")?;
        Verified::new(id.to_string(), event_type).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let mut headers = match &self.signing_key {
            // A source with a development private key signs `v1a`.
            Some(private) => {
                let ts = now.to_string();
                let sig = private.sign(&[delivery_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                vec![
                    ("webhook-id".into(), delivery_id.to_string()),
                    ("webhook-timestamp".into(), ts),
                    (
                        "webhook-signature".into(),
                        format!("v1a,{}", B64.encode(sig)),
                    ),
                ]
            }
            None => sign(key, delivery_id, body, now),
        };
        for (name, _) in &mut headers {
            *name = name.replacen("webhook", self.headers, 1);
        }
        headers
    }
    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
    fn needs_secrets(&self) -> bool {
        self.public_keys.is_empty()
    }
    fn signing_ready(&self, keys: &Keys) -> Result<(), String> {
        if self.signing_key.is_some() || keys.first().is_some() {
            Ok(())
        } else {
            Err("the source has no secret and no signing_key (whsk_..., development only)".into())
        }
    }
    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        decode_secret(raw)
    }
    fn fresh_delivery_id(&self) -> String {
        fresh_id("msg_")
    }
}

/// Decodes a `whsec_<base64>` secret (the prefix is optional) into key bytes.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    B64.decode(b64)
        .map_err(|_| "a Standard Webhooks secret is whsec_ followed by base64".to_string())
}

/// Reads `webhook-<name>`, else `svix-<name>`.
fn either<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header(headers, &format!("webhook-{name}")).or_else(|| header(headers, &format!("svix-{name}")))
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(
        key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    )
}

/// `v1,<base64>` for one message.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        B64.encode(mac(key, id, &timestamp.to_string(), body))
    )
}

pub fn sign(key: &[u8], id: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.to_string()),
        ("webhook-timestamp".into(), now.to_string()),
        ("webhook-signature".into(), signature(key, id, now, body)),
    ]
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod asymmetric_tests;
