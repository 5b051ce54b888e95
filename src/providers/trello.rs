//! Trello: `X-Trello-Webhook`, the base64 HMAC-SHA1, keyed with the app's
//! secret, of the body followed by the callback URL exactly as registered
//! with Trello: the source's `public_url` (query included). The event ID is
//! the action's `id`, the type its `type` (`createCard`).
//!
//! Creating a webhook makes Trello send a `HEAD` to the callback URL; it is
//! answered 200 and not stored (it carries nothing to verify).

use super::kit::{BodyHmac, Encoding};
use super::{
    json_body, required_json_str, Handshake, Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{mac, Digest};

const SIGNATURE: BodyHmac = BodyHmac::new("x-trello-webhook", "", Encoding::Base64, Digest::Sha1);

#[derive(Debug)]
pub struct Trello {
    public_url: String,
}

impl Trello {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Trello, ConfigError> {
        Ok(Trello {
            public_url: super::public_url(source, key)?,
        })
    }

    fn mac(&self, key: &[u8], body: &[u8]) -> Vec<u8> {
        mac(Digest::Sha1, key, &[body, self.public_url.as_bytes()])
    }
}

impl Scheme for Trello {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::HEAD {
            return Ok(Verdict::Handshake(Handshake::text("")));
        }
        if req.method != axum::http::Method::POST {
            return Err(Rejection::MethodNotAllowed(
                "trello sends HEAD (when a webhook is created) and POST".into(),
            ));
        }
        let given = SIGNATURE.header.read(req.headers)?;
        super::kit::check(keys, &[given], |key| self.mac(key, req.body))?;
        let json = json_body(req.body, "Trello")?;
        Verified::new(
            required_json_str(&json, "/action/id", "action.id")?,
            required_json_str(&json, "/action/type", "action.type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            "X-Trello-Webhook".into(),
            SIGNATURE.header.value(&self.mac(key, body)),
        )]
    }

    fn handles_get(&self) -> bool {
        true
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/action/id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::{Handshake, Rejection, Verdict};
    use axum::http::Method;

    const SECRET: &str = "trello-app-secret-51";
    const URL: &str = "public_url = \"https://hooks.example.com/ingest/trello\"";
    const BODY: &str = r#"{"model":{"id":"6650c1a2f1b2c3d4e5f60723","name":"hookgate"},"action":{"id":"6650c1a2f1b2c3d4e5f60720","idMemberCreator":"5e7a1c2d3b4a596877665544","data":{"card":{"id":"6650c1a2f1b2c3d4e5f60721","name":"Verify Trello webhooks","idShort":12},"list":{"id":"6650c1a2f1b2c3d4e5f60722","name":"Doing"},"board":{"id":"6650c1a2f1b2c3d4e5f60723","name":"hookgate"}},"type":"createCard","date":"2024-05-20T10:00:00.000Z"}}"#;
    /// Computed from the documented scheme (body then callback URL) with
    /// Python's `hmac` module; Trello publishes no SDK that verifies it.
    const SIGNATURE: &str = "ziNcwWGZR+p5wYNMCnz0ghX930g=";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("trello", &["cm90YXRlZC1vdXQ=", SECRET], URL);
        let given = case.raw(&[("x-trello-webhook", SIGNATURE)], BODY.as_bytes());
        assert_eq!(
            given.event(0),
            ("6650c1a2f1b2c3d4e5f60720".into(), "createCard".into())
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        // Another callback URL signs something else.
        let elsewhere = Case::new(
            "trello",
            &[SECRET],
            "public_url = \"https://hooks.example.com/ingest/other\"",
        );
        elsewhere
            .raw(&[("x-trello-webhook", SIGNATURE)], BODY.as_bytes())
            .assert_unauthorized(None, 0);
        let signed = Case::new("trello", &[SECRET], URL).signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-trello-webhook"), Some(SIGNATURE));
    }

    #[test]
    fn the_creation_head_is_answered_and_a_get_refused() {
        let mut case = Case::new("trello", &[SECRET], URL);
        case.method = Method::HEAD;
        assert_eq!(
            case.verify(None, 0).unwrap(),
            Verdict::Handshake(Handshake::text(""))
        );
        case.method = Method::GET;
        assert!(matches!(
            case.verify(None, 0),
            Err(Rejection::MethodNotAllowed(_))
        ));
    }

    #[test]
    fn public_url_is_required() {
        let text = "name = \"s\"\nprovider = \"trello\"\nsecrets = [\"k\"]\n";
        let source: crate::config::SourceConfig = toml::from_str(text).unwrap();
        let err = crate::providers::Provider::from_config(&source, "sources[0]").unwrap_err();
        assert_eq!(err.key, "sources[0].public_url");
    }
}
