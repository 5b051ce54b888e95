//! GitLab: `X-Gitlab-Token` must equal one of the secrets (GitLab sends the
//! token itself, so the header is never stored). The event ID is
//! `Idempotency-Key`, else `X-Gitlab-Event-UUID`; the type is `object_kind`.

use super::{
    bad_signature, header, json_body, required_json_str, signature_header, Inbound, Keys,
    Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct Gitlab;

impl Scheme for Gitlab {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let token = signature_header(req.headers, "x-gitlab-token")?;
        if !keys.iter().any(|key| ct_eq(token.as_bytes(), key)) {
            return Err(bad_signature());
        }
        let id = header(req.headers, "idempotency-key")
            .or_else(|| header(req.headers, "x-gitlab-event-uuid"))
            .ok_or_else(|| {
                Rejection::BadRequest(
                    "missing header Idempotency-Key or X-Gitlab-Event-UUID".into(),
                )
            })?;
        let json = json_body(req.body, "GitLab")?;
        let kind = required_json_str(&json, "/object_kind", "object_kind")?;
        Verified::new(id.to_string(), kind).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], _: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        sign(key, delivery_id)
    }
    /// GitLab sends the token itself, so the header is never stored.
    fn is_secret_header(&self, name: &str) -> bool {
        name == "x-gitlab-token"
    }
}

pub fn sign(key: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    vec![
        (
            "X-Gitlab-Token".into(),
            String::from_utf8_lossy(key).into_owned(),
        ),
        ("X-Gitlab-Event-UUID".into(), delivery_id.to_string()),
        ("Idempotency-Key".into(), delivery_id.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{event, headers, keys, post};

    #[test]
    fn token_must_match_and_ids_fall_back() {
        let body = br#"{"object_kind":"push"}"#;
        let h = headers(&[("x-gitlab-token", "tok"), ("x-gitlab-event-uuid", "u-1")]);
        let v = post(&Gitlab, &keys(&["tok"]), None, &h, body, 0).unwrap();
        assert_eq!(v, event("u-1", "push"));
        let h = headers(&[
            ("x-gitlab-token", "tok"),
            ("x-gitlab-event-uuid", "u-1"),
            ("idempotency-key", "k-1"),
        ]);
        let v = post(&Gitlab, &keys(&["tok"]), None, &h, body, 0).unwrap();
        assert_eq!(v, event("k-1", "push"));
        assert!(matches!(
            post(&Gitlab, &keys(&["tok2"]), None, &h, body, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }
}
