//! PayPal: `PAYPAL-TRANSMISSION-SIG` is the base64 RSA signature
//! (`PAYPAL-AUTH-ALGO` `SHA256withRSA`: PKCS#1 v1.5, SHA-256) of
//! `{PAYPAL-TRANSMISSION-ID}|{PAYPAL-TRANSMISSION-TIME}|{webhook ID}|{CRC32
//! of the body, unsigned decimal}`, verified with the certificate at
//! `PAYPAL-CERT-URL`. `secrets` holds the webhook's ID as the dashboard
//! shows it (several = several webhooks).
//!
//! As for Amazon SNS (whose certificate room this shares), the certificate
//! is fetched over HTTPS only from hosts matching `paypal_cert_hosts`
//! (default PayPal's API hosts, live and sandbox; `*` is one DNS label) in
//! [`Scheme::preflight`], then cached by URL; any other host is `401`
//! before anything is fetched, an unreachable one `503`. `paypal_ca_file`
//! adds a trusted CA (tests and private deployments only). PayPal names no
//! tolerance; with `tolerance_secs` set, `PAYPAL-TRANSMISSION-TIME` must be
//! within it. The event ID is the body's `id` (`WH-...`, the same on every
//! retry), the type its `event_type` (`PAYMENT.CAPTURE.COMPLETED`).

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

use super::kit::has_signing_key;
use super::sns::certs::{cert_url_host, development_signer, CertKeys, Certificates};
use super::{
    bad_signature, check_sent_within, header, json_body, required_json_str, signature_header,
    BoxFuture, Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};

/// The provider-specific source keys `paypal` reads.
pub const KEYS: &[&str] = &[
    "paypal_cert_hosts",
    "paypal_ca_file",
    "paypal_signing_cert_url",
    "signing_key",
];

/// Where PayPal serves its signing certificates.
pub const DEFAULT_CERT_HOSTS: &[&str] = &[
    "api.paypal.com",
    "api-m.paypal.com",
    "api.sandbox.paypal.com",
    "api-m.sandbox.paypal.com",
];

pub struct Paypal {
    certs: Certificates,
    signing: Option<(Box<RsaPrivateKey>, String)>,
}

impl std::fmt::Debug for Paypal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paypal")
            .field("cert_hosts", &self.certs.hosts)
            .finish_non_exhaustive()
    }
}

impl Paypal {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Paypal, ConfigError> {
        let certs = Certificates::new(
            CertKeys {
                hosts: (source.paypal_cert_hosts.as_ref(), "paypal_cert_hosts"),
                defaults: DEFAULT_CERT_HOSTS,
                ca_file: (source.paypal_ca_file.as_ref(), "paypal_ca_file"),
            },
            key,
        )?;
        let signing = development_signer(
            source.signing_key.as_ref(),
            (
                source.paypal_signing_cert_url.as_ref(),
                "paypal_signing_cert_url",
            ),
            &certs,
            key,
        )?;
        Ok(Paypal { certs, signing })
    }
}

/// The CRC-32 (IEEE, as zlib computes it) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The text PayPal signs.
fn signed_text(id: &str, time: &str, webhook_id: &[u8], body: &[u8]) -> Vec<u8> {
    [
        id.as_bytes(),
        b"|",
        time.as_bytes(),
        b"|",
        webhook_id,
        b"|",
        crc32(body).to_string().as_bytes(),
    ]
    .concat()
}

