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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{DecodePem, Encode};

use super::{BoxFuture, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};

/// The provider-specific source keys `aws-sns` reads.
pub const KEYS: &[&str] = &[
    "sns_cert_hosts",
    "sns_ca_file",
    "sns_confirm_subscriptions",
    "sns_signing_cert_url",
    "signing_key",
    "event_type_pointer",
];

/// Where SNS serves its signing certificates by default.
pub const DEFAULT_CERT_HOSTS: &[&str] = &["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"];

/// Certificates kept per source; SNS rotates its certificate rarely, so
/// more distinct URLs than this means something is off and the cache
/// starts over rather than grow.
const CACHE_LIMIT: usize = 64;

pub struct Sns {
    cert_hosts: Vec<String>,
    client: reqwest::Client,
    certs: Mutex<HashMap<String, Arc<RsaPublicKey>>>,
    confirm: bool,
    type_pointer: Option<String>,
    signing: Option<(Box<RsaPrivateKey>, String)>,
}

impl std::fmt::Debug for Sns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sns")
            .field("cert_hosts", &self.cert_hosts)
            .field("confirm", &self.confirm)
            .field("type_pointer", &self.type_pointer)
            .finish_non_exhaustive()
    }
}

/// Whether `host` matches one of `patterns`: the same number of labels,
/// each equal (ignoring case) or matched by a `*` label.
pub fn host_allowed(patterns: &[String], host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    patterns.iter().any(|p| {
        let want: Vec<&str> = p.split('.').collect();
        want.len() == labels.len()
            && want
                .iter()
                .zip(&labels)
                .all(|(w, l)| !l.is_empty() && (*w == "*" || w.eq_ignore_ascii_case(l)))
    })
}

