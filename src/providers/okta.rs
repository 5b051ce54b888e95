//! Okta event hooks: Okta sends the secret configured on the hook in the
//! `Authorization` header (constant-time compared with `secrets`, never
//! stored; `token_header` names another header when the hook uses one).
//!
//! Verifying the hook sends `GET` with `X-Okta-Verification-Challenge`,
//! answered after the header checks out with `{"verification": <challenge>}`
//! and not stored.
//!
//! The body's `data.events` holds up to a batch of events; each is stored as
//! an event of its own (see [`super::batch`]): ID its `uuid`, type its
//! `eventType` (`user.session.start`).

use super::batch::{parts, path_array};
use super::kit::token_matches;
use super::{header, json_str, Handshake, Inbound, Keys, Rejection, Scheme, Verdict};
use crate::config::{ConfigError, SourceConfig};

#[derive(Debug)]
pub struct Okta {
    /// Lower case.
    header: String,
}

impl Okta {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Okta, ConfigError> {
        let header = match source.token_header {
            Some(_) => super::token_header(source, key)?,
            None => "authorization".into(),
        };
        Ok(Okta { header })
    }
}

impl Scheme for Okta {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        token_matches(keys, req.headers, &self.header)?;
        if req.method == axum::http::Method::GET {
            let challenge =
                header(req.headers, "x-okta-verification-challenge").ok_or_else(|| {
                    Rejection::BadRequest(
                        "a GET from Okta carries X-Okta-Verification-Challenge".into(),
                    )
                })?;
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "verification": challenge }),
            )));
        }
        let elements = path_array(req.body, &["data", "events"]).ok_or_else(|| {
            Rejection::BadRequest(
                "body is not the {\"data\": {\"events\": [...]}} object Okta sends".into(),
            )
        })?;
        let parts = parts(req.body, elements, "event", Some("/uuid"), |e| {
            json_str(e, "/eventType")
        })?;
        Ok(Verdict::Batch(parts))
    }

    fn sign(&self, key: &[u8], _: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            self.header.clone(),
            String::from_utf8_lossy(key).into_owned(),
        )]
    }

    fn handles_get(&self) -> bool {
        true
    }

    fn is_secret_header(&self, name: &str) -> bool {
        name == self.header
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::{Handshake, Rejection, Verdict};

    const SECRET: &str = "okta-hook-secret-22";
    /// Shaped like the event hook request in Okta's "Event hooks"
    /// documentation (Okta signs nothing: the configured secret travels in
    /// the header, so the documented request is the vector).
    const BODY: &str = r#"{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","source":"https://example.okta.com/api/v1/eventHooks/whoql0HfiLGPWc8Jx0g3","eventId":"b5a188b9-5ece-4636-b041-482ffda96311","data":{"events":[{"uuid":"5a7c4f18-e9b4-4ea5-8d2c-1ba3c6c2a1f1","published":"2024-05-20T10:00:00.000Z","eventType":"user.session.start","displayMessage":"User login to Okta","severity":"INFO"},{"uuid":"6b8d5029-fac5-4fb6-9e3d-2cb4d7d3b2e2","published":"2024-05-20T10:00:01.000Z","eventType":"user.lifecycle.create","displayMessage":"Create Okta user","severity":"INFO"}]},"eventTime":"2024-05-20T10:00:02.000Z","contentType":"application/json"}"#;

    #[test]
    fn the_documented_batch_splits_into_its_events() {
        let case = Case::new("okta", &["rotated-out", SECRET], "");
        let given = case.raw(&[("authorization", SECRET)], BODY.as_bytes());
        let (parts, read) = given.batch(0);
        assert_eq!(
            read,
            [
                (
                    "5a7c4f18-e9b4-4ea5-8d2c-1ba3c6c2a1f1".to_string(),
                    "user.session.start".to_string()
                ),
                (
                    "6b8d5029-fac5-4fb6-9e3d-2cb4d7d3b2e2".to_string(),
                    "user.lifecycle.create".to_string()
                )
            ]
        );
        assert!(BODY[parts[0].range.clone()].starts_with(r#"{"uuid":"5a7c"#));
        assert!(case.provider.is_secret_header("Authorization"));
        case.raw(&[("authorization", "okta-hook-secret-2")], BODY.as_bytes())
            .assert_unauthorized(None, 0);
        case.raw(&[], BODY.as_bytes()).assert_unauthorized(None, 0);
        let signed = Case::new("okta", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("authorization"), Some(SECRET));
    }

    #[test]
    fn the_verification_challenge_is_answered_once_authorized() {
        let mut case = Case::new("okta", &[SECRET], "token_header = \"X-Okta-Secret\"");
        case.method = axum::http::Method::GET;
        let challenge = ("x-okta-verification-challenge", "JwYd6r2ooOb3a7JKr0HX");
        assert_eq!(
            case.raw(&[("x-okta-secret", SECRET), challenge], b"")
                .verify(None, 0)
                .unwrap(),
            Verdict::Handshake(Handshake::json(
                serde_json::json!({"verification": "JwYd6r2ooOb3a7JKr0HX"})
            ))
        );
        case.raw(&[("x-okta-secret", "wrong"), challenge], b"")
            .assert_unauthorized(None, 0);
        case.raw(&[("authorization", SECRET), challenge], b"")
            .assert_unauthorized(None, 0);
        assert!(matches!(
            case.raw(&[("x-okta-secret", SECRET)], b"").verify(None, 0),
            Err(Rejection::BadRequest(_))
        ));
    }
}
