//! The shared vocabulary of request parsing: the [`Inbound`] request a
//! provider sees, headers as text (missing is
//! 400, a missing signature header 401), timestamps against a tolerance,
//! the body as a JSON object, string fields by JSON pointer and
//! form-encoded pairs.

use axum::http::{HeaderMap, Method, Uri};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::Rejection;

/// What a provider sees of an inbound request: the method, the path and
/// query exactly as received, the headers and the raw body. Providers that
/// sign the URL (Twilio, Square, HubSpot) combine the path's query with the
/// source's `public_url`; GET handshakes (Dropbox, Microsoft Graph) read the
/// query.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl<'a> Inbound<'a> {
    /// A `POST /` with these headers and body (tests and store-level callers).
    pub fn post(headers: &'a HeaderMap, body: &'a [u8]) -> Inbound<'a> {
        static ROOT: std::sync::OnceLock<Uri> = std::sync::OnceLock::new();
        Inbound {
            method: &Method::POST,
            uri: ROOT.get_or_init(|| Uri::from_static("/")),
            headers,
            body,
        }
    }

    /// A query parameter of the request URI, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_pairs(self.uri.query()?.as_bytes())
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// A header as text; `None` when absent or not valid text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub fn required_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Rejection> {
    header(headers, name)
        .ok_or_else(|| Rejection::BadRequest(format!("missing or unreadable header {name}")))
}

pub fn signature_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Rejection> {
    header(headers, name).ok_or_else(|| Rejection::Unauthorized(format!("missing {name} header")))
}

pub fn bad_signature() -> Rejection {
    Rejection::Unauthorized("signature does not match".into())
}

/// Parses a Unix timestamp in seconds and checks it against the tolerance.
/// `stale_only` accepts timestamps from the future (Stripe's rule).
pub fn check_timestamp(
    raw: &str,
    tolerance: Option<u64>,
    now: i64,
    stale_only: bool,
) -> Result<i64, Rejection> {
    let ts: i64 = raw
        .parse()
        .map_err(|_| Rejection::Unauthorized("timestamp is not a Unix time in seconds".into()))?;
    if let Some(tol) = tolerance {
        // In i128 every difference of two i64 and every u64 fits: no
        // wrap-around can turn an ancient timestamp into a fresh one.
        let (ts, now, tol) = (i128::from(ts), i128::from(now), i128::from(tol));
        if now - ts > tol {
            return Err(Rejection::Unauthorized(
                "timestamp is outside the tolerance (too old)".into(),
            ));
        }
        if !stale_only && ts - now > tol {
            return Err(Rejection::Unauthorized(
                "timestamp is outside the tolerance (in the future)".into(),
            ));
        }
    }
    Ok(ts)
}

/// Checks a send time already in Unix seconds (from an RFC 3339 header or
/// field: Twitch, Amazon SNS) against `tolerance`, in both directions.
pub fn check_sent_within(sent: i64, tolerance: u64, now: i64) -> Result<(), Rejection> {
    if (now - sent).abs() > tolerance as i64 {
        return Err(Rejection::Unauthorized(
            "timestamp is outside the tolerance".into(),
        ));
    }
    Ok(())
}

/// The body as a JSON object, or a 400 naming the provider. The body is
/// checked whole, but nothing is built from it: fields are read where they
/// lie ([`Doc::pointer_str`]), so an event costs no tree of its JSON.
pub fn json_body<'a>(body: &'a [u8], provider: &str) -> Result<Doc<'a>, Rejection> {
    match serde_json::from_slice::<&RawValue>(body) {
        Ok(raw) if raw.get().starts_with('{') => Ok(Doc { raw }),
        _ => Err(Rejection::BadRequest(format!(
            "body is not the JSON object {provider} sends"
        ))),
    }
}

/// A JSON object, checked, read lazily.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    raw: &'a RawValue,
}

