//! Signing certificates fetched from allow-listed hosts (Amazon SNS,
//! PayPal): which hosts may serve them (`sns_cert_hosts`,
//! `paypal_cert_hosts`: one DNS label per `*`), the HTTPS client that
//! fetches them (with `sns_ca_file` / `paypal_ca_file` trusted too) and the
//! per-source cache by URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use x509_cert::der::{DecodePem, Encode};

use crate::config::{ConfigError, Secret, SourceConfig};
use crate::providers::Rejection;

/// Where SNS serves its signing certificates by default.
pub const DEFAULT_CERT_HOSTS: &[&str] = &["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"];

/// Certificates kept per source; SNS rotates its certificate rarely, so
/// more distinct URLs than this means something is off and the cache
/// starts over rather than grow.
const CACHE_LIMIT: usize = 64;

/// The certificates one source trusts and has fetched.
pub struct Certificates {
    pub hosts: Vec<String>,
    /// Also fetches `SubscribeURL`s, on the same terms.
    pub client: reqwest::Client,
    cache: Mutex<HashMap<String, Arc<RsaPublicKey>>>,
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

/// The source keys that configure one sender's certificates.
pub struct CertKeys<'a> {
    /// The configured host patterns, if any, and their key.
    pub hosts: (Option<&'a Vec<String>>, &'static str),
    /// The sender's own hosts, used when none are configured.
    pub defaults: &'static [&'static str],
    /// An extra trusted CA file, if any, and its key.
    pub ca_file: (Option<&'a String>, &'static str),
}

impl Certificates {
    /// SNS's certificates, from `sns_cert_hosts` and `sns_ca_file`.
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Certificates, ConfigError> {
        Certificates::new(
            CertKeys {
                hosts: (source.sns_cert_hosts.as_ref(), "sns_cert_hosts"),
                defaults: DEFAULT_CERT_HOSTS,
                ca_file: (source.sns_ca_file.as_ref(), "sns_ca_file"),
            },
            key,
        )
    }

    pub fn new(keys: CertKeys<'_>, key: &str) -> Result<Certificates, ConfigError> {
        let (hosts_key, ca_key) = (keys.hosts.1, keys.ca_file.1);
        let cert_hosts: Vec<String> = match keys.hosts.0 {
            Some(list) => list.clone(),
            None => keys.defaults.iter().map(|s| s.to_string()).collect(),
        };
        if cert_hosts.is_empty() {
            return Err(ConfigError::new(
                format!("{key}.{hosts_key}"),
                "list at least one host pattern (or leave the key out for the sender's own hosts)",
            ));
        }
        for (i, p) in cert_hosts.iter().enumerate() {
            if !valid_pattern(p) {
                return Err(ConfigError::new(
                    format!("{key}.{hosts_key}[{i}]"),
                    format!("{p:?} is not a host pattern (DNS labels or `*` for one label)"),
                ));
            }
        }
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        if let Some(path) = keys.ca_file.0 {
            let bad = |m: String| ConfigError::new(format!("{key}.{ca_key}"), m);
            let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?;
            let ca = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| bad(format!("{path} is not a PEM certificate: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .build()
            .map_err(|e| ConfigError::new(format!("{key}.{ca_key}"), e.to_string()))?;
        Ok(Certificates {
            hosts: cert_hosts,
            client,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Trusts `pem` as the certificate served at `url` (unit tests of
    /// published messages whose certificate can no longer be fetched).
    #[cfg(test)]
    pub fn trust(&self, url: &str, pem: &str) {
        self.trust_key(
            url,
            public_key_of(pem.as_bytes()).expect("a certificate with an RSA key"),
        );
    }

    /// Trusts `key` as the one served at `url`.
    #[cfg(test)]
    pub fn trust_key(&self, url: &str, key: RsaPublicKey) {
        self.cache
            .lock()
            .unwrap()
            .insert(url.to_string(), Arc::new(key));
    }

    pub fn cached(&self, url: &str) -> Option<Arc<RsaPublicKey>> {
        self.cache.lock().unwrap().get(url).cloned()
    }

    /// The async step before verification: a certificate URL on an allowed
    /// host is fetched unless cached; any other host is refused unfetched.
    pub async fn ensure(&self, url: &str) -> Result<(), Rejection> {
        cert_url_host(&self.hosts, url)?;
        if self.cached(url).is_some() {
            return Ok(());
        }
        self.fetch(url.to_string()).await
    }

    pub async fn fetch(&self, url: String) -> Result<(), Rejection> {
        let response = self.client.get(&url).send().await.map_err(|e| {
            tracing::warn!(url = %url, error = %e, "cannot fetch a signing certificate");
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
            Rejection::Unauthorized("the certificate URL does not serve an RSA certificate".into())
        })?;
        let mut certs = self.cache.lock().unwrap();
        if certs.len() >= CACHE_LIMIT {
            certs.clear();
        }
        certs.insert(url, Arc::new(key));
        Ok(())
    }
}

/// The RSA public key of a PEM certificate.
pub fn public_key_of(pem: &[u8]) -> Option<RsaPublicKey> {
    let cert = x509_cert::Certificate::from_pem(pem).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

/// Checks that `url` is https on an allowed host.
pub fn cert_url_host(patterns: &[String], url: &str) -> Result<(), Rejection> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| Rejection::Unauthorized("the certificate URL is not a URL".into()))?;
    let host = parsed.host_str().unwrap_or("");
    if parsed.scheme() != "https" || !host_allowed(patterns, host) {
        return Err(Rejection::Unauthorized(format!(
            "certificate host {host:?} is not an allowed host"
        )));
    }
    Ok(())
}

/// A development signer: `signing_key` (an RSA private key in PEM) and the
/// https URL, on an allowed host, where its certificate is served (the
/// `url` key: `sns_signing_cert_url`, `paypal_signing_cert_url`). Both or
/// neither must be set.
pub fn development_signer(
    signing_key: Option<&Secret>,
    url: (Option<&String>, &str),
    certs: &Certificates,
    key: &str,
) -> Result<Option<(Box<RsaPrivateKey>, String)>, ConfigError> {
    let url_key = url.1;
    match (signing_key, url.0) {
        (None, None) => Ok(None),
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
            if cert_url_host(&certs.hosts, url).is_err() {
                return Err(ConfigError::new(
                    format!("{key}.{url_key}"),
                    "must be an https URL on an allowed certificate host",
                ));
            }
            Ok(Some((Box::new(private), url.clone())))
        }
        (Some(_), None) => Err(ConfigError::new(
            format!("{key}.{url_key}"),
            "signing_key needs the https URL where its certificate is served",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            format!("{key}.signing_key"),
            format!("{url_key} is only used with a development signing_key"),
        )),
    }
}
