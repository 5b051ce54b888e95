//! Twilio: `X-Twilio-Signature` is the base64 HMAC-SHA1 (HMAC-SHA256 when
//! `X-Twilio-Webhooks-Signature-Settings` says `algorithm=HMAC_SHA256`),
//! keyed with the Auth Token, of the full URL Twilio requested followed by
//! every form parameter as `{name}{value}`, sorted by name then value. A
//! JSON body is signed through the URL instead: Twilio adds
//! `?bodySHA256=<hex SHA-256 of the body>` and signs the URL alone.
//!
//! The URL is the source's `public_url` (scheme, host, path) with the query
//! as received; like Twilio's SDKs, it is tried with and without the
//! default port. The event ID is `I-Twilio-Idempotency-Token` (the same on
//! every retry), else the body's SHA-256. The type is `message.{status}`
//! for messaging callbacks (`MessageStatus`, else `SmsStatus`),
//! `call.{CallStatus}` for voice, the body's `type` for JSON, else `twilio`.

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::{body_sha256, signed_text, signed_url};
use super::{
    bad_signature, form_pairs, header, json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{ct_eq, mac, Digest};

#[derive(Debug)]
pub struct Twilio {
    public_url: String,
}

impl Twilio {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Twilio, ConfigError> {
        Ok(Twilio {
            public_url: super::public_url(source, key)?,
        })
    }
}

/// The URL with its default port added, or removed when it has one.
fn port_toggled(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let (scheme_end, rest) = url.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let toggled = if authority.ends_with(&format!(":{}", parsed.port_or_known_default()?)) {
        host.to_string()
    } else {
        format!("{authority}:{}", parsed.port_or_known_default()?)
    };
    Some(format!(
        "{scheme_end}://{toggled}{}",
        &rest[authority_end..]
    ))
}

fn is_form(req: &Inbound<'_>) -> bool {
    header(req.headers, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

impl Scheme for Twilio {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "x-twilio-signature")?;
        let given = B64
            .decode(raw)
            .map_err(|_| Rejection::Unauthorized("X-Twilio-Signature is not base64".into()))?;
        let digest = match header(req.headers, "x-twilio-webhooks-signature-settings") {
            Some(s) if s.contains("algorithm=HMAC_SHA256") => Digest::Sha256,
            _ => Digest::Sha1,
        };
        let url = signed_url(&self.public_url, req);
        let params = match req.query_param("bodySHA256") {
            Some(hash) => {
                if !ct_eq(hash.as_bytes(), body_sha256(req.body).as_bytes()) {
                    return Err(Rejection::Unauthorized(
                        "bodySHA256 does not match the body".into(),
                    ));
                }
                Vec::new()
            }
            None => form_pairs(req.body),
        };
        let urls: Vec<String> = std::iter::once(url.clone())
            .chain(port_toggled(&url))
            .collect();
        let matched = keys.iter().any(|key| {
            urls.iter().any(|u| {
                ct_eq(
                    &given,
                    &mac(digest, key, &[signed_text(u, &params).as_bytes()]),
                )
            })
        });
        if !matched {
            return Err(bad_signature());
        }
        let id = header(req.headers, "i-twilio-idempotency-token")
            .map(str::to_string)
            .unwrap_or_else(|| body_sha256(req.body));
        let event_type = if is_form(req) || req.query_param("bodySHA256").is_none() {
            let form: BTreeMap<String, String> = form_pairs(req.body).into_iter().collect();
            if let Some(s) = form.get("MessageStatus").or(form.get("SmsStatus")) {
                format!("message.{s}")
            } else if let Some(s) = form.get("CallStatus") {
                format!("call.{s}")
            } else {
                "twilio".to_string()
            }
        } else {
            serde_json::from_slice::<serde_json::Value>(req.body)
                .ok()
                .and_then(|j| json_str(&j, "/type"))
                .unwrap_or_else(|| "twilio".to_string())
        };
        Verified::new(id, event_type).map(Verdict::Event)
    }

    /// Signs a form body posted to `public_url` (fixtures are forms).
    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        let url = self.public_url.split(['?', '#']).next().unwrap_or_default();
        let text = signed_text(url, &form_pairs(body));
        vec![
            (
                "X-Twilio-Signature".into(),
                B64.encode(mac(Digest::Sha1, key, &[text.as_bytes()])),
            ),
            ("I-Twilio-Idempotency-Token".into(), delivery_id.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;

    /// Vectors computed with Twilio's official Python SDK, `twilio` 9.13.0
    /// (`RequestValidator.compute_signature`, accepted by `validate`): the
    /// SDK's own documented example request.
    const FORM: &str = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    const FORM_SHA1: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
    const FORM_SHA256: &str = "Rmm4Vzj+Ky7JGoWXMCsZDZuHDszLr9xvdbvitrDr4/M=";
    const JSON: &str = r#"{"property": "value", "boolean": true}"#;
    const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const JSON_SHA1: &str = "y77kIzt2vzLz71DgmJGsen2scGs=";

    fn case() -> Case {
        Case::new(
            "twilio",
            &["12345"],
            "public_url = \"https://mycompany.com/myapp.php\"",
        )
    }

    fn at(mut c: Case, uri: &str) -> Case {
        c.uri = uri.parse().unwrap();
        c
    }

    #[test]
    fn sdk_vectors_for_forms_json_and_sha256() {
        let form = [("content-type", "application/x-www-form-urlencoded")];
        let c = at(case(), "/ingest/twilio?foo=1&bar=2").raw(
            &[
                form[0],
                ("x-twilio-signature", FORM_SHA1),
                ("i-twilio-idempotency-token", "idem-1"),
            ],
            FORM.as_bytes(),
        );
        assert_eq!(c.event(0), ("idem-1".into(), "twilio".into()));
        c.assert_tamper_and_wrong_secret_refused(0);
        // The same request with the port written out still verifies.
        let mut ported = c.clone();
        ported.provider = Case::new(
            "twilio",
            &["12345"],
            "public_url = \"https://mycompany.com:443/myapp.php\"",
        )
        .provider;
        assert!(ported.verify(None, 0).is_ok());
        // HMAC-SHA256 when the settings header asks for it.
        let c256 = at(case(), "/x?foo=1&bar=2").raw(
            &[
                form[0],
                ("x-twilio-signature", FORM_SHA256),
                (
                    "x-twilio-webhooks-signature-settings",
                    "key=k1,algorithm=HMAC_SHA256",
                ),
            ],
            FORM.as_bytes(),
        );
        assert!(c256.verify(None, 0).is_ok());
        // JSON: the URL carries bodySHA256 and alone is signed.
        let json = at(case(), &format!("/x?bodySHA256={JSON_HASH}")).raw(
            &[
                ("content-type", "application/json"),
                ("x-twilio-signature", JSON_SHA1),
            ],
            JSON.as_bytes(),
        );
        let (id, ty) = json.event(0);
        assert_eq!(
            (id.len(), ty.as_str()),
            (64, "twilio"),
            "body SHA-256 without the header"
        );
        json.assert_tamper_and_wrong_secret_refused(0);
    }

    #[test]
    fn types_and_replay_signing() {
        let body = b"MessageSid=SM1&MessageStatus=delivered&To=%2B1555";
        let c = case().signed(
            body,
            0,
            "idem-2",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        assert_eq!(c.event(0), ("idem-2".into(), "message.delivered".into()));
        let body = b"CallSid=CA1&CallStatus=completed";
        let c = case().signed(
            body,
            0,
            "idem-3",
            &[("content-type", "application/x-www-form-urlencoded")],
        );
        assert_eq!(c.event(0).1, "call.completed");
        assert_eq!(
            port_toggled("https://h.example/a?b").unwrap(),
            "https://h.example:443/a?b"
        );
        assert_eq!(
            port_toggled("http://h.example:80/a").unwrap(),
            "http://h.example/a"
        );
    }
}
