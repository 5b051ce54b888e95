//! The event document route expressions see:
//! `{"source", "provider", "event_type", "provider_event_id", "headers", "body"}`.
//!
//! It is built from what the store keeps of an event (the headers as stored,
//! secrets already left out; the raw body and its content type), so the
//! document at ingest, at send time and in the route tester is the same.
//! - `headers`: lower-case names to values; a header sent more than once is
//!   one string, its values joined with `", "` in arrival order (as HTTP
//!   reads repeated fields).
//! - `body`: the body as JSON when it parses as JSON (numbers keep their
//!   exact digits); a form body (`application/x-www-form-urlencoded`) as an
//!   object of its fields (a repeated field keeps its last value); else
//!   `null`.

use serde_json::{Map, Value};

use crate::providers::form_pairs;

/// What an event document is made of.
pub struct EventParts<'a> {
    pub source: &'a str,
    pub provider: &'a str,
    pub event_type: &'a str,
    pub provider_event_id: &'a str,
    /// The stored headers: a JSON array of `[name, value]` pairs.
    pub headers: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl EventParts<'_> {
    /// The document as JSON text.
    pub fn document(&self) -> Vec<u8> {
        let mut headers: Map<String, Value> = Map::new();
        let pairs: Vec<(String, String)> = serde_json::from_str(self.headers).unwrap_or_default();
        for (name, value) in pairs {
            let name = name.to_ascii_lowercase();
            match headers.get_mut(&name) {
                Some(Value::String(joined)) => {
                    joined.push_str(", ");
                    joined.push_str(&value);
                }
                _ => {
                    headers.insert(name, Value::String(value));
                }
            }
        }
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(b"{\"source\":");
        push_json(&mut out, &Value::from(self.source));
        out.extend_from_slice(b",\"provider\":");
        push_json(&mut out, &Value::from(self.provider));
        out.extend_from_slice(b",\"event_type\":");
        push_json(&mut out, &Value::from(self.event_type));
        out.extend_from_slice(b",\"provider_event_id\":");
        push_json(&mut out, &Value::from(self.provider_event_id));
        out.extend_from_slice(b",\"headers\":");
        push_json(&mut out, &Value::Object(headers));
        out.extend_from_slice(b",\"body\":");
        self.push_body(&mut out);
        out.push(b'}');
        out
    }

    fn push_body(&self, out: &mut Vec<u8>) {
        if serde_json::from_slice::<serde::de::IgnoredAny>(self.body).is_ok() {
            // Valid JSON is embedded as sent, so no number loses digits.
            out.extend_from_slice(self.body);
            return;
        }
        let is_form = self.content_type.is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
        if is_form {
            let fields: Map<String, Value> = form_pairs(self.body)
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            push_json(out, &Value::Object(fields));
        } else {
            out.extend_from_slice(b"null");
        }
    }
}

fn push_json(out: &mut Vec<u8>, value: &Value) {
    serde_json::to_writer(out, value).expect("a JSON value serializes");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        headers: &'a str,
        content_type: Option<&'a str>,
        body: &'a [u8],
    ) -> EventParts<'a> {
        EventParts {
            source: "s",
            provider: "stripe",
            event_type: "invoice.paid",
            provider_event_id: "evt_1",
            headers,
            content_type,
            body,
        }
    }

    fn doc(p: &EventParts<'_>) -> Value {
        serde_json::from_slice(&p.document()).unwrap()
    }

    #[test]
    fn json_bodies_keep_their_digits_and_headers_are_lower_case() {
        let body = br#"{"amount": 12345678901234567890123, "x": 1.10}"#;
        let p = parts(
            r#"[["X-Tag","a"],["x-tag","b"],["Content-Type","application/json"]]"#,
            None,
            body,
        );
        let text = String::from_utf8(p.document()).unwrap();
        assert!(text.contains("12345678901234567890123"), "{text}");
        let d = doc(&p);
        assert_eq!(d["headers"]["x-tag"], "a, b");
        assert_eq!(d["headers"]["content-type"], "application/json");
        assert_eq!(d["source"], "s");
        assert_eq!(d["provider_event_id"], "evt_1");
    }

    #[test]
    fn form_bodies_are_objects_and_other_bodies_null() {
        let form = parts(
            "[]",
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"a=1&b=x+y%21",
        );
        assert_eq!(
            doc(&form)["body"],
            serde_json::json!({"a": "1", "b": "x y!"})
        );
        let text = parts("[]", Some("text/plain"), b"hello");
        assert_eq!(doc(&text)["body"], Value::Null);
    }
}
