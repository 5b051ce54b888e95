//! monday.com (app and integration webhooks): `Authorization` carries a JWT
//! signed with HS256 under the app's signing secret (see [`super::jwt`]),
//! refused once its `exp` has passed. The token authorises the request but
//! does not cover the body, as monday.com designs it; the `Authorization`
//! header is never stored. The event ID is the body's `event.triggerUuid`,
//! the type `event.type` (`create_pulse`).
//!
//! A new webhook's URL check, `{"challenge": "..."}`, is answered after the
//! token checks out with the same `{"challenge"}` and not stored.

use super::{
    json_body, json_str, jwt, required_json_str, signature_header, Handshake, Inbound, Keys,
    Rejection, Scheme, Verdict, Verified,
};

#[derive(Debug)]
pub struct Monday;

/// How long a token `hookgate replay` signs stays valid.
const REPLAY_TOKEN_SECS: i64 = 300;

impl Scheme for Monday {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "authorization")?;
        let token = raw.strip_prefix("Bearer ").unwrap_or(raw);
        let claims = jwt::verify(token, keys, &["HS256"])?;
        if let Some(exp) = claims.get("exp") {
            match exp.as_i64() {
                Some(exp) if exp >= now => {}
                Some(_) => {
                    return Err(Rejection::Unauthorized(
                        "the Authorization token has expired".into(),
                    ))
                }
                None => {
                    return Err(Rejection::Unauthorized(
                        "the Authorization token's exp is not a Unix time".into(),
                    ))
                }
            }
        }
        let json = json_body(req.body, "monday.com")?;
        if let Some(challenge) = json_str(&json, "/challenge") {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "challenge": challenge }),
            )));
        }
        Verified::new(
            required_json_str(&json, "/event/triggerUuid", "event.triggerUuid")?,
            required_json_str(&json, "/event/type", "event.type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], _: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let claims = serde_json::json!({ "iat": now, "exp": now + REPLAY_TOKEN_SECS });
        vec![("Authorization".into(), jwt::sign(key, &claims))]
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/event/triggerUuid")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::{Handshake, Rejection, Verdict};

    const SECRET: &str = "monday-signing-secret-56";
    /// Signed with `jsonwebtoken` 9.0.3 (npm), which monday.com's
    /// integration examples verify with (`jwt.verify(authorization,
    /// signingSecret)`); it refuses the token under another secret. Claims
    /// as monday.com sends them, `exp` 1716199500. `jwt.verify` also accepts
    /// the token `hookgate replay` signs.
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50SWQiOjE4MjU1MjgsInVzZXJJZCI6NDAxMjY4OSwiYXVkIjoiaHR0cHM6Ly9ob29rcy5leGFtcGxlLmNvbS9pbmdlc3QvbW9uZGF5IiwiZXhwIjoxNzE2MTk5NTAwLCJzaG9ydExpdmVkVG9rZW4iOiJleUpoYkdjaU9pSklVekkxTmlKOS5jMmh2Y25RdGJHbDJaV1EifQ.wWiJ5Vz7caeDmc3UF-SziSHFGtk_oUh13oVk7YALCLc";
    const BODY: &str = r#"{"event":{"app":"monday","type":"create_pulse","triggerTime":"2024-05-20T10:00:00.000Z","subscriptionId":73759690,"userId":4012689,"originalTriggerUuid":null,"boardId":1234567,"pulseId":7654321,"pulseName":"New item","groupId":"topics","isTopGroup":true,"triggerUuid":"a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"}}"#;
    const AT: i64 = 1716199200;

    #[test]
    fn library_vector_verifies_until_it_expires() {
        let case = Case::new("monday", &["cm90YXRlZC1vdXQ=", SECRET], "");
        let given = case.raw(&[("authorization", TOKEN)], BODY.as_bytes());
        let expected = (
            "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5".to_string(),
            "create_pulse".to_string(),
        );
        assert_eq!(given.event(AT), expected);
        assert_eq!(given.event(1716199500), expected);
        given.assert_unauthorized(None, 1716199501);
        let mut wrong = given.clone();
        wrong.keys = Case::new("monday", &["not-the-secret"], "").keys;
        wrong.assert_unauthorized(None, AT);
        let mut forged = TOKEN.to_string();
        forged.replace_range(forged.len() - 2.., "AA");
        case.raw(&[("authorization", &forged)], BODY.as_bytes())
            .assert_unauthorized(None, AT);
        assert!(case.provider.is_secret_header("Authorization"));
        let signed = Case::new("monday", &[SECRET], "").signed(BODY.as_bytes(), AT, "-", &[]);
        assert_eq!(signed.event(AT + 300), expected);
        signed.assert_unauthorized(None, AT + 301);
    }

    #[test]
    fn the_challenge_is_answered_once_the_token_checks_out() {
        let case = Case::new("monday", &[SECRET], "");
        let body = br#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#;
        assert_eq!(
            case.raw(&[("authorization", TOKEN)], body)
                .verify(None, AT)
                .unwrap(),
            Verdict::Handshake(Handshake::json(serde_json::json!({
                "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
            })))
        );
        case.raw(&[], body).assert_unauthorized(None, AT);
        assert!(matches!(
            case.raw(&[("authorization", TOKEN)], br#"{"event":{}}"#)
                .verify(None, AT),
            Err(Rejection::BadRequest(_))
        ));
    }
}
