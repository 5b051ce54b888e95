//! DocuSign Connect (JSON, HMAC enabled): `X-DocuSign-Signature-1` is the
//! base64 HMAC-SHA256 of the body with the first Connect key; with several
//! keys (rotation) DocuSign adds `-2`, `-3`, ... and any one may match.
//!
//! A Connect message carries no event ID, and a retry differs from the first
//! try (its `retryCount` grows), so the dedup key is built from what a retry
//! keeps: `{data.envelopeId}:{event}:{generatedDateTime}`. A retry of a
//! stored message is then a duplicate when its bytes match and a recorded
//! conflict (409) when they do not; it is never delivered twice. The type is
//! the body's `event` (`envelope-completed`).

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::check;
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Docusign;

const PREFIX: &str = "x-docusign-signature-";

impl Scheme for Docusign {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let candidates: Vec<Vec<u8>> = req
            .headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with(PREFIX))
            .filter_map(|(_, v)| B64.decode(v.as_bytes()).ok())
            .collect();
        if candidates.is_empty() {
            return Err(Rejection::Unauthorized(
                "missing X-DocuSign-Signature-1 header".into(),
            ));
        }
        check(keys, &candidates, |key| {
            mac(Digest::Sha256, key, &[req.body])
        })?;
        let json = json_body(req.body, "DocuSign Connect (JSON)")?;
        let event = required_json_str(&json, "/event", "event")?;
        let id = format!(
            "{}:{event}:{}",
            required_json_str(&json, "/data/envelopeId", "data.envelopeId")?,
            required_json_str(&json, "/generatedDateTime", "generatedDateTime")?,
        );
        Verified::new(id, event).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            "X-DocuSign-Signature-1".into(),
            B64.encode(mac(Digest::Sha256, key, &[body])),
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "docusign-hmac-key";
    const BODY: &str = r#"{"event":"envelope-completed","apiVersion":"v2.1","uri":"/restapi/v2.1/accounts/9c1a/envelopes/93be49ab-fd8b-4b91-9c4e-2a1f1e5f2f2b","retryCount":0,"configurationId":10418162,"generatedDateTime":"2024-05-20T10:00:00.0000000Z","data":{"accountId":"9c1a","envelopeId":"93be49ab-fd8b-4b91-9c4e-2a1f1e5f2f2b"}}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following DocuSign's documented HMAC scheme.
    const SIGNATURE: &str = "hCsF4Em7sbzkX3xkNQh5zDSJNL/XNv9i0Cf7UQ+lqcc=";

    #[test]
    fn vector_verifies_with_any_numbered_header() {
        let case = Case::new("docusign", &[SECRET], "");
        let given = case.raw(
            &[
                ("x-docusign-signature-1", "b2xkLWtleQ=="),
                ("x-docusign-signature-2", SIGNATURE),
            ],
            BODY.as_bytes(),
        );
        assert_eq!(
            given.event(0),
            (
                "93be49ab-fd8b-4b91-9c4e-2a1f1e5f2f2b:envelope-completed:2024-05-20T10:00:00.0000000Z".into(),
                "envelope-completed".into()
            )
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = case.signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-docusign-signature-1"), Some(SIGNATURE));
        // A retry keeps its ID.
        let retry = case.signed(
            BODY.replace("\"retryCount\":0", "\"retryCount\":1")
                .as_bytes(),
            0,
            "-",
            &[],
        );
        assert_eq!(retry.event(0).0, given.event(0).0);
    }
}
