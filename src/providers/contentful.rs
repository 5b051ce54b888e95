//! Contentful (webhook request verification): `x-contentful-signature`,
//! the hex HMAC-SHA256, keyed with the webhook's signing secret, of the
//! canonical request `{method}\n{path}\n{headers}\n{body}`: the path (and
//! query) Contentful called, URI-encoded as its toolkit encodes it, and the
//! headers `x-contentful-signed-headers` names, lower-cased, trimmed,
//! sorted and joined as `name:value` with `;`. `x-contentful-timestamp`
//! (Unix ms) is among them; Contentful's toolkit refuses a request 30 s old,
//! the default tolerance here (stale only).
//!
//! The path is the one of the source's `public_url` (the URL registered with
//! Contentful, as Contentful calls it), the query as received. Contentful
//! sends no event ID: the dedup key is the body's SHA-256 (a retry resends
//! the same body). The type is `X-Contentful-Topic`
//! (`ContentManagement.Entry.publish`).

use super::kit::{body_sha256, check, millis_to_secs};
use super::{
    check_timestamp, header, json_body, required_header, signature_header, Inbound, Keys,
    Rejection, Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::hmac_sha256;

const SIGNED_HEADERS: &str = "x-contentful-signed-headers";
const TIMESTAMP: &str = "x-contentful-timestamp";

#[derive(Debug)]
pub struct Contentful {
    /// The path of `public_url`.
    path: String,
}

impl Contentful {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Contentful, ConfigError> {
        let url = super::public_url(source, key)?;
        let parsed = reqwest::Url::parse(&url).expect("public_url checked it");
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        Ok(Contentful { path })
    }

    /// The path as signed: `public_url`'s path with the query as received.
    fn path(&self, req: &Inbound<'_>) -> String {
        let base = self.path.split('?').next().unwrap_or_default();
        match req.uri.query() {
            Some(q) => format!("{base}?{q}"),
            None => base.to_string(),
        }
    }
}

/// What JavaScript's `encodeURI` leaves as it is, besides ASCII letters and
/// digits.
const URI_KEPT: &[u8] = b";,/?:@&=+$-_.!~*'()#";
/// What Node's `querystring.escape` leaves as it is, besides letters and
/// digits.
const QUERY_KEPT: &[u8] = b"-_.!~*'()";

fn percent_encode(text: &str, kept: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || kept.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The toolkit's `getNormalizedEncodedURI`: the query escaped, then the
/// whole URI-encoded (so the query's `%` become `%25`).
fn canonical_path(path: &str) -> String {
    let joined = match path.split_once('?') {
        Some((p, q)) if !q.is_empty() => format!("{p}?{}", percent_encode(q, QUERY_KEPT)),
        Some((p, _)) => p.to_string(),
        None => path.to_string(),
    };
    percent_encode(&joined, URI_KEPT)
}

/// `name:value` of each signed header present, sorted by name, joined with
/// `;`; the signed-headers list itself is rewritten from the names found,
/// as the toolkit rewrites it.
fn canonical_headers(pairs: &mut [(String, String)]) -> String {
    pairs.sort();
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let list = names.join(",");
    pairs
        .iter()
        .map(|(k, v)| {
            if k == SIGNED_HEADERS {
                format!("{k}:{list}")
            } else {
                format!("{k}:{v}")
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn signed(key: &[u8], method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    hmac_sha256(
        key,
        &[
            method.as_bytes(),
            b"\n",
            canonical_path(path).as_bytes(),
            b"\n",
            headers.as_bytes(),
            b"\n",
            body,
        ],
    )
    .to_vec()
}

impl Scheme for Contentful {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = hex::decode(signature_header(req.headers, "x-contentful-signature")?)
            .map_err(|_| Rejection::Unauthorized("x-contentful-signature is not hex".into()))?;
        let list = signature_header(req.headers, SIGNED_HEADERS)?;
        let timestamp = signature_header(req.headers, TIMESTAMP)?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for name in list.split(',').map(|n| n.trim().to_ascii_lowercase()) {
            if let Some(value) = header(req.headers, &name) {
                if !pairs.iter().any(|(k, _)| *k == name) {
                    pairs.push((name, value.to_string()));
                }
            }
        }
        if !pairs.iter().any(|(k, _)| k == TIMESTAMP) {
            return Err(Rejection::Unauthorized(format!(
                "{SIGNED_HEADERS} does not name {TIMESTAMP}"
            )));
        }
        let headers = canonical_headers(&mut pairs);
        let path = self.path(req);
        check(keys, &[given], |key| {
            signed(key, req.method.as_str(), &path, &headers, req.body)
        })?;
        check_timestamp(&millis_to_secs(timestamp)?, tolerance, now, true)?;
        json_body(req.body, "Contentful")?;
        let topic = required_header(req.headers, "x-contentful-topic")?;
        Verified::new(body_sha256(req.body), topic.to_string()).map(Verdict::Event)
    }

    /// Signs the two headers it sends; the topic travels beside them.
    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let t = (now * 1000).to_string();
        let mut pairs = vec![
            (SIGNED_HEADERS.to_string(), String::new()),
            (TIMESTAMP.to_string(), t.clone()),
        ];
        let headers = canonical_headers(&mut pairs);
        let mac = signed(key, "POST", &self.path, &headers, body);
        vec![
            ("x-contentful-signature".into(), hex::encode(mac)),
            (
                SIGNED_HEADERS.into(),
                format!("{SIGNED_HEADERS},{TIMESTAMP}"),
            ),
            (TIMESTAMP.into(), t),
        ]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;

    /// 64 characters, as Contentful's signing secrets are.
    const SECRET: &str = "c2VjcmV0LWNvbnRlbnRmdWwtc2lnbmluZy0xMjM0NTY3ODkwYWJjZGVmZ2hpamts";
    const URL: &str = "public_url = \"https://hooks.example.com/ingest/contentful\"";
    const BODY: &str = r#"{"metadata":{"tags":[]},"sys":{"type":"Entry","id":"5KsDBWseXY6QegucYAoacS","space":{"sys":{"type":"Link","linkType":"Space","id":"yadj1kx9rmg0"}},"environment":{"sys":{"id":"master","type":"Link","linkType":"Environment"}},"contentType":{"sys":{"type":"Link","linkType":"ContentType","id":"post"}},"revision":1,"createdAt":"2024-05-20T10:00:00.000Z","updatedAt":"2024-05-20T10:00:00.000Z"},"fields":{"title":{"en-US":"Hello, Contentful"}}}"#;
    /// Signed by Contentful's own toolkit, `@contentful/node-apps-toolkit`
    /// 3.16.1 (`signRequest` at 1716199200000 ms, with the content type and
    /// topic headers), and accepted by its `verifyRequest`, which also
    /// accepts the headers `hookgate replay` signs.
    const SIGNATURE: &str = "44bec44b38e911ac537b8c0bdcdf6e4a3e9d9b48aae87d7fe64c7a88cf15917b";
    const AT: i64 = 1716199200;

    fn given(case: &Case) -> Case {
        case.raw(
            &[
                ("content-type", "application/vnd.contentful.management.v1+json"),
                ("x-contentful-topic", "ContentManagement.Entry.publish"),
                ("x-contentful-signature", SIGNATURE),
                (
                    "x-contentful-signed-headers",
                    "content-type,x-contentful-signed-headers,x-contentful-timestamp,x-contentful-topic",
                ),
                ("x-contentful-timestamp", "1716199200000"),
            ],
            BODY.as_bytes(),
        )
    }

    #[test]
    fn sdk_vector_verifies_for_thirty_seconds() {
        let mut case = Case::new("contentful", &["cm90YXRlZC1vdXQ=", SECRET], URL);
        case.uri = "/ingest/contentful".parse().unwrap();
        let c = given(&case);
        let expected = (
            body_sha256(BODY.as_bytes()),
            "ContentManagement.Entry.publish".to_string(),
        );
        assert_eq!(c.event(AT), expected);
        assert_eq!(c.event(AT + 30), expected);
        c.assert_unauthorized(None, AT + 31);
        c.assert_tamper_and_wrong_secret_refused(AT);
        // A signed header changed is refused.
        let mut topic = c.clone();
        topic.headers[1].1 = "ContentManagement.Entry.delete".into();
        topic.assert_unauthorized(None, AT);
        // Replay signs what verification reads.
        let case = Case::new("contentful", &[SECRET], URL);
        let signed = case.signed(
            BODY.as_bytes(),
            AT,
            "-",
            &[("x-contentful-topic", "ContentManagement.Entry.publish")],
        );
        assert_eq!(signed.event(AT), expected);
    }

    /// The toolkit's path encoding: `signRequest` with the path
    /// `/ingest/contentful?a=b c&d=é` gives this signature.
    #[test]
    fn the_query_is_encoded_as_the_toolkit_does() {
        assert_eq!(
            canonical_path("/ingest/contentful?a=b c&d=é"),
            "/ingest/contentful?a%253Db%2520c%2526d%253D%25C3%25A9"
        );
        let mut pairs = vec![
            (
                "x-contentful-topic".to_string(),
                "ContentManagement.Entry.publish".to_string(),
            ),
            (
                "content-type".to_string(),
                "application/vnd.contentful.management.v1+json".to_string(),
            ),
            (
                "x-contentful-timestamp".to_string(),
                "1716199200000".to_string(),
            ),
            ("x-contentful-signed-headers".to_string(), String::new()),
        ];
        let headers = canonical_headers(&mut pairs);
        let mac = signed(
            SECRET.as_bytes(),
            "POST",
            "/ingest/contentful?a=b c&d=é",
            &headers,
            BODY.as_bytes(),
        );
        assert_eq!(
            hex::encode(mac),
            "a9864282a90883a41547c378cf2803af21bcb04b8df1af8829ed3eee4782fdc6"
        );
    }
}
