//! MessageBird (Bird): `MessageBird-Signature-JWT` is a JWT (HS256 or
//! HS512) under the signing key, with `iss` `MessageBird`, `nbf` and `exp`
//! (checked with MessageBird's one second of leeway), `url_hash` (hex
//! SHA-256 of the URL it requested: `public_url` with the query as
//! received) and, when there is a body, `payload_hash` (hex SHA-256 of the
//! body). SMS status reports arrive as signed `GET`s with the report in the
//! query.
//!
//! Requests carry no delivery ID: the event ID is the SHA-256 of the body
//! (of the query for a `GET`). The type is the body's `type`
//! (`message.created`), for a status report `sms.{status}`, else
//! `messagebird`.

use sha2::Digest as _;

use super::kit::{body_sha256, signed_url};
use super::{json_str, jwt, signature_header, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct Messagebird {
    public_url: String,
}

impl Messagebird {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Messagebird, ConfigError> {
        Ok(Messagebird {
            public_url: super::public_url(source, key)?,
        })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn same(claim: Option<String>, actual: &str, what: &str) -> Result<(), Rejection> {
    match claim {
        Some(c) if ct_eq(c.to_ascii_lowercase().as_bytes(), actual.as_bytes()) => Ok(()),
        _ => Err(Rejection::Unauthorized(format!(
            "the token's {what} does not match"
        ))),
    }
}

impl Scheme for Messagebird {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let token = signature_header(req.headers, "messagebird-signature-jwt")?;
        let claims = jwt::verify(token, keys, &["HS256", "HS512"])?;
        if jwt::claim(&claims, "iss").as_deref() != Some("MessageBird") {
            return Err(Rejection::Unauthorized(
                "the token's iss is not MessageBird".into(),
            ));
        }
        let time = |name: &str| {
            jwt::claim(&claims, name)
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(|| Rejection::Unauthorized(format!("the token has no {name}")))
        };
        if now + 1 < time("nbf")? || now > time("exp")? {
            return Err(Rejection::Unauthorized(
                "the token is outside its validity (nbf..exp): outside the tolerance".into(),
            ));
        }
        let url = signed_url(&self.public_url, req);
        same(
            jwt::claim(&claims, "url_hash"),
            &sha256_hex(url.as_bytes()),
            "url_hash",
        )?;
        let payload_hash = jwt::claim(&claims, "payload_hash");
        match (req.body.is_empty(), payload_hash) {
            (true, None) => {}
            (false, hash @ Some(_)) => same(hash, &sha256_hex(req.body), "payload_hash")?,
            _ => {
                return Err(Rejection::Unauthorized(
                    "the token's payload_hash and the body disagree".into(),
                ))
            }
        }
        if req.body.is_empty() {
            let query = req.uri.query().unwrap_or_default();
            let event_type = match req.query_param("status") {
                Some(status) => format!("sms.{status}"),
                None => "messagebird".to_string(),
            };
            return Verified::new(body_sha256(query.as_bytes()), event_type).map(Verdict::Event);
        }
        let event_type = serde_json::from_slice::<serde_json::Value>(req.body)
            .ok()
            .and_then(|j| json_str(&j, "/type"))
            .unwrap_or_else(|| "messagebird".to_string());
        Verified::new(body_sha256(req.body), event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let url = self.public_url.split(['?', '#']).next().unwrap_or_default();
        let mut claims = serde_json::json!({
            "iss": "MessageBird",
            "nbf": now,
            "exp": now + 60,
            "jti": delivery_id,
            "url_hash": sha256_hex(url.as_bytes()),
        });
        if !body.is_empty() {
            claims["payload_hash"] = sha256_hex(body).into();
        }
        vec![("MessageBird-Signature-JWT".into(), jwt::sign(key, &claims))]
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

    const KEY: &str = "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd";
    const URL: &str = "public_url = \"https://hooks.example.com/ingest/messagebird\"";
    const BODY: &str = r#"{"type":"message.created","contact":{"id":"9354647c5c144a2b4c99f2n42497249","msisdn":31612345678},"conversation":{"id":"2e15efafec384e1c82e9842075e87beb","status":"active"},"message":{"id":"5f3437fdb8444583aea093a047ac014b","platform":"sms","direction":"received","status":"received","type":"text","content":{"text":"Hello"}}}"#;
    /// Signed with PyJWT 2.15.1 with MessageBird's claims and accepted by
    /// MessageBird's Python SDK, `messagebird` 2.2.0
    /// (`RequestValidator.validate_signature`, its clock inside nbf..exp).
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTc3MDgwODYwMCwiZXhwIjoxNzcwODA4NjYwLCJqdGkiOiI3YjRjMmQxZS05ZjhhLTRiNmMtOGQ1ZS0xYTJiM2M0ZDVlNmYiLCJ1cmxfaGFzaCI6IjFiNTMxMjE2ZDkzMTgxZGQ3OTZkYmZiYWViMGYyY2FlNjRhODk5NDM3ZjI4NDllMmEzN2ZhYzczZDhmNzcwOTUiLCJwYXlsb2FkX2hhc2giOiI5MjE2NDk5ZWYzODc1OWZiYmQzNDhlODM3NDViNTQ5MTYxNzdlMjcyYTdmNzMxZDU2ZTZhNTQxZWIwODkzNmQxIn0.JaQdMoXN4HH6K3E7-Go09X1yzgRlmmUOqaFYnPPxs_c";
    const NBF: i64 = 1770808600;

    #[test]
    fn sdk_vector_verifies_and_the_signer_round_trips() {
        let case = Case::new("messagebird", &["rotated-out", KEY], URL);
        let given = case.raw(&[("messagebird-signature-jwt", TOKEN)], BODY.as_bytes());
        let expected = (body_sha256(BODY.as_bytes()), "message.created".to_string());
        assert_eq!(given.event(NBF + 10), expected);
        given.assert_tamper_and_wrong_secret_refused(NBF + 10);
        let signed = Case::new("messagebird", &[KEY], URL).signed(BODY.as_bytes(), NBF, "j", &[]);
        assert_eq!(signed.event(NBF), expected);
    }

    #[test]
    fn expired_tokens_other_urls_and_signed_gets() {
        let case = Case::new("messagebird", &[KEY], URL);
        let given = case.raw(&[("messagebird-signature-jwt", TOKEN)], BODY.as_bytes());
        given.assert_unauthorized(None, NBF + 61);
        given.assert_unauthorized(None, NBF - 2);
        assert!(given.verify(None, NBF + 60).is_ok(), "one second of leeway");
        let mut elsewhere = given.clone();
        elsewhere.uri = Uri::from_static("/ingest/messagebird?x=1");
        elsewhere.assert_unauthorized(None, NBF);
        // A status report: a GET, the query signed through url_hash.
        let query = "id=efa6405d518d4c0c88cce11f7db775fb&reference=order-1&recipient=31612345678&status=delivered&statusDatetime=2026-02-11T11:20:00%2B00:00";
        let url = format!("https://hooks.example.com/ingest/messagebird?{query}");
        let claims = serde_json::json!({"iss": "MessageBird", "nbf": NBF, "exp": NBF + 60, "jti": "g", "url_hash": sha256_hex(url.as_bytes())});
        let token = jwt::sign(KEY.as_bytes(), &claims);
        let mut get = case.raw(&[("messagebird-signature-jwt", &token)], b"");
        get.method = Method::GET;
        get.uri = format!("/ingest/messagebird?{query}").parse().unwrap();
        assert_eq!(get.event(NBF).1, "sms.delivered");
        let mut tampered = get.clone();
        tampered.uri = format!(
            "/ingest/messagebird?{}",
            query.replace("delivered", "failed")
        )
        .parse()
        .unwrap();
        tampered.assert_unauthorized(None, NBF);
    }
}
