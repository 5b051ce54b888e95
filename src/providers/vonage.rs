//! Vonage (Messages and Voice API callbacks with signed webhooks):
//! `Authorization: Bearer <JWT>`, HS256 under the account's signature
//! secret, whose `payload_hash` claim is the hex SHA-256 of the body (so
//! the body is covered too; a token without it is refused). Vonage names
//! no tolerance; with `tolerance_secs` set, the `iat` claim must be within
//! it. The `Authorization` header is never stored.
//!
//! Callbacks carry no delivery ID; one message reports several statuses.
//! The event ID is `{message_uuid}:{status}` for message status callbacks,
//! `message_uuid` for inbound messages, `{uuid}:{status}` for voice events,
//! else the body's SHA-256. The type is `message.{status}`,
//! `message.inbound`, `call.{status}`, else `vonage`.

use sha2::Digest as _;

use super::jwt;
use super::kit::body_sha256;
use super::{
    check_timestamp, json_body, json_str, signature_header, Inbound, Keys, Rejection, Scheme,
    Verdict, Verified,
};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct Vonage;

impl Scheme for Vonage {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let auth = signature_header(req.headers, "authorization")?;
        let token = auth
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("bearer "))
            .map(|_| &auth[7..])
            .ok_or_else(|| Rejection::Unauthorized("Authorization is not Bearer <JWT>".into()))?;
        let claims = jwt::verify(token, keys, &["HS256"])?;
        let hash = jwt::claim(&claims, "payload_hash")
            .ok_or_else(|| Rejection::Unauthorized("the token has no payload_hash".into()))?;
        let actual = hex::encode(sha2::Sha256::digest(req.body));
        if !ct_eq(hash.to_ascii_lowercase().as_bytes(), actual.as_bytes()) {
            return Err(Rejection::Unauthorized(
                "payload_hash does not match the body".into(),
            ));
        }
        if tolerance.is_some() {
            let iat = jwt::claim(&claims, "iat")
                .ok_or_else(|| Rejection::Unauthorized("the token has no iat".into()))?;
            check_timestamp(&iat, tolerance, now, false)?;
        }
        let json = json_body(req.body, "Vonage")?;
        let field = |p: &str| json_str(&json, p);
        let (id, event_type) = match (field("/message_uuid"), field("/uuid"), field("/status")) {
            (Some(m), _, Some(s)) => (format!("{m}:{s}"), format!("message.{s}")),
            (Some(m), _, None) => (m, "message.inbound".to_string()),
            (None, Some(u), Some(s)) => (format!("{u}:{s}"), format!("call.{s}")),
            _ => (body_sha256(req.body), "vonage".to_string()),
        };
        Verified::new(id, event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let claims = serde_json::json!({
            "iat": now,
            "jti": delivery_id,
            "iss": "Vonage",
            "payload_hash": hex::encode(sha2::Sha256::digest(body)),
        });
        vec![(
            "Authorization".into(),
            format!("Bearer {}", jwt::sign(key, &claims)),
        )]
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "vonage-signature-secret-0b7e9f2a";
    const BODY: &str = r#"{"channel":"sms","message_uuid":"aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab","to":"447700900000","from":"447700900001","timestamp":"2026-02-11T11:15:00Z","status":"delivered","usage":{"currency":"EUR","price":"0.0333"}}"#;
    /// Signed with PyJWT 2.15.1 as Vonage signs (HS256; `iat`, `jti`,
    /// `iss`, `payload_hash`, `api_key`, `application_id`) and accepted by
    /// Vonage's `vonage-jwt` 1.1.5 (`verify_signature`).
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3NzA4MDg1MDAsImp0aSI6ImM1YmE4ZjI0LTFhMTQtNGMxMC1iZmRmLTNmYmU4Y2U1MTFiNSIsImlzcyI6IlZvbmFnZSIsInBheWxvYWRfaGFzaCI6IjcyMTIyNGU1ZjI4MTJmZGI2YzYxNDE2YTg3OTAyMDFiOTJiMmEzMGY5NzNlZDlmN2E2M2U3M2Q1MjczZTM2MjgiLCJhcGlfa2V5IjoiYTFiMmMzZDQiLCJhcHBsaWNhdGlvbl9pZCI6ImFhYWFhYWFhLWJiYmItY2NjYy1kZGRkLTAxMjM0NTY3ODlhYiJ9.ACl-IQqllS_zeJ12zltgB-MTTciqBD8vaQkHbY-jddM";
    const IAT: i64 = 1770808500;

    #[test]
    fn sdk_vector_verifies_and_the_signer_round_trips() {
        let case = Case::new("vonage", &["rotated-out", SECRET], "");
        let bearer = format!("Bearer {TOKEN}");
        let given = case.raw(&[("authorization", &bearer)], BODY.as_bytes());
        let expected = (
            "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab:delivered".to_string(),
            "message.delivered".to_string(),
        );
        assert_eq!(given.event(IAT), expected);
        given.assert_tamper_and_wrong_secret_refused(IAT);
        assert!(case.provider.is_secret_header("Authorization"));
        let signed = Case::new("vonage", &[SECRET], "").signed(BODY.as_bytes(), IAT, "j-1", &[]);
        assert!(signed
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ey"));
        assert_eq!(signed.event(IAT), expected);
    }

    #[test]
    fn a_stale_token_is_refused_when_a_tolerance_is_set() {
        let bearer = format!("Bearer {TOKEN}");
        let given =
            Case::new("vonage", &[SECRET], "").raw(&[("authorization", &bearer)], BODY.as_bytes());
        assert!(given.verify(Some(300), IAT + 300).is_ok());
        given.assert_unauthorized(Some(300), IAT + 301);
        let inbound =
            br#"{"channel":"whatsapp","message_uuid":"m-2","message_type":"text","text":"hi"}"#;
        let case = Case::new("vonage", &[SECRET], "");
        assert_eq!(
            case.signed(inbound, IAT, "j-2", &[]).event(IAT),
            ("m-2".to_string(), "message.inbound".to_string())
        );
        let call = br#"{"uuid":"c-1","conversation_uuid":"CON-1","status":"answered"}"#;
        assert_eq!(
            case.signed(call, IAT, "j-3", &[]).event(IAT).1,
            "call.answered"
        );
    }
}
