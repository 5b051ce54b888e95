//! Pieces the HMAC-family providers share, so each provider file says only
//! what is particular to it: MACs by digest, signature encodings, signature
//! headers (`sha256=<hex>`, base64, ...), `k=v` lists (`t=..,v1=..`),
//! millisecond timestamps, the body's SHA-256 as a dedup key, the public
//! URL a URL-signing provider signs, and (for the public-key providers)
//! whether a development signing key is there.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::HeaderMap;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use sha2::Digest as _;

use super::{
    bad_signature, form_pairs, required_json_str, signature_header, Inbound, Keys, Rejection,
    Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{ct_eq, mac, Digest};

/// How a signature is written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
    /// URL-safe base64 without padding (Sanity); padding is accepted.
    Base64Url,
}

impl Encoding {
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => B64.encode(bytes),
            Encoding::Base64Url => B64URL.encode(bytes),
        }
    }
    pub fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex::decode(text).ok(),
            Encoding::Base64 => B64.decode(text).ok(),
            Encoding::Base64Url => B64URL.decode(text.trim_end_matches('=')).ok(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
        }
    }
}

/// A header carrying a signature: `{prefix}{encoded MAC}`, or (made with
/// [`SignatureHeader::listed`]) a `,`-separated list of `{key}={encoded MAC}`
/// items of which any may match (PagerDuty, CircleCI: `v1=..,v1=..`).
#[derive(Debug, Clone, Copy)]
pub struct SignatureHeader {
    /// Lower case, as the header map is searched.
    pub name: &'static str,
    /// How a refusal spells the header (`name` unless set otherwise).
    shown: &'static str,
    pub prefix: &'static str,
    pub encoding: Encoding,
    /// For a list: the key of the items that hold signatures.
    item: Option<&'static str>,
}

impl SignatureHeader {
    pub const fn new(name: &'static str, prefix: &'static str, encoding: Encoding) -> Self {
        SignatureHeader {
            name,
            shown: name,
            prefix,
            encoding,
            item: None,
        }
    }

    /// A list `{key}=<sig>,{key}=<sig>`; items under other keys (other
    /// signature versions) are ignored, so a request cannot fall back to one.
    pub const fn listed(name: &'static str, key: &'static str, encoding: Encoding) -> Self {
        SignatureHeader {
            name,
            shown: name,
            prefix: "",
            encoding,
            item: Some(key),
        }
    }

    /// The header as the provider's documentation spells it, for refusals.
    pub const fn shown_as(self, shown: &'static str) -> Self {
        SignatureHeader { shown, ..self }
    }

    /// The decoded signature; 401 when it is missing or not in this form.
    pub fn read(&self, headers: &HeaderMap) -> Result<Vec<u8>, Rejection> {
        let mut all = self.read_all(headers)?;
        Ok(all.swap_remove(0))
    }

    /// Every decoded signature the header holds (one unless it is a list);
    /// 401 when there is none in this form.
    pub fn read_all(&self, headers: &HeaderMap) -> Result<Vec<Vec<u8>>, Rejection> {
        let raw = signature_header(headers, self.name)?;
        let found: Vec<Vec<u8>> = match self.item {
            None => raw
                .strip_prefix(self.prefix)
                .and_then(|s| self.encoding.decode(s.trim()))
                .into_iter()
                .collect(),
            Some(key) => pairs(raw, ',')
                .filter(|(k, _)| *k == key)
                .filter_map(|(_, v)| self.encoding.decode(v))
                .collect(),
        };
        if found.is_empty() {
            let form = match self.item {
                None => format!("{}<{}>", self.prefix, self.encoding.name()),
                Some(key) => format!("a list of {key}=<{}>", self.encoding.name()),
            };
            return Err(Rejection::Unauthorized(format!(
                "{} is not {form}",
                self.shown
            )));
        }
        Ok(found)
    }

    pub fn value(&self, mac: &[u8]) -> String {
        match self.item {
            None => format!("{}{}", self.prefix, self.encoding.encode(mac)),
            Some(key) => format!("{key}={}", self.encoding.encode(mac)),
        }
    }
}

