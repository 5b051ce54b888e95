//! Meta (WhatsApp Cloud API, Instagram, Messenger; `whatsapp`, `instagram`
//! and `messenger` name the same provider): `X-Hub-Signature-256:
//! sha256=<hex>`, the HMAC-SHA256 of the body keyed with the app secret.
//!
//! Subscribing the callback URL sends `GET ?hub.mode=subscribe&
//! hub.verify_token=..&hub.challenge=..`: when the token equals the
//! source's `verify_token` the challenge is answered as `text/plain`, not
//! stored; any other token is `401`.
//!
//! Notifications carry no ID of their own and Meta's retries resend the
//! same bytes, so the event ID is the body's SHA-256 (hex). The type is the
//! body's `object` (`whatsapp_business_account`, `instagram`, `page`), plus
//! `.{field}` of the first change when there is one (`...messages`).

use super::kit::{body_sha256, BodyHmac, Encoding};
use super::{
    json_body, json_str, required_json_str, Handshake, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::config::{ConfigError, Secret, SourceConfig};
use crate::crypto::{ct_eq, Digest};

const SIGNATURE: BodyHmac = BodyHmac::new(
    "x-hub-signature-256",
    "sha256=",
    Encoding::Hex,
    Digest::Sha256,
);

#[derive(Debug)]
pub struct Meta {
    verify_token: Secret,
}

impl Meta {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Meta, ConfigError> {
        let verify_token = source
            .verify_token
            .clone()
            .filter(|t| !t.expose().is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    format!("{key}.verify_token"),
                    "Meta's subscription check sends hub.verify_token: set verify_token to the token entered in the app dashboard",
                )
            })?;
        Ok(Meta { verify_token })
    }

    /// `GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`.
    fn subscription(&self, req: &Inbound<'_>) -> Result<Verdict, Rejection> {
        let param = |name: &str| {
            req.query_param(name).ok_or_else(|| {
                Rejection::BadRequest(format!("Meta's subscription check carries ?{name}="))
            })
        };
        if param("hub.mode")? != "subscribe" {
            return Err(Rejection::BadRequest("hub.mode is not subscribe".into()));
        }
        let token = param("hub.verify_token")?;
        if !ct_eq(token.as_bytes(), self.verify_token.expose().as_bytes()) {
            return Err(Rejection::Unauthorized(
                "hub.verify_token is not the source's verify_token".into(),
            ));
        }
        Ok(Verdict::Handshake(Handshake::text(param("hub.challenge")?)))
    }
}

impl Scheme for Meta {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::GET {
            return self.subscription(req);
        }
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Meta")?;
        let object = required_json_str(&json, "/object", "object")?;
        let event_type = match json_str(&json, "/entry/0/changes/0/field") {
            Some(field) => format!("{object}.{field}"),
            None => object,
        };
        Verified::new(body_sha256(req.body), event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![SIGNATURE.sign(key, body)]
    }

    fn handles_get(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;
    use axum::http::{Method, Uri};

    const SECRET: &str = "meta-app-secret-0c9e41";
    const BODY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=","timestamp":"1749416383","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}"#;
    /// Meta ships no verifier we can run: computed with Python's `hmac`
    /// module from the documented scheme (GitHub's, keyed with the app
    /// secret).
    const SIGNATURE: &str =
        "sha256=f9eeaf4c50ff11f64c1bb2a3a906f8b9cae67df474e0dbe9e7911fd4d38c2fe5";
    const TOKEN: &str = "verify_token = \"meta-verify-token-77\"";

    #[test]
    fn vector_verifies_and_signs_under_every_name() {
        for name in ["meta", "whatsapp", "instagram", "messenger"] {
            let case = Case::new(name, &["rotated-out", SECRET], TOKEN);
            let given = case.raw(&[("x-hub-signature-256", SIGNATURE)], BODY.as_bytes());
            assert_eq!(
                given.event(0),
                (
                    body_sha256(BODY.as_bytes()),
                    "whatsapp_business_account.messages".to_string()
                )
            );
            given.assert_tamper_and_wrong_secret_refused(0);
            let signed = Case::new(name, &[SECRET], TOKEN).signed(BODY.as_bytes(), 0, "-", &[]);
            assert_eq!(signed.header("x-hub-signature-256"), Some(SIGNATURE));
        }
        let page = Case::new("messenger", &[SECRET], TOKEN);
        let body = br#"{"object":"page","entry":[{"id":"1","time":1,"messaging":[]}]}"#;
        assert_eq!(page.signed(body, 0, "-", &[]).event(0).1, "page");
    }

    #[test]
    fn the_subscription_check_is_answered_only_with_the_token() {
        let case = Case::new("whatsapp", &[SECRET], TOKEN);
        let get = |query: &str| {
            let mut c = case.raw(&[], b"");
            c.method = Method::GET;
            c.uri = format!("/ingest/wa?{query}").parse::<Uri>().unwrap();
            c.verify(None, 0)
        };
        assert_eq!(
            get(
                "hub.mode=subscribe&hub.verify_token=meta-verify-token-77&hub.challenge=1158201444"
            )
            .unwrap(),
            Verdict::Handshake(Handshake::text("1158201444"))
        );
        assert!(matches!(
            get("hub.mode=subscribe&hub.verify_token=meta-verify-token-78&hub.challenge=1"),
            Err(Rejection::Unauthorized(_))
        ));
        assert!(matches!(
            get("hub.mode=subscribe&hub.verify_token=meta-verify-token-77"),
            Err(Rejection::BadRequest(_))
        ));
        assert!(matches!(
            get("hub.mode=unsubscribe&hub.verify_token=meta-verify-token-77&hub.challenge=1"),
            Err(Rejection::BadRequest(_))
        ));
    }

    #[test]
    fn verify_token_is_required() {
        let err = crate::providers::testing::build(Meta::from_config, "meta", "").unwrap_err();
        assert_eq!(err.key, "sources[0].verify_token");
    }
}
