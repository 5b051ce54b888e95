//! `generic-hmac`: for senders that sign the body with an HMAC but have no
//! provider of their own. Everything is configured on the source:
//!
//! | key | meaning | default |
//! | --- | --- | --- |
//! | `signature_header` | header carrying the signature | required |
//! | `signature_prefix` | text before the signature, e.g. `sha256=` | none |
//! | `algorithm` | `sha256` or `sha1` | `sha256` |
//! | `encoding` | `hex` or `base64` | `hex` |
//! | `timestamp_header` | when set, the signed text is `{timestamp}.{body}` and `tolerance_secs` applies (both directions) | none |
//! | `event_id_header` / `event_id_pointer` | where the event ID is (JSON pointer into the body) | `Idempotency-Key` header |
//! | `event_type_header` / `event_type_pointer` | where the event type is | `/type` |

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::check;
use super::{
    check_timestamp, header, json_str, signature_header, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{hmac_sha1, hmac_sha256};

/// The source keys `generic-hmac` reads.
pub const KEYS: &[&str] = &[
    "signature_header",
    "signature_prefix",
    "algorithm",
    "encoding",
    "timestamp_header",
    "event_id_header",
    "event_id_pointer",
    "event_type_header",
    "event_type_pointer",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// Where a value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    Header(String),
    Pointer(String),
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub signature_header: String,
    pub signature_prefix: String,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
    pub timestamp_header: Option<String>,
    pub event_id: Locator,
    pub event_type: Locator,
}

impl Settings {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Settings, ConfigError> {
        let signature_header = source.signature_header.clone().ok_or_else(|| {
            ConfigError::new(
                format!("{key}.signature_header"),
                "generic-hmac needs the name of the header that carries the signature",
            )
        })?;
        let algorithm = match source.algorithm.as_deref().unwrap_or("sha256") {
            "sha256" => Algorithm::Sha256,
            "sha1" => Algorithm::Sha1,
            other => {
                return Err(ConfigError::new(
                    format!("{key}.algorithm"),
                    format!("{other:?} is not sha256 or sha1"),
                ))
            }
        };
        let encoding = match source.encoding.as_deref().unwrap_or("hex") {
            "hex" => Encoding::Hex,
            "base64" => Encoding::Base64,
            other => {
                return Err(ConfigError::new(
                    format!("{key}.encoding"),
                    format!("{other:?} is not hex or base64"),
                ))
            }
        };
        let locator =
            |h: &Option<String>, p: &Option<String>, name: &str, default: Locator| match (h, p) {
                (Some(_), Some(_)) => Err(ConfigError::new(
                    format!("{key}.{name}_header"),
                    format!("set {name}_header or {name}_pointer, not both"),
                )),
                (Some(h), None) => Ok(Locator::Header(h.to_ascii_lowercase())),
                (None, Some(p)) if p.starts_with('/') => Ok(Locator::Pointer(p.clone())),
                (None, Some(p)) => Err(ConfigError::new(
                    format!("{key}.{name}_pointer"),
                    format!("{p:?} is not a JSON pointer (it starts with /)"),
                )),
                (None, None) => Ok(default),
            };
        Ok(Settings {
            signature_header: signature_header.to_ascii_lowercase(),
            signature_prefix: source.signature_prefix.clone().unwrap_or_default(),
            algorithm,
            encoding,
            timestamp_header: source
                .timestamp_header
                .as_ref()
                .map(|h| h.to_ascii_lowercase()),
            event_id: locator(
                &source.event_id_header,
                &source.event_id_pointer,
                "event_id",
                Locator::Header("idempotency-key".into()),
            )?,
            event_type: locator(
                &source.event_type_header,
                &source.event_type_pointer,
                "event_type",
                Locator::Pointer("/type".into()),
            )?,
        })
    }

    fn mac(&self, key: &[u8], timestamp: Option<&str>, body: &[u8]) -> Vec<u8> {
        let parts: Vec<&[u8]> = match timestamp {
            Some(ts) => vec![ts.as_bytes(), b".", body],
            None => vec![body],
        };
        match self.algorithm {
            Algorithm::Sha256 => hmac_sha256(key, &parts).to_vec(),
            Algorithm::Sha1 => hmac_sha1(key, &parts).to_vec(),
        }
    }

    fn encode(&self, mac: &[u8]) -> String {
        match self.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => B64.encode(mac),
        }
    }

    fn decode(&self, text: &str) -> Option<Vec<u8>> {
        match self.encoding {
            Encoding::Hex => hex::decode(text).ok(),
            Encoding::Base64 => B64.decode(text).ok(),
        }
    }
}