fn valid_pattern(p: &str) -> bool {
    !p.is_empty()
        && p.split('.').all(|label| {
            label == "*"
                || (!label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        })
}

impl Sns {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Sns, ConfigError> {
        let cert_hosts: Vec<String> = match &source.sns_cert_hosts {
            Some(list) => list.clone(),
            None => DEFAULT_CERT_HOSTS.iter().map(|s| s.to_string()).collect(),
        };
        if cert_hosts.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.sns_cert_hosts"),
                "list at least one host pattern (or leave the key out for SNS's own hosts)",
            ));
        }
        for (i, p) in cert_hosts.iter().enumerate() {
            if !valid_pattern(p) {
                return Err(ConfigError::new(
                    format!("{key}.sns_cert_hosts[{i}]"),
                    format!("{p:?} is not a host pattern (DNS labels or `*` for one label)"),
                ));
            }
        }
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if let Some(path) = &source.sns_ca_file {
            let bad = |m: String| ConfigError::new(format!("{key}.sns_ca_file"), m);
            let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
            let ca = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| bad(format!("{path} is not a PEM certificate: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::new(format!("{key}.sns_ca_file"), e.to_string()))?;
        if let Some(pointer) = &source.event_type_pointer {
            if !pointer.starts_with('/') {
                return Err(ConfigError::new(
                    format!("{key}.event_type_pointer"),
                    "a JSON pointer into Message starts with /",
                ));
            }
        }
        let signing = match (&source.signing_key, &source.sns_signing_cert_url) {
            (None, None) => None,
            (Some(pem), Some(url)) => {
                let pem = pem.expose();
                let private = RsaPrivateKey::from_pkcs8_pem(pem)
                    .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
                    .map_err(|_| {
                        ConfigError::new(
                            format!("{key}.signing_key"),
                            "not an RSA private key in PEM (PKCS#8 or PKCS#1)",
                        )
                    })?;
                if cert_url_host(&cert_hosts, url).is_err() {
                    return Err(ConfigError::new(
                        format!("{key}.sns_signing_cert_url"),
                        "must be an https URL on a host that sns_cert_hosts allows",
                    ));
                }
                Some((Box::new(private), url.clone()))
            }
            (Some(_), None) => {
                return Err(ConfigError::new(
                    format!("{key}.sns_signing_cert_url"),
                    "signing_key needs the https URL where its certificate is served",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    format!("{key}.signing_key"),
                    "sns_signing_cert_url is only used with a development signing_key",
                ))
            }
        };
        Ok(Sns {
            cert_hosts,
            client,
            certs: Mutex::new(HashMap::new()),
            confirm: source.sns_confirm_subscriptions.unwrap_or(false),
            type_pointer: source.event_type_pointer.clone(),
            signing,
        })
    }

    /// Trusts `pem` as the certificate served at `url` (unit tests of
    /// published messages whose certificate can no longer be fetched).
    #[cfg(test)]
    fn with_certificate(self, url: &str, pem: &str) -> Sns {
        let key = public_key_of(pem.as_bytes()).expect("a certificate with an RSA key");
        self.certs
            .lock()
            .unwrap()
            .insert(url.to_string(), Arc::new(key));
        self
    }

    fn cached(&self, url: &str) -> Option<Arc<RsaPublicKey>> {
        self.certs.lock().unwrap().get(url).cloned()
    }

    async fn fetch_certificate(&self, url: String) -> Result<(), Rejection> {
        let response = self.client.get(&url).send().await.map_err(|e| {
            tracing::warn!(url = %url, error = %e, "cannot fetch the SNS signing certificate");
            Rejection::Unavailable("cannot fetch the signing certificate now".into())
        })?;
        if !response.status().is_success() {
            return Err(Rejection::Unauthorized(format!(
                "the signing certificate URL answered {}",
                response.status().as_u16()
            )));
        }
        let pem = response.bytes().await.map_err(|_| {
            Rejection::Unavailable("cannot read the signing certificate now".into())
        })?;
        let key = public_key_of(&pem).ok_or_else(|| {
            Rejection::Unauthorized("SigningCertURL does not serve an RSA certificate".into())
        })?;
        let mut certs = self.certs.lock().unwrap();
        if certs.len() >= CACHE_LIMIT {
            certs.clear();
        }
        certs.insert(url, Arc::new(key));
        Ok(())
    }
}

/// The RSA public key of a PEM certificate.
fn public_key_of(pem: &[u8]) -> Option<RsaPublicKey> {
    let cert = x509_cert::Certificate::from_pem(pem).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

/// Checks that `url` is https on an allowed host.
fn cert_url_host(patterns: &[String], url: &str) -> Result<(), Rejection> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Rejection::Unauthorized("SigningCertURL is not a URL".into()))?;
    let host = parsed.host_str().unwrap_or("");
    if parsed.scheme() != "https" || !host_allowed(patterns, host) {
        return Err(Rejection::Unauthorized(format!(
            "certificate host {host:?} is not an allowed SNS host"
        )));
    }
    Ok(())
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
            let Some(url) = field(&msg, "SigningCertURL") else {
                return Ok(());
            };
            cert_url_host(&self.cert_hosts, url)?;
            if self.cached(url).is_some() {
                return Ok(());
            }
            self.fetch_certificate(url.to_string()).await
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
        cert_url_host(&self.cert_hosts, url)?;
        let signature = field(&msg, "Signature")
            .and_then(|s| B64.decode(s).ok())
            .ok_or_else(|| Rejection::Unauthorized("message has no base64 Signature".into()))?;
        let text = string_to_sign(&msg)?;
        let version = field(&msg, "SignatureVersion").unwrap_or("");
        let (padding, digest) = scheme_of(version, text.as_bytes()).ok_or_else(|| {
            Rejection::Unauthorized(format!("SignatureVersion {version:?} is not 1 or 2"))
        })?;
        let key = self.cached(url).ok_or_else(|| {
            Rejection::Unavailable("the signing certificate is not available now".into())
        })?;
        if key.verify(padding, &digest, &signature).is_err() {
            return Err(super::bad_signature());
        }
        if let Some(tol) = tolerance {
            let sent = field(&msg, "Timestamp")
                .and_then(|t| crate::time::parse(t).ok())
                .ok_or_else(|| Rejection::Unauthorized("Timestamp is not a time".into()))?;
            if (now - sent.div_euclid(1000)).abs() > tol as i64 {
                return Err(Rejection::Unauthorized(
                    "timestamp is outside the tolerance".into(),
                ));
            }
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
            cert_url_host(&self.cert_hosts, &url)
                .map_err(|_| "SubscribeURL is not on an allowed SNS host".to_string())?;
            let response = self
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
        self.signing.as_ref().map(|_| ()).ok_or_else(|| {
            "the source has no signing_key and sns_signing_cert_url (development only)".into()
        })
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/MessageId")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys};

    /// A notification AWS signed in 2015 (SignatureVersion 1) and the
    /// certificate it was signed with (Amazon's, for sns.amazonaws.com), as
    /// published in the author test `author.t/01_verify.t` of the
    /// AWS::SNS::Verify 0.0103 distribution (CPAN); OpenSSL 3.0.19
    /// (`openssl dgst -sha1 -verify`) accepts the signature over our
    /// canonical string too.
    const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem";
    const CERT: &str = include_str!("sns_test_cert.pem");
    const BODY: &str = r#"{
    "Type" : "Notification",
    "MessageId" : "a890c547-5d98-55e2-971d-8826fff56413",
    "TopicArn" : "arn:aws:sns:us-east-1:041977924901:foo",
    "Subject" : "test subject",
    "Message" : "test message",
    "Timestamp" : "2015-02-20T20:59:25.401Z",
    "SignatureVersion" : "1",
    "Signature" : "kzi3JBQz64uFAXG9ZuAwPI2gYW5tT7OF83oeHb8v0/XRPsy0keq2NHTCpQVRxCgPOJ/QUB2Yl/L29/W4hiHMo9+Ns0hrqyasgUfjq+XkVR1WDuYLtNaEA1vLnA0H9usSh3eVVlLhpYzoT4GUoGgstRVvFceW2QVF9EYUQyromlcbOVtVpKCEINAvGEEKJNGTXQQUkPUka3YMhHitgQg1WlFBmf+oweSYUEj8+RoguWsn6vluxD0VtIOGOml5jlUecfhDqnetF5pUVYMqCHPfHn6RBguiW+XD6XWsdKKxkjqo90a65Nlb72gPSRw6+sIEIgf4J39WFZK+FCpeSm0qAg==",
    "SigningCertURL" : "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem",
    "UnsubscribeURL" : "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:041977924901:foo:20b2d060-2a32-4506-9cb0-24b8b9e605e1",
    "MessageAttributes" : {
        "AWS.SNS.MOBILE.MPNS.Type" : {"Type":"String","Value":"token"}
    }
}"#;

    fn source(extra: &str) -> Result<Sns, ConfigError> {
        Sns::from_config(
            &crate::providers::testing::source("aws-sns", extra),
            "sources[0]",
        )
    }

    fn verify(sns: &Sns, body: &str, tol: Option<u64>, now: i64) -> Result<Verdict, Rejection> {
        let h = headers(&[("x-amz-sns-message-type", "Notification")]);
        sns.verify(&keys(&[]), tol, &Inbound::post(&h, body.as_bytes()), now)
    }

    #[test]
    fn published_message_signed_by_aws() {
        let sns = source("").unwrap().with_certificate(CERT_URL, CERT);
        assert_eq!(
            verify(&sns, BODY, None, 0).unwrap(),
            Verdict::Event(
                Verified::new(
                    "a890c547-5d98-55e2-971d-8826fff56413".into(),
                    "Notification".into()
                )
                .unwrap()
            )
        );
        let tampered = BODY.replace("\"test message\"", "\"tampered\"");
        assert!(matches!(
            verify(&sns, &tampered, None, 0),
            Err(Rejection::Unauthorized(_))
        ));
        let stale = verify(&sns, BODY, Some(300), 1424465965 + 301);
        assert!(
            matches!(stale, Err(Rejection::Unauthorized(_))),
            "{stale:?}"
        );
        assert!(verify(&sns, BODY, Some(300), 1424465965 + 299).is_ok());
        // Without the certificate (not fetched) the answer is "try later".
        let empty = source("").unwrap();
        assert!(matches!(
            verify(&empty, BODY, None, 0),
            Err(Rejection::Unavailable(_))
        ));
    }

    #[test]
    fn a_wrong_key_refuses_and_the_development_signer_round_trips() {
        use rsa::pkcs8::EncodePrivateKey;
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        let pem = private.to_pkcs8_pem(Default::default()).unwrap();
        let url = "https://sns.eu-west-1.amazonaws.com/dev.pem";
        let extra = format!(
            "signing_key = '''{}'''\nsns_signing_cert_url = \"{url}\"\nevent_type_pointer = \"/kind\"",
            pem.as_str()
        );
        let sns = source(&extra).unwrap();
        let trusting = |key: RsaPublicKey| {
            let s = source(&extra).unwrap();
            s.certs.lock().unwrap().insert(url.into(), Arc::new(key));
            s
        };
        let ours = trusting(private.to_public_key());
        let aws = trusting(public_key_of(CERT.as_bytes()).unwrap());
        for version in ["1", "2"] {
            let fixture = format!(
                r#"{{"Type":"Notification","MessageId":"m-{version}","TopicArn":"arn:aws:sns:eu-west-1:1:t","Message":"{{\"kind\":\"order.paid\"}}","SignatureVersion":"{version}"}}"#
            );
            let signed = sns.stamp(&[], fixture.as_bytes(), 1000, "").unwrap();
            let signed = String::from_utf8(signed).unwrap();
            assert_eq!(
                verify(&ours, &signed, None, 0).unwrap(),
                Verdict::Event(Verified::new(format!("m-{version}"), "order.paid".into()).unwrap()),
                "{signed}"
            );
            assert!(matches!(
                verify(&aws, &signed, None, 0),
                Err(Rejection::Unauthorized(_))
            ));
        }
    }

    #[test]
    fn certificate_hosts_match_one_label_per_star() {
        let defaults: Vec<String> = DEFAULT_CERT_HOSTS.iter().map(|s| s.to_string()).collect();
        assert!(host_allowed(&defaults, "sns.us-east-1.amazonaws.com"));
        assert!(host_allowed(&defaults, "sns.cn-north-1.amazonaws.com.cn"));
        assert!(!host_allowed(&defaults, "sns.evil.s3.amazonaws.com"));
        assert!(!host_allowed(
            &defaults,
            "sns.us-east-1.amazonaws.com.evil.com"
        ));
        assert!(!host_allowed(&defaults, "evil.com"));
        assert!(cert_url_host(&defaults, "http://sns.us-east-1.amazonaws.com/x.pem").is_err());
        let sns = source("").unwrap();
        let other = BODY.replace("sns.us-east-1.amazonaws.com/Simple", "example.com/Simple");
        assert!(matches!(
            verify(&sns, &other, None, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }

    #[test]
    fn configuration_errors_name_the_key() {
        assert_eq!(
            source("sns_cert_hosts = []").unwrap_err().key,
            "sources[0].sns_cert_hosts"
        );
        assert_eq!(
            source("sns_cert_hosts = [\"a..b\"]").unwrap_err().key,
            "sources[0].sns_cert_hosts[0]"
        );
        assert_eq!(
            source("sns_ca_file = \"/nonexistent/ca.pem\"")
                .unwrap_err()
                .key,
            "sources[0].sns_ca_file"
        );
        assert_eq!(
            source("event_type_pointer = \"type\"").unwrap_err().key,
            "sources[0].event_type_pointer"
        );
        assert_eq!(
            source("signing_key = \"x\"").unwrap_err().key,
            "sources[0].sns_signing_cert_url"
        );
        assert_eq!(
            source(
                "signing_key = \"x\"\nsns_signing_cert_url = \"https://sns.a.amazonaws.com/c.pem\""
            )
            .unwrap_err()
            .key,
            "sources[0].signing_key"
        );
    }
}