impl<'a> Doc<'a> {
    /// The whole document as a value, for providers that walk it.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.raw.get()).unwrap_or(serde_json::Value::Null)
    }

    /// The text at a JSON pointer (RFC 6901) as [`json_str`] reads it.
    pub fn pointer_str(&self, pointer: &str) -> Option<String> {
        self.resolve(pointer).and_then(leaf_str)
    }

    /// The JSON string at a pointer, empty or not; `None` for anything else.
    pub fn string_at(&self, pointer: &str) -> Option<String> {
        let raw = self.resolve(pointer)?;
        raw.get()
            .starts_with('"')
            .then(|| serde_json::from_str::<String>(raw.get()).ok())
            .flatten()
    }

    /// The raw value at a JSON pointer.
    fn resolve(&self, pointer: &str) -> Option<&'a RawValue> {
        let mut at = self.raw;
        if !pointer.is_empty() {
            if !pointer.starts_with('/') {
                return None;
            }
            for token in pointer[1..].split('/') {
                let token = token.replace("~1", "/").replace("~0", "~");
                at = child(at, &token)?;
            }
        }
        Some(at)
    }
}

/// The member `token` of an object, or element `token` of an array.
fn child<'a>(raw: &'a RawValue, token: &str) -> Option<&'a RawValue> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    match raw.get().as_bytes().first()? {
        b'{' => FindMember(token).deserialize(&mut de).ok().flatten(),
        b'[' => {
            // As serde_json's pointer: no sign, no leading zero.
            if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
                return None;
            }
            let index: usize = token.parse().ok()?;
            FindElement(index).deserialize(&mut de).ok().flatten()
        }
        _ => None,
    }
}

/// One member of an object, as its raw text; of repeated keys the last
/// wins, as when the object is built.
struct FindMember<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for FindMember<'_> {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FindMember<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(hit) = map.next_key_seed(KeyIs(self.0))? {
            if hit {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a key is the one sought, compared where it lies.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// One element of an array, as its raw text.
struct FindElement(usize);

impl<'de> DeserializeSeed<'de> for FindElement {
    type Value = Option<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindElement {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        let mut i = 0;
        while i <= self.0 {
            if i == self.0 {
                found = seq.next_element::<&'de RawValue>()?;
                break;
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(None);
            }
            i += 1;
        }
        // The rest is read too: the array must end where it does.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(found)
    }
}

/// A non-empty string, or a number as written; anything else is `None`.
fn leaf_str(raw: &RawValue) -> Option<String> {
    let text = raw.get();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(text)
            .ok()
            .filter(|s| !s.is_empty()),
        b'-' | b'0'..=b'9' => serde_json::from_str::<serde_json::Number>(text)
            .ok()
            .map(|n| n.to_string()),
        _ => None,
    }
}

/// Reading fields by JSON pointer, from a [`Doc`] or a built value.
pub trait JsonFields {
    fn field_str(&self, pointer: &str) -> Option<String>;
}

impl JsonFields for Doc<'_> {
    fn field_str(&self, pointer: &str) -> Option<String> {
        self.pointer_str(pointer)
    }
}

impl JsonFields for serde_json::Value {
    fn field_str(&self, pointer: &str) -> Option<String> {
        match self.pointer(pointer)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// A string field of a JSON object. A number is taken as written in the
/// body (serde_json keeps its exact text), so `123456789012345678901234567890`
/// stays itself rather than a rounded float, and `42` and `"42"` are the
/// same ID.
pub fn json_str(value: &impl JsonFields, pointer: &str) -> Option<String> {
    value.field_str(pointer)
}

pub fn required_json_str(
    value: &impl JsonFields,
    pointer: &str,
    what: &str,
) -> Result<String, Rejection> {
    json_str(value, pointer)
        .ok_or_else(|| Rejection::BadRequest(format!("body has no {what} at {pointer}")))
}

/// Splits `application/x-www-form-urlencoded` text into decoded pairs, in
/// order (`+` is a space; undecodable escapes are kept as they are).
pub fn form_pairs(text: &[u8]) -> Vec<(String, String)> {
    text.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let k = percent_decode(it.next().unwrap_or_default());
            let v = percent_decode(it.next().unwrap_or_default());
            (k, v)
        })
        .collect()
}

