//! Senders that post several events in one request (SendGrid's array,
//! Microsoft Graph's `value` array). Each element becomes an event of its
//! own: its bytes exactly as received are what hookgate stores, hashes for
//! duplicate detection and delivers, so a resent batch (or the same element
//! in a differently cut batch) deduplicates element by element.

use std::ops::Range;

use serde::de::IgnoredAny;
use serde_json::Value;

use super::kit::body_sha256;
use super::{json_str, Rejection, Verified};

/// One element of a batch: where its bytes sit in the request body, and
/// what verification read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub range: Range<usize>,
    pub verified: Verified,
    /// The element's own bytes when they are no slice of the body: a
    /// form-encoded batch (Mandrill's `mandrill_events`) stores each event
    /// as a form of its own; `range` is then empty.
    pub bytes: Option<Vec<u8>>,
}

/// Elements of a JSON array: each one's byte range and parsed value.
pub type Elements = Vec<(Range<usize>, Value)>;

/// The elements of the JSON array at the start of `text` (after optional
/// whitespace) and where the array ends; `None` when `text` does not start
/// with a well-formed array.
pub fn array_elements(text: &[u8]) -> Option<(Elements, usize)> {
    let mut pos = skip_ws(text, 0);
    if text.get(pos) != Some(&b'[') {
        return None;
    }
    pos = skip_ws(text, pos + 1);
    let mut out = Vec::new();
    if text.get(pos) == Some(&b']') {
        return Some((out, pos + 1));
    }
    loop {
        // One value at a time: the stream deserializer reports where the
        // value ended, which is all that is needed to slice it out.
        let mut stream = serde_json::Deserializer::from_slice(&text[pos..]).into_iter::<Value>();
        let value = stream.next()?.ok()?;
        let end = pos + stream.byte_offset();
        out.push((pos..end, value));
        pos = skip_ws(text, end);
        match text.get(pos) {
            Some(b',') => pos = skip_ws(text, pos + 1),
            Some(b']') => return Some((out, pos + 1)),
            _ => return None,
        }
    }
}

/// The elements of a body that is exactly one JSON array.
pub fn body_array(body: &[u8]) -> Option<Elements> {
    let (elements, end) = array_elements(body)?;
    (skip_ws(body, end) == body.len()).then_some(elements)
}

/// The elements of the array under `key` in a body that is one JSON object,
/// with byte ranges into `body` (Microsoft Graph's `{"value": [...]}`).
pub fn member_array(body: &[u8], key: &str) -> Option<Elements> {
    path_array(body, &[key])
}

/// The elements of the array at `path` (member names from the top-level
/// object down, Okta's `data`, `events`), with byte ranges into `body`.
pub fn path_array(body: &[u8], path: &[&str]) -> Option<Elements> {
    // Check the whole body first, so the scans below walk valid JSON only.
    serde_json::from_slice::<IgnoredAny>(body).ok()?;
    let mut at = 0..body.len();
    for key in path {
        let inner = member(&body[at.clone()], key)?;
        at = at.start + inner.start..at.start + inner.end;
    }
    let (elements, end) = array_elements(&body[at.clone()])?;
    (skip_ws(&body[at.clone()], end) == at.len()).then(|| {
        elements
            .into_iter()
            .map(|(r, v)| (r.start + at.start..r.end + at.start, v))
            .collect()
    })
}

/// Where the value of the first member named `key` sits in `text`, one
/// valid JSON object.
fn member(text: &[u8], key: &str) -> Option<Range<usize>> {
    let mut pos = skip_ws(text, 0);
    if text.get(pos) != Some(&b'{') {
        return None;
    }
    pos = skip_ws(text, pos + 1);
    while text.get(pos) == Some(&b'"') {
        let mut stream = serde_json::Deserializer::from_slice(&text[pos..]).into_iter::<String>();
        let name = stream.next()?.ok()?;
        pos = skip_ws(text, pos + stream.byte_offset());
        if text.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(text, pos + 1);
        let mut stream =
            serde_json::Deserializer::from_slice(&text[pos..]).into_iter::<IgnoredAny>();
        stream.next()?.ok()?;
        let end = pos + stream.byte_offset();
        if name == key {
            return Some(pos..end);
        }
        pos = skip_ws(text, end);
        if text.get(pos) == Some(&b',') {
            pos = skip_ws(text, pos + 1);
        }
    }
    None
}

/// One [`Part`] per element: its ID at the JSON pointer `id` (required),
/// or with `id` `None`, for senders whose elements carry none, the SHA-256
/// of its bytes (a resend carries the same bytes); its type from
/// `event_type`. `what` names an element in refusals (`event [2] has no
/// id`). An empty batch is refused: it holds nothing to store.
pub fn parts(
    body: &[u8],
    elements: Elements,
    what: &str,
    id: Option<&str>,
    event_type: impl Fn(&Value) -> Option<String>,
) -> Result<Vec<Part>, Rejection> {
    if elements.is_empty() {
        return Err(Rejection::BadRequest(format!("the batch holds no {what}")));
    }
    let mut parts = Vec::with_capacity(elements.len());
    for (i, (range, value)) in elements.into_iter().enumerate() {
        let id = match id {
            Some(pointer) => json_str(&value, pointer).ok_or_else(|| {
                Rejection::BadRequest(format!("{what} [{i}] has no {}", &pointer[1..]))
            })?,
            None => body_sha256(&body[range.clone()]),
        };
        let event_type = event_type(&value)
            .ok_or_else(|| Rejection::BadRequest(format!("{what} [{i}] has no type")))?;
        parts.push(Part {
            range,
            verified: Verified::new(id, event_type)?,
            bytes: None,
        });
    }
    Ok(parts)
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while matches!(text.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_each_element_exactly() {
        let body = b" [ {\"a\": 1} ,\n{\"b\" : [2, 3]},\"x\" ] ";
        let parts = body_array(body).unwrap();
        let texts: Vec<&[u8]> = parts.iter().map(|(r, _)| &body[r.clone()]).collect();
        assert_eq!(
            texts,
            vec![&b"{\"a\": 1}"[..], b"{\"b\" : [2, 3]}", b"\"x\""]
        );
        assert_eq!(parts[1].1["b"][1], 3);
        assert_eq!(body_array(b"[]").unwrap().len(), 0);
        for bad in [&b"[1,]"[..], b"[1 2]", b"{}", b"[1] x", b"[", b""] {
            assert!(
                body_array(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn finds_the_member_array() {
        let body =
            br#"{"other": {"value": [9]}, "value" : [ {"id":"1"}, {"id": "2"} ], "z": null}"#;
        let parts = member_array(body, "value").unwrap();
        assert_eq!(&body[parts[1].0.clone()], br#"{"id": "2"}"#);
        assert_eq!(parts.len(), 2);
        assert!(member_array(br#"{"values": []}"#, "value").is_none());
        assert!(member_array(br#"{"value": []"#, "value").is_none());
        assert!(member_array(br#"[{"value": []}]"#, "value").is_none());
    }

    #[test]
    fn finds_a_nested_array() {
        let body = br#"{"eventId":"e","data" : {"x":1, "events": [ {"uuid":"a"} ,{"uuid":"b"}]}}"#;
        let parts = path_array(body, &["data", "events"]).unwrap();
        assert_eq!(&body[parts[1].0.clone()], br#"{"uuid":"b"}"#);
        assert!(path_array(body, &["data", "nope"]).is_none());
        assert!(path_array(body, &["eventId"]).is_none(), "not an array");
        assert!(path_array(br#"{"data": [1]}"#, &["data", "events"]).is_none());
    }
}