fn locate(
    locator: &Locator,
    headers: &HeaderMap,
    json: Option<&serde_json::Value>,
    what: &str,
) -> Result<String, Rejection> {
    match locator {
        Locator::Header(name) => header(headers, name).map(str::to_string).ok_or_else(|| {
            Rejection::BadRequest(format!("missing or unreadable header {name} ({what})"))
        }),
        Locator::Pointer(p) => json
            .and_then(|j| json_str(j, p))
            .ok_or_else(|| Rejection::BadRequest(format!("body has no {what} at {p}"))),
    }
}

impl Scheme for Settings {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, &self.signature_header)?;
        let given = raw
            .strip_prefix(self.signature_prefix.as_str())
            .and_then(|s| self.decode(s))
            .ok_or_else(|| {
                Rejection::Unauthorized("signature header is not in the configured format".into())
            })?;
        let timestamp = match &self.timestamp_header {
            Some(name) => Some(signature_header(req.headers, name)?),
            None => None,
        };
        check(keys, &[given], |key| self.mac(key, timestamp, req.body))?;
        if let Some(ts) = timestamp {
            check_timestamp(ts, tolerance, now, false)?;
        }
        let json = serde_json::from_slice::<serde_json::Value>(req.body).ok();
        let needs_json = matches!(self.event_id, Locator::Pointer(_))
            || matches!(self.event_type, Locator::Pointer(_));
        if needs_json && json.is_none() {
            return Err(Rejection::BadRequest("body is not JSON".into()));
        }
        let id = locate(&self.event_id, req.headers, json.as_ref(), "event id")?;
        let event_type = locate(&self.event_type, req.headers, json.as_ref(), "event type")?;
        Verified::new(id, event_type).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        sign(self, key, body, now, delivery_id)
    }
    fn default_tolerance(&self) -> Option<u64> {
        self.timestamp_header.as_ref().map(|_| 300)
    }
    fn body_id_pointer(&self) -> Option<&str> {
        match &self.event_id {
            Locator::Pointer(p) => Some(p.as_str()),
            Locator::Header(_) => None,
        }
    }
}

pub fn sign(
    settings: &Settings,
    key: &[u8],
    body: &[u8],
    now: i64,
    delivery_id: &str,
) -> Vec<(String, String)> {
    let ts = now.to_string();
    let timestamp = settings.timestamp_header.as_ref().map(|_| ts.as_str());
    let value = format!(
        "{}{}",
        settings.signature_prefix,
        settings.encode(&settings.mac(key, timestamp, body))
    );
    let mut out = vec![(settings.signature_header.clone(), value)];
    if let Some(name) = &settings.timestamp_header {
        out.push((name.clone(), ts));
    }
    if let Locator::Header(name) = &settings.event_id {
        out.push((name.clone(), delivery_id.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{headers, keys, post};

    fn settings(toml_extra: &str) -> Settings {
        let text = format!(
            "name = \"acme\"\nprovider = \"generic-hmac\"\nsecrets = [\"k\"]\n{toml_extra}"
        );
        let source: SourceConfig = toml::from_str(&text).unwrap();
        Settings::from_config(&source, "sources[0]").unwrap()
    }

    #[test]
    fn sha256_hex_with_prefix_and_pointers() {
        let s = settings("signature_header = \"X-Acme-Signature\"\nsignature_prefix = \"sha256=\"\nevent_id_pointer = \"/id\"\n");
        let body = br#"{"id":"a1","type":"order.created"}"#;
        let h = headers(&[(
            "x-acme-signature",
            &format!("sha256={}", hex::encode(hmac_sha256(b"k", &[body]))),
        )]);
        let v = post(&s, &keys(&["k"]), None, &h, body, 0).unwrap();
        assert_eq!(
            v,
            Verdict::Event(Verified::new("a1".into(), "order.created".into()).unwrap())
        );
        assert!(matches!(
            post(&s, &keys(&["j"]), None, &h, body, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }

    #[test]
    fn sha1_base64_with_timestamp_and_headers() {
        let s = settings("signature_header = \"X-Sig\"\nalgorithm = \"sha1\"\nencoding = \"base64\"\ntimestamp_header = \"X-Ts\"\nevent_type_header = \"X-Kind\"\n");
        let body = b"plain text is fine here";
        let mut pairs = sign(&s, b"k", body, 100, "d-1");
        pairs.push(("x-kind".into(), "thing.done".into()));
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let h = headers(&refs);
        let expected = B64.encode(hmac_sha1(b"k", &[b"100.", body]));
        assert_eq!(h.get("x-sig").unwrap(), expected.as_str());
        let v = post(&s, &keys(&["k"]), Some(300), &h, body, 100).unwrap();
        let Verdict::Event(v) = v else { panic!() };
        assert_eq!(v.event_type(), "thing.done");
        assert!(post(&s, &keys(&["k"]), Some(300), &h, body, 401).is_err());
    }
}
