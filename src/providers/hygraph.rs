//! Hygraph: `gcms-signature: sign=<base64>, env=<environment>, t=<ms>`, the
//! HMAC-SHA256, keyed with the webhook's secret, of the JSON text
//! `{"Body":<body as a string>,"EnvironmentName":<env>,"TimeStamp":<t>}`
//! written as JavaScript's `JSON.stringify` writes it (serde_json writes
//! strings the same way). Hygraph names no tolerance; `tolerance_secs` sets
//! one. Hygraph sends no event ID: the dedup key is the body's SHA-256. The
//! type is `{data.__typename}.{operation}` (`Post.publish`).

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::{body_sha256, check, millis_to_secs, pairs};
use super::{
    check_timestamp, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::hmac_sha256;

#[derive(Debug)]
pub struct Hygraph;

/// The environment `hookgate replay` names: Hygraph's default.
const REPLAY_ENVIRONMENT: &str = "master";

fn signed(key: &[u8], body: &[u8], env: &str, t: i64) -> Vec<u8> {
    let text = serde_json::json!({
        "Body": String::from_utf8_lossy(body),
        "EnvironmentName": env,
        "TimeStamp": t,
    });
    // `json!` keeps these keys in the order written (serde_json's
    // preserve_order is off, but B < E < T sorts them the same way).
    hmac_sha256(key, &[text.to_string().as_bytes()]).to_vec()
}

impl Scheme for Hygraph {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "gcms-signature")?;
        let field = |name: &str| {
            pairs(raw, ',')
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v)
                .ok_or_else(|| Rejection::Unauthorized(format!("gcms-signature has no {name}=")))
        };
        let given = B64
            .decode(field("sign")?)
            .map_err(|_| Rejection::Unauthorized("gcms-signature's sign is not base64".into()))?;
        let env = field("env")?;
        let t: i64 = field("t")?.parse().map_err(|_| {
            Rejection::Unauthorized("gcms-signature's t is not Unix milliseconds".into())
        })?;
        if std::str::from_utf8(req.body).is_err() {
            return Err(Rejection::BadRequest("body is not UTF-8 text".into()));
        }
        check(keys, &[given], |key| signed(key, req.body, env, t))?;
        check_timestamp(&millis_to_secs(&t.to_string())?, tolerance, now, false)?;
        let json = json_body(req.body, "Hygraph")?;
        let typename = required_json_str(&json, "/data/__typename", "data.__typename")?;
        let operation = required_json_str(&json, "/operation", "operation")?;
        Verified::new(body_sha256(req.body), format!("{typename}.{operation}")).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let t = now * 1000;
        let sign = B64.encode(signed(key, body, REPLAY_ENVIRONMENT, t));
        vec![(
            "gcms-signature".into(),
            format!("sign={sign}, env={REPLAY_ENVIRONMENT}, t={t}"),
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::kit::body_sha256;
    use crate::providers::testing::TimedVector;

    const BODY: &str = r#"{"operation":"publish","data":{"__typename":"Post","id":"clwf1a2b3c4d5e6f7g8h9i0j","stage":"PUBLISHED","title":"Hello, Hygraph","slug":"hello-hygraph","updatedAt":"2024-05-20T10:00:00.000000+00:00"}}"#;
    /// Signed by Hygraph's own `@hygraph/utils` 1.2.1
    /// (`generateWebhookSignature` with its clock at 1716199200000 ms) and
    /// accepted by its `verifyWebhookSignature`, which also accepts
    /// hookgate's signer's header (the same string).
    const HEADER: &str =
        "sign=25z1+oIL0yaqNdXOClA2nhmPDqRPK79vbwiQnVGwAFw=, env=master, t=1716199200000";

    #[test]
    fn sdk_vector_verifies_expires_and_signs() {
        TimedVector {
            provider: "hygraph",
            secret: "hygraph-secret-50",
            body: BODY,
            headers: &[("gcms-signature", HEADER)],
            id: &body_sha256(BODY.as_bytes()),
            event_type: "Post.publish",
            at: 1716199200,
        }
        .assert_verifies_expires_and_signs(Some(300));
    }

    /// Quotes, backslashes, control characters and non-ASCII text in the
    /// body are escaped as `JSON.stringify` escapes them: the expected text
    /// is what Node 20 printed for the same object.
    #[test]
    fn the_signed_text_is_javascripts() {
        let body = "{\"a\":\"\\\"q\\\" \\\\ \u{1}\u{1f}\t é ☃\u{2028}\"}\n";
        let text = serde_json::json!({"Body": body, "EnvironmentName": "master", "TimeStamp": 1});
        assert_eq!(
            text.to_string(),
            "{\"Body\":\"{\\\"a\\\":\\\"\\\\\\\"q\\\\\\\" \\\\\\\\ \\u0001\\u001f\\t é ☃\u{2028}\\\"}\\n\",\"EnvironmentName\":\"master\",\"TimeStamp\":1}"
        );
    }
}