impl Scheme for Paypal {
    fn preflight<'a>(&'a self, req: Inbound<'a>) -> BoxFuture<'a, Result<(), Rejection>> {
        Box::pin(async move {
            match header(req.headers, "paypal-cert-url") {
                Some(url) => self.certs.ensure(url).await,
                None => Ok(()),
            }
        })
    }

    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let signature = B64
            .decode(signature_header(req.headers, "paypal-transmission-sig")?)
            .map_err(|_| Rejection::Unauthorized("PAYPAL-TRANSMISSION-SIG is not base64".into()))?;
        let id = signature_header(req.headers, "paypal-transmission-id")?;
        let time = signature_header(req.headers, "paypal-transmission-time")?;
        let url = signature_header(req.headers, "paypal-cert-url")?;
        if let Some(algo) = header(req.headers, "paypal-auth-algo") {
            if algo != "SHA256withRSA" {
                return Err(Rejection::Unauthorized(format!(
                    "PAYPAL-AUTH-ALGO {algo:?} is not SHA256withRSA"
                )));
            }
        }
        cert_url_host(&self.certs.hosts, url)?;
        let key = self.certs.cached(url).ok_or_else(|| {
            Rejection::Unavailable("the signing certificate is not available now".into())
        })?;
        let verified = keys.iter().any(|webhook_id| {
            let digest = Sha256::digest(signed_text(id, time, webhook_id, req.body));
            key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
                .is_ok()
        });
        if !verified {
            return Err(bad_signature());
        }
        if let Some(tol) = tolerance {
            let sent = crate::time::parse(time).map_err(|_| {
                Rejection::Unauthorized("PAYPAL-TRANSMISSION-TIME is not a time".into())
            })?;
            check_sent_within(sent.div_euclid(1000), tol, now)?;
        }
        let json = json_body(req.body, "PayPal")?;
        let event_id = required_json_str(&json, "/id", "id")?;
        let event_type = required_json_str(&json, "/event_type", "event_type")?;
        Verified::new(event_id, event_type).map(Verdict::Event)
    }

    /// Signs as PayPal does with the development key: the transmission ID
    /// is the delivery ID, the time now, the webhook ID the first secret.
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let Some((private, cert_url)) = &self.signing else {
            return Vec::new();
        };
        let time = crate::time::format_ms(now * 1000).replace(".000Z", "Z");
        let digest = Sha256::digest(signed_text(delivery_id, &time, key, body));
        let Ok(signature) = private.sign(Pkcs1v15Sign::new::<Sha256>(), &digest) else {
            return Vec::new();
        };
        vec![
            ("PAYPAL-TRANSMISSION-ID".into(), delivery_id.to_string()),
            ("PAYPAL-TRANSMISSION-TIME".into(), time),
            ("PAYPAL-TRANSMISSION-SIG".into(), B64.encode(signature)),
            ("PAYPAL-CERT-URL".into(), cert_url.clone()),
            ("PAYPAL-AUTH-ALGO".into(), "SHA256withRSA".into()),
        ]
    }

    fn signing_ready(&self, keys: &Keys) -> Result<(), String> {
        keys.first()
            .ok_or_else(|| "the source has no secret (the webhook ID)".to_string())?;
        has_signing_key(
            self.signing.as_ref(),
            "the source has no signing_key and paypal_signing_cert_url (development only)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{self, build};

    const CERT: &str = include_str!("paypal_test_cert.pem");
    const KEY: &str = include_str!("paypal_test_key.pem");
    const CERT_URL: &str =
        "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270";
    const WEBHOOK_ID: &str = "1JE4291016473214C";
    const BODY: &str = r#"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_version":"1.0","create_time":"2026-02-11T11:30:00.000Z","resource_type":"capture","resource_version":"2.0","event_type":"PAYMENT.CAPTURE.COMPLETED","summary":"Payment completed for $ 7.47 USD","resource":{"id":"42311647XV020574X","amount":{"currency_code":"USD","value":"7.47"},"final_capture":true,"status":"COMPLETED"}}"#;
    const TRANSMISSION_ID: &str = "103e3700-8b0c-11ee-8c5d-5f1a2b3c4d5e";
    const TIME: &str = "2026-02-11T11:30:01Z";
    /// Signed with Python's `cryptography` 41.0.7 under the test key whose
    /// certificate is `paypal_test_cert.pem`, and accepted by PayPal's
    /// Python SDK, `paypalrestsdk` 1.13.3
    /// (`WebhookEvent._verify_signature`, the check after the certificate
    /// fetch; its chain check needs PayPal's own certificate).
    const SIGNATURE: &str = "LhYim0imN9+R+tFV2V3WsT3aOcx3dOAY3flVGyf2I7b/d4hH9cIgI/zOozDBHUtc0Pdvmo+mFIsbq34hdm0oY648dqDlch98ttLFbrLAALbOC+LEczVJtBuC56tlERpcvfu88rgHmGs2O9gUUeMFhF4EmNnqMqeX5an9wFWnEgVbkv14+5p4itjZKd4jacQnCf/Y4CUG1SegrmvT/Sw888dSF7xGmuSvoGHhCCyDKQPCGKJOT4eo4F/fkDRHA5Y4GGC5/jmhLhd2jWkxn0TO6qT+wv2gNm5MjpDcoJc6FA4F5YA3/HnxSgnR7aXSEM8p6ZIa8u2kaPupjr/KrnxJkw==";
    const SENT: i64 = 1770809401;

    fn paypal(extra: &str) -> Paypal {
        let p = build(Paypal::from_config, "paypal", extra).unwrap();
        p.certs.trust(CERT_URL, CERT);
        p
    }

    fn headers(sig: &str, url: &str, algo: &str) -> axum::http::HeaderMap {
        testing::headers(&[
            ("paypal-transmission-id", TRANSMISSION_ID),
            ("paypal-transmission-time", TIME),
            ("paypal-transmission-sig", sig),
            ("paypal-cert-url", url),
            ("paypal-auth-algo", algo),
        ])
    }

    fn verify(
        p: &Paypal,
        secrets: &[&str],
        h: &axum::http::HeaderMap,
        body: &str,
        tolerance: Option<u64>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        testing::post(
            p,
            &testing::keys(secrets),
            tolerance,
            h,
            body.as_bytes(),
            now,
        )
    }

    fn unauthorized(r: Result<Verdict, Rejection>) -> bool {
        matches!(r, Err(Rejection::Unauthorized(_)))
    }

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(BODY.as_bytes()), 443498372);
    }

    #[test]
    fn sdk_vector_verifies_and_the_signer_reproduces_it() {
        let p = paypal("");
        let h = headers(SIGNATURE, CERT_URL, "SHA256withRSA");
        let expected = testing::event(
            "WH-2WR32451HC0233532-67976317FL4543714",
            "PAYMENT.CAPTURE.COMPLETED",
        );
        assert_eq!(
            verify(&p, &["other-webhook", WEBHOOK_ID], &h, BODY, None, SENT).unwrap(),
            expected
        );
        let tampered = BODY.replace("7.47", "7.48");
        assert!(unauthorized(verify(
            &p,
            &[WEBHOOK_ID],
            &h,
            &tampered,
            None,
            SENT
        )));
        assert!(unauthorized(verify(
            &p,
            &["1JE4291016473214D"],
            &h,
            BODY,
            None,
            SENT
        )));
        let signer = paypal(&format!(
            "signing_key = '''{KEY}'''\npaypal_signing_cert_url = \"{CERT_URL}\""
        ));
        let signed = signer.sign(
            WEBHOOK_ID.as_bytes(),
            BODY.as_bytes(),
            SENT,
            TRANSMISSION_ID,
        );
        let got: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got[1], ("PAYPAL-TRANSMISSION-TIME", TIME));
        assert_eq!(got[2], ("PAYPAL-TRANSMISSION-SIG", SIGNATURE));
        assert_eq!(got[3], ("PAYPAL-CERT-URL", CERT_URL));
    }

    #[test]
    fn other_hosts_algorithms_and_stale_times_are_refused() {
        let p = paypal("");
        let check = |url: &str, algo: &str| {
            verify(
                &p,
                &[WEBHOOK_ID],
                &headers(SIGNATURE, url, algo),
                BODY,
                None,
                SENT,
            )
        };
        let evil = "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1";
        assert!(unauthorized(check(evil, "SHA256withRSA")));
        assert!(unauthorized(check(
            &CERT_URL.replace("https://", "http://"),
            "SHA256withRSA"
        )));
        assert!(unauthorized(check(CERT_URL, "SHA1withRSA")));
        let uncached = "https://api.paypal.com/v1/notifications/certs/CERT-not-fetched";
        assert!(matches!(
            check(uncached, "SHA256withRSA"),
            Err(Rejection::Unavailable(_))
        ));
        let h = headers(SIGNATURE, CERT_URL, "SHA256withRSA");
        assert!(verify(&p, &[WEBHOOK_ID], &h, BODY, Some(300), SENT + 300).is_ok());
        assert!(unauthorized(verify(
            &p,
            &[WEBHOOK_ID],
            &h,
            BODY,
            Some(300),
            SENT + 301
        )));
    }

    #[test]
    fn configuration_errors_name_the_key() {
        let err = build(
            Paypal::from_config,
            "paypal",
            "paypal_cert_hosts = [\"a..b\"]",
        )
        .unwrap_err();
        assert_eq!(err.key, "sources[0].paypal_cert_hosts[0]");
        let err = build(
            Paypal::from_config,
            "paypal",
            &format!("signing_key = '''{KEY}'''"),
        )
        .unwrap_err();
        assert_eq!(err.key, "sources[0].paypal_signing_cert_url");
        let err = build(
            Paypal::from_config,
            "paypal",
            &format!(
                "signing_key = '''{KEY}'''\npaypal_signing_cert_url = \"https://evil.example/c\""
            ),
        )
        .unwrap_err();
        assert_eq!(err.key, "sources[0].paypal_signing_cert_url");
    }
}
