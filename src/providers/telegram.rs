//! Telegram Bot API: `setWebhook`'s `secret_token` comes back in every
//! update's `X-Telegram-Bot-Api-Secret-Token`, compared with `secrets` in
//! constant time (the header carries the secret itself, so it is never
//! stored). The event ID is `update_id`; the type is the update's kind,
//! the one member besides `update_id` (`message`, `callback_query`, ...).

use super::{
    bad_signature, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::ct_eq;

const HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Debug)]
pub struct Telegram;

impl Scheme for Telegram {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let token = signature_header(req.headers, HEADER)?;
        if !keys.iter().any(|key| ct_eq(token.as_bytes(), key)) {
            return Err(bad_signature());
        }
        let json = json_body(req.body, "Telegram")?.value();
        let id = required_json_str(&json, "/update_id", "update_id")?;
        let kind = json
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "update_id"))
            .cloned()
            .ok_or_else(|| Rejection::BadRequest("the update has no content".into()))?;
        Verified::new(id, kind).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], _: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            "X-Telegram-Bot-Api-Secret-Token".into(),
            String::from_utf8_lossy(key).into_owned(),
        )]
    }

    fn is_secret_header(&self, name: &str) -> bool {
        name == HEADER
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/update_id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "tg_Secret-token_9f";
    /// Telegram's documented update shape; the token is compared as sent,
    /// so the vector is the header itself.
    const BODY: &str = r#"{"update_id":718270143,"message":{"message_id":42,"from":{"id":1001,"is_bot":false,"first_name":"Ada","language_code":"en"},"chat":{"id":1001,"first_name":"Ada","type":"private"},"date":1770806500,"text":"/start"}}"#;

    #[test]
    fn the_token_must_match_and_is_never_stored() {
        let case = Case::new("telegram", &["old-token", SECRET], "");
        let given = case.raw(
            &[("x-telegram-bot-api-secret-token", SECRET)],
            BODY.as_bytes(),
        );
        assert_eq!(given.event(0), ("718270143".into(), "message".into()));
        case.raw(
            &[("x-telegram-bot-api-secret-token", "tg_Secret-token_9")],
            BODY.as_bytes(),
        )
        .assert_unauthorized(None, 0);
        case.raw(&[], BODY.as_bytes()).assert_unauthorized(None, 0);
        assert!(case
            .provider
            .is_secret_header("X-Telegram-Bot-Api-Secret-Token"));
        let signed = Case::new("telegram", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(
            signed.header("x-telegram-bot-api-secret-token"),
            Some(SECRET)
        );
        let query = br#"{"update_id":718270144,"callback_query":{"id":"4382","data":"yes"}}"#;
        assert_eq!(
            case.raw(&[("x-telegram-bot-api-secret-token", SECRET)], query)
                .event(0),
            ("718270144".into(), "callback_query".into())
        );
        assert!(matches!(
            case.raw(
                &[("x-telegram-bot-api-secret-token", SECRET)],
                br#"{"update_id":1}"#
            )
            .verify(None, 0),
            Err(crate::providers::Rejection::BadRequest(_))
        ));
    }
}