/// Succeeds when some key's MAC equals some candidate signature.
pub fn check(
    keys: &Keys,
    candidates: &[Vec<u8>],
    compute: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<(), Rejection> {
    let matched = keys.iter().any(|key| {
        let expected = compute(key);
        candidates.iter().any(|c| ct_eq(c, &expected))
    });
    if matched {
        Ok(())
    } else {
        Err(bad_signature())
    }
}

/// A header carrying a secret itself (a static token): it must equal one of
/// the keys, compared in constant time; 401 when it is missing or does not.
pub fn token_matches(keys: &Keys, headers: &HeaderMap, name: &str) -> Result<(), Rejection> {
    let token = signature_header(headers, name)?;
    if keys.iter().any(|key| ct_eq(token.as_bytes(), key)) {
        Ok(())
    } else {
        Err(bad_signature())
    }
}

/// The commonest scheme: one header holding the MAC of the raw body.
#[derive(Debug, Clone, Copy)]
pub struct BodyHmac {
    pub header: SignatureHeader,
    pub digest: Digest,
}

impl BodyHmac {
    /// `{name}: {prefix}{encoded MAC of the body}`.
    pub const fn new(
        name: &'static str,
        prefix: &'static str,
        encoding: Encoding,
        digest: Digest,
    ) -> Self {
        BodyHmac {
            header: SignatureHeader::new(name, prefix, encoding),
            digest,
        }
    }

    pub fn verify(&self, keys: &Keys, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
        let given = self.header.read_all(headers)?;
        check(keys, &given, |key| mac(self.digest, key, &[body]))
    }

    pub fn value(&self, key: &[u8], body: &[u8]) -> String {
        self.header.value(&mac(self.digest, key, &[body]))
    }

    /// The signature header as the provider sends it.
    pub fn sign(&self, key: &[u8], body: &[u8]) -> (String, String) {
        (self.header.name.to_string(), self.value(key, body))
    }
}

/// [`super::Scheme::signing_ready`] of a provider that signs with a
/// development private key: ready when the source has one, else `missing`
/// says what to add.
pub fn has_signing_key<T>(key: Option<&T>, missing: &str) -> Result<(), String> {
    key.map(|_| ()).ok_or_else(|| missing.to_string())
}

/// The `key=value` items of a list such as `t=1,v1=ab,v1=cd` (items split
/// on `sep`, whitespace around them ignored).
pub fn pairs(raw: &str, sep: char) -> impl Iterator<Item = (&str, &str)> {
    raw.split(sep)
        .filter_map(|item| item.trim().split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
}

/// HMAC-SHA256 of `{timestamp}.{body}`, the message Stripe's scheme signs
/// and Calendly, Mux and Recurly sign the same way.
pub fn dotted_sha256(key: &[u8], timestamp: &str, body: &[u8]) -> Vec<u8> {
    crate::crypto::mac(
        crate::crypto::Digest::Sha256,
        key,
        &[timestamp.as_bytes(), b".", body],
    )
}

/// A `t=..,v1=..` header (Stripe's form, used by Calendly and Mux): the
/// timestamp and every hex `v1` signature. 401 when either is missing.
pub fn timestamped_hex(raw: &str, header: &str) -> Result<(String, Vec<Vec<u8>>), Rejection> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for (k, v) in pairs(raw, ',') {
        match k {
            "t" => timestamp = Some(v.to_string()),
            "v1" => candidates.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let timestamp =
        timestamp.ok_or_else(|| Rejection::Unauthorized(format!("{header} has no timestamp")))?;
    if candidates.is_empty() {
        return Err(Rejection::Unauthorized(format!(
            "{header} has no v1 signature"
        )));
    }
    Ok((timestamp, candidates))
}

/// Unix milliseconds as seconds (HubSpot's header, Linear's body field).
pub fn millis_to_secs(raw: &str) -> Result<String, Rejection> {
    raw.trim()
        .parse::<i64>()
        .map(|ms| (ms / 1000).to_string())
        .map_err(|_| Rejection::Unauthorized("timestamp is not Unix milliseconds".into()))
}

/// The lowercase hex SHA-256 of the body: the dedup key of providers that
/// send no event ID of their own (a resend carries the same bytes).
pub fn body_sha256(body: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(body))
}

/// The URL a URL-signing provider (Twilio, Square, HubSpot) signed: scheme,
/// host, port and path from the source's `public_url`, the query as the
/// request arrived (the provider signs the query it sent, including any it
/// added, such as Twilio's `bodySHA256`).
pub fn signed_url(public_url: &str, req: &Inbound<'_>) -> String {
    let base = public_url.split(['?', '#']).next().unwrap_or(public_url);
    match req.uri.query() {
        Some(q) => format!("{base}?{q}"),
        None => base.to_string(),
    }
}

/// The text URL-and-form signers (Twilio, Mandrill) sign: the URL, then
/// every form parameter as `{name}{value}`, sorted by name, then value.
pub fn signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (k, v) in params {
        sorted.entry(k).or_default().insert(v);
    }
    let mut text = url.to_string();
    for (k, values) in sorted {
        for v in values {
            text.push_str(k);
            text.push_str(v);
        }
    }
    text
}

/// Event ID and type read by JSON pointer (`event_id_pointer`,
/// `event_type_pointer`), for senders without a provider of their own. A
/// form-encoded body is read as an object of its fields, so `/type` finds
/// the field `type`. Without an ID pointer the dedup key is the body's
/// SHA-256; the type pointer defaults to `/type`.
#[derive(Debug, Clone)]
pub struct Pointers {
    pub event_id: Option<String>,
    pub event_type: String,
}

impl Pointers {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Pointers, ConfigError> {
        let check = |p: &Option<String>, name: &str| match p {
            Some(p) if !p.starts_with('/') => Err(ConfigError::new(
                format!("{key}.{name}"),
                format!("{p:?} is not a JSON pointer (it starts with /)"),
            )),
            other => Ok(other.clone()),
        };
        Ok(Pointers {
            event_id: check(&source.event_id_pointer, "event_id_pointer")?,
            event_type: check(&source.event_type_pointer, "event_type_pointer")?
                .unwrap_or_else(|| "/type".into()),
        })
    }

    pub fn read(&self, body: &[u8]) -> Result<Verified, Rejection> {
        let value = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_else(|_| {
            serde_json::Value::Object(
                form_pairs(body)
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect(),
            )
        });
        let id = match &self.event_id {
            Some(p) => required_json_str(&value, p, "event id")?,
            None => body_sha256(body),
        };
        let event_type = required_json_str(&value, &self.event_type, "event type")?;
        Verified::new(id, event_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_header_refusal_spells_the_header_as_shown() {
        let mut headers = HeaderMap::new();
        headers.insert("x-sig", "v0=zz".parse().unwrap());
        let plain = SignatureHeader::new("x-sig", "v0=", Encoding::Hex);
        let Err(Rejection::Unauthorized(m)) = plain.read(&headers) else {
            panic!("a malformed signature is refused")
        };
        assert_eq!(m, "x-sig is not v0=<hex>");
        let Err(Rejection::Unauthorized(m)) = plain.shown_as("X-Sig").read(&headers) else {
            panic!("a malformed signature is refused")
        };
        assert_eq!(m, "X-Sig is not v0=<hex>");
        headers.insert("x-sig", "v0=abcd".parse().unwrap());
        assert_eq!(
            plain.shown_as("X-Sig").read(&headers).unwrap(),
            [0xab, 0xcd]
        );
    }

    #[test]
    fn timestamped_lists_and_signed_urls() {
        let (t, sigs) = timestamped_hex("t=12, v1=ab ,v0=zz,v1=cd", "H").unwrap();
        assert_eq!((t.as_str(), sigs.len()), ("12", 2));
        assert!(timestamped_hex("v1=ab", "H").is_err());
        assert!(timestamped_hex("t=1", "H").is_err());
        let headers = HeaderMap::new();
        let uri: axum::http::Uri = "/ingest/tw?b=2&a=1".parse().unwrap();
        let req = Inbound {
            method: &axum::http::Method::POST,
            uri: &uri,
            headers: &headers,
            body: b"",
        };
        assert_eq!(
            signed_url("https://h.example/hooks?old=1", &req),
            "https://h.example/hooks?b=2&a=1"
        );
    }
}
