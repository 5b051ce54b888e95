//! The shared vocabulary of request parsing: the [`Inbound`] request a
//! provider sees, headers as text (missing is
//! 400, a missing signature header 401), timestamps against a tolerance,
//! the body as a JSON object, string fields by JSON pointer and
//! form-encoded pairs.

use axum::http::{HeaderMap, Method, Uri};

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

/// The body as a JSON object, or a 400 naming the provider.
pub fn json_body(body: &[u8], provider: &str) -> Result<serde_json::Value, Rejection> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Rejection::BadRequest(format!(
            "body is not the JSON object {provider} sends"
        ))),
    }
}

/// A string field of a JSON object. A number is taken as written in the
/// body (serde_json keeps its exact text), so `123456789012345678901234567890`
/// stays itself rather than a rounded float, and `42` and `"42"` are the
/// same ID.
pub fn json_str(value: &serde_json::Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn required_json_str(
    value: &serde_json::Value,
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
