//! Amazon SNS (HTTP/S subscriptions). SNS signs a canonical string built
//! from the message's own fields (`Key\nValue\n` for `Message`,
//! `MessageId`, `Subject` when present, `Timestamp`, `TopicArn`, `Type` in
//! a notification; `Message`, `MessageId`, `SubscribeURL`, `Timestamp`,
//! `Token`, `TopicArn`, `Type` in a (un)subscription confirmation) with
//! RSA PKCS#1 v1.5: SHA-1 for `SignatureVersion` 1, SHA-256 for 2. The
//! signature and the URL of the signing certificate travel in the body.
//!
//! The certificate is fetched over HTTPS, only from hosts that match the
//! source's `sns_cert_hosts` patterns (default `sns.*.amazonaws.com` and
//! `sns.*.amazonaws.com.cn`, where `*` is one DNS label, so an S3 bucket
//! host such as `sns.x.s3.amazonaws.com` never matches), and cached by URL.
//! The fetch happens in [`Scheme::preflight`], before the synchronous
//! verification, so no other provider pays for it. `sns_ca_file` adds a
//! trusted CA (tests and private deployments only).
//!
//! Every verified message is stored: ID `MessageId`, type `Type`
//! (`Notification`, `SubscriptionConfirmation`, ...) or, for notifications
//! whose `Message` is JSON holding a string at the source's
//! `event_type_pointer`, that string. When `sns_confirm_subscriptions =
//! true`, a `SubscriptionConfirmation` is confirmed after it is stored by
//! fetching its `SubscribeURL` (which must match the same host patterns).
//! SNS keeps `Timestamp` across retries, so there is no tolerance unless
//! `tolerance_secs` sets one.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::kit::has_signing_key;
use super::{BoxFuture, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};
use certs::{cert_url_host, Certificates};
pub use certs::{host_allowed, DEFAULT_CERT_HOSTS};

pub mod certs;

/// The provider-specific source keys `aws-sns` reads.
pub const KEYS: &[&str] = &[
    "sns_cert_hosts",
    "sns_ca_file",
    "sns_confirm_subscriptions",
    "sns_signing_cert_url",
    "signing_key",
    "event_type_pointer",
];

pub struct Sns {
    certs: Certificates,
    confirm: bool,
    type_pointer: Option<String>,
    signing: Option<(Box<RsaPrivateKey>, String)>,
}

impl std::fmt::Debug for Sns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sns")
            .field("cert_hosts", &self.certs.hosts)
            .field("confirm", &self.confirm)
            .field("type_pointer", &self.type_pointer)
            .finish_non_exhaustive()
    }
}

impl Sns {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Sns, ConfigError> {
        let certs = Certificates::from_config(source, key)?;
        if let Some(pointer) = &source.event_type_pointer {
            if !pointer.starts_with('/') {
                return Err(ConfigError::new(
                    format!("{key}.event_type_pointer"),
                    "a JSON pointer into Message starts with /",
                ));
            }
        }
        let signing = certs::development_signer(
            source.signing_key.as_ref(),
            (source.sns_signing_cert_url.as_ref(), "sns_signing_cert_url"),
            &certs,
            key,
        )?;
        Ok(Sns {
            certs,
            confirm: source.sns_confirm_subscriptions.unwrap_or(false),
            type_pointer: source.event_type_pointer.clone(),
            signing,
        })
    }
}

fn message(body: &[u8]) -> Result<Map<String, Value>, Rejection> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Rejection::BadRequest(
            "body is not the JSON message SNS sends".into(),
        )),
    }
}

fn field<'m>(msg: &'m Map<String, Value>, name: &str) -> Option<&'m str> {
    msg.get(name).and_then(Value::as_str)
}

/// The string SNS signs for this message.
pub fn string_to_sign(msg: &Map<String, Value>) -> Result<String, Rejection> {
    let kind =
        field(msg, "Type").ok_or_else(|| Rejection::BadRequest("message has no Type".into()))?;
    let names: &[&str] = match kind {
        "Notification" => &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
        other => {
            return Err(Rejection::BadRequest(format!(
                "message Type {other:?} is not one SNS sends"
            )))
        }
    };
    let mut out = String::new();
    for name in names {
        match field(msg, name) {
            Some(value) => {
                out.push_str(name);
                out.push('\n');
                out.push_str(value);
                out.push('\n');
            }
            None if *name == "Subject" => {}
            None => return Err(Rejection::BadRequest(format!("message has no {name}"))),
        }
    }
    Ok(out)
}

/// The padding scheme and digest of a `SignatureVersion`.
fn scheme_of(version: &str, text: &[u8]) -> Option<(Pkcs1v15Sign, Vec<u8>)> {
    match version {
        "1" => Some((Pkcs1v15Sign::new::<Sha1>(), Sha1::digest(text).to_vec())),
        "2" => Some((Pkcs1v15Sign::new::<Sha256>(), Sha256::digest(text).to_vec())),
        _ => None,
    }
}