/// Percent-encodes one form field: everything but ASCII letters, digits
/// and `-._~` as `%XX`, the inverse of [`form_pairs`] for a signer that
/// builds a form body (Braintree).
pub fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => match hex::decode(&raw[i + 1..i + 3]) {
                Ok(b) => {
                    out.push(b[0]);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pointer reads from the lazy document what it reads from the
    /// built value.
    #[test]
    fn a_doc_reads_fields_as_the_built_value_does() {
        let body = br#"{"id": "evt_1", "n": 123456789012345678901234567890, "empty": "",
            "data": {"object": {"id": "obj_1", "list": [1, {"k": "v"}, "three"]}},
            "a/b": {"m~n": "escaped"}, "dup": "first", "dup": "last",
            "esc\"key": "quoted", "t": true, "z": null, "neg": -1.5e3}"#;
        let doc = json_body(body, "Test").unwrap();
        let value: serde_json::Value = serde_json::from_slice(body).unwrap();
        for pointer in [
            "/id",
            "/n",
            "/empty",
            "/data/object/id",
            "/data/object/list/0",
            "/data/object/list/1/k",
            "/data/object/list/2",
            "/data/object/list/3",
            "/data/object/list/01",
            "/data/object/list/+1",
            "/a~1b/m~0n",
            "/dup",
            "/esc\"key",
            "/t",
            "/z",
            "/neg",
            "/missing",
            "/data/missing/x",
            "",
            "id",
            "/id/x",
        ] {
            assert_eq!(
                json_str(&doc, pointer),
                json_str(&value, pointer),
                "{pointer}"
            );
        }
        assert_eq!(json_str(&doc, "/dup").as_deref(), Some("last"));
        assert_eq!(doc.string_at("/empty").as_deref(), Some(""));
        assert_eq!(doc.string_at("/n"), None);
        assert_eq!(doc.value(), value);
    }

    #[test]
    fn only_a_whole_json_object_is_a_doc() {
        for body in [
            &b"[1]"[..],
            b"\"s\"",
            b"{\"a\": 1} x",
            b"{\"a\": }",
            b"",
            b"{\"a\": \"\xff\"}",
        ] {
            assert!(json_body(body, "Test").is_err(), "{body:?}");
        }
        assert!(json_body(b" {\"a\": [1, 2]} ", "Test").is_ok());
    }

    #[test]
    fn form_encode_is_undone_by_form_pairs() {
        let text = "a+b/c=\n|d é";
        let body = format!("k={}", form_encode(text));
        assert_eq!(body, "k=a%2Bb%2Fc%3D%0A%7Cd%20%C3%A9");
        assert_eq!(form_pairs(body.as_bytes())[0].1, text);
    }

    #[test]
    fn form_pairs_decode_in_order() {
        assert_eq!(
            form_pairs(b"b=2+3&a=%41%zz&&c"),
            vec![
                ("b".to_string(), "2 3".to_string()),
                ("a".to_string(), "A%zz".to_string()),
                ("c".to_string(), String::new()),
            ]
        );
    }

    /// No wrap-around at the ends of i64 (or with a u64 tolerance): the
    /// stalest and most future timestamps are refused, never taken as now.
    #[test]
    fn timestamp_checks_hold_at_the_extremes() {
        let (min, max) = (i64::MIN.to_string(), i64::MAX.to_string());
        let now = 1_700_000_000;
        // (timestamp, tolerance, now, stale_only, accepted)
        let cases = [
            (&min, 300, now, true, false),
            (&min, 300, now, false, false),
            (&min, 300, i64::MAX, true, false),
            (&max, 300, now, false, false),
            (&max, 300, i64::MIN, false, false),
            (&max, 300, now, true, true),
            (&min, 0, i64::MIN, false, true),
            (&max, 0, i64::MAX, false, true),
            (&min, u64::MAX, i64::MAX, false, true),
            (&min, i64::MAX as u64, 0, true, false),
        ];
        for (ts, tolerance, now, stale_only, accepted) in cases {
            let r = check_timestamp(ts, Some(tolerance), now, stale_only);
            assert_eq!(
                r.is_ok(),
                accepted,
                "{ts} tol {tolerance} now {now} stale_only {stale_only}"
            );
        }
        assert!(check_timestamp("-9223372036854775809", Some(300), 0, true).is_err());
        assert!(check_timestamp("99999999999999999999", None, 0, false).is_err());
    }
}