impl Scheme for Sns {
    fn preflight<'a>(&'a self, req: Inbound<'a>) -> BoxFuture<'a, Result<(), Rejection>> {
        Box::pin(async move {
            // A body that cannot be read is refused by `verify`, with the
            // status that says why.
            let Ok(msg) = message(req.body) else {
                return Ok(());
            };
            match field(&msg, "SigningCertURL") {
                Some(url) => self.certs.ensure(url).await,
                None => Ok(()),
            }
        })
    }

    fn verify(
        &self,
        _keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let msg = message(req.body)?;
        let url = field(&msg, "SigningCertURL")
            .ok_or_else(|| Rejection::Unauthorized("message has no SigningCertURL".into()))?;
        cert_url_host(&self.certs.hosts, url)?;
        let signature = field(&msg, "Signature")
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| Rejection::Unauthorized("message has no base64 Signature".into()))?;
        let text = string_to_sign(&msg)?;
        let version = field(&msg, "SignatureVersion").unwrap_or("");
        let (padding, digest) = scheme_of(version, text.as_bytes()).ok_or_else(|| {
            Rejection::Unauthorized(format!("SignatureVersion {version:?} is not 1 or 2"))
        })?;
        let key = self.certs.cached(url).ok_or_else(|| {
            Rejection::Unavailable("the signing certificate is not available now".into())
        })?;
        if key.verify(padding, &digest, &signature).is_err() {
            return Err(super::bad_signature());
        }
        if let Some(tol) = tolerance {
            let sent = field(&msg, "Timestamp")
                .and_then(|t| crate::time::parse(t).ok())
                .ok_or_else(|| Rejection::Unauthorized("Timestamp is not a time".into()))?;
            super::check_sent_within(sent.div_euclid(1000), tol, now)?;
        }
        let id = field(&msg, "MessageId")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Rejection::BadRequest("message has no MessageId".into()))?;
        let kind = field(&msg, "Type").unwrap_or_default();
        let event_type = match (&self.type_pointer, kind) {
            (Some(pointer), "Notification") => field(&msg, "Message")
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
                .and_then(|m| super::json_str(&m, pointer))
                .unwrap_or_else(|| kind.to_string()),
            _ => kind.to_string(),
        };
        Ok(Verdict::Event(Verified::new(id.to_string(), event_type)?))
    }

    fn after_store<'a>(&'a self, req: Inbound<'a>) -> Option<BoxFuture<'a, Result<(), String>>> {
        if !self.confirm {
            return None;
        }
        let msg = message(req.body).ok()?;
        if field(&msg, "Type") != Some("SubscriptionConfirmation") {
            return None;
        }
        let url = field(&msg, "SubscribeURL")?.to_string();
        Some(Box::pin(async move {
            cert_url_host(&self.certs.hosts, &url)
                .map_err(|_| "SubscribeURL is not on an allowed SNS host".to_string())?;
            let response = self
                .certs
                .client
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("cannot reach SubscribeURL: {e}"))?;
            if response.status().is_success() {
                tracing::info!("SNS subscription confirmed");
                Ok(())
            } else {
                Err(format!(
                    "SubscribeURL answered {}",
                    response.status().as_u16()
                ))
            }
        }))
    }

    /// SNS messages carry no signature header: the `Type` ones SNS adds.
    fn sign(&self, _key: &[u8], body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        let Ok(msg) = message(body) else {
            return Vec::new();
        };
        let mut headers = vec![(
            "Content-Type".to_string(),
            "text/plain; charset=UTF-8".to_string(),
        )];
        for (header, name) in [
            ("x-amz-sns-message-type", "Type"),
            ("x-amz-sns-message-id", "MessageId"),
            ("x-amz-sns-topic-arn", "TopicArn"),
        ] {
            if let Some(value) = field(&msg, name) {
                headers.push((header.to_string(), value.to_string()));
            }
        }
        headers
    }

    /// Signs the message the way SNS does: `Timestamp` set to now,
    /// `SigningCertURL` to the development certificate, `Signature` over the
    /// canonical string (SignatureVersion as given, else 2). A body that is
    /// not an SNS message is left as it is (and refused when verified).
    fn stamp(&self, _key: &[u8], body: &[u8], now: i64, _: &str) -> Option<Vec<u8>> {
        let (key, cert_url) = self.signing.as_ref()?;
        let mut msg = message(body).ok()?;
        msg.insert(
            "Timestamp".into(),
            Value::String(crate::time::format_ms(now * 1000)),
        );
        msg.insert("SigningCertURL".into(), Value::String(cert_url.clone()));
        let version = field(&msg, "SignatureVersion").unwrap_or("2").to_string();
        msg.insert("SignatureVersion".into(), Value::String(version.clone()));
        let text = string_to_sign(&msg).ok()?;
        let (padding, digest) = scheme_of(&version, text.as_bytes())?;
        let signature = key.sign(padding, &digest).ok()?;
        msg.insert("Signature".into(), Value::String(B64.encode(signature)));
        serde_json::to_vec_pretty(&msg).ok()
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    fn signing_ready(&self, _keys: &Keys) -> Result<(), String> {
        has_signing_key(
            self.signing.as_ref(),
            "the source has no signing_key and sns_signing_cert_url (development only)",
        )
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/MessageId")
    }
}

#[cfg(test)]
mod tests;
