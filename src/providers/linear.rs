//! Linear: `Linear-Signature` is the hex HMAC-SHA256 of the body; the body's
//! `webhookTimestamp` (Unix milliseconds, inside the signed bytes) must be
//! within 60 s of now, either way, as Linear's SDK checks. The event ID is
//! the `Linear-Delivery` header; the type is the body's `type` and `action`
//! (`Issue.create`).

use super::kit::{millis_to_secs, BodyHmac, Encoding};
use super::{
    check_timestamp, json_body, json_str, required_header, required_json_str, Inbound, Keys,
    Rejection, Scheme, Verdict, Verified,
};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Linear;

const SIGNATURE: BodyHmac = BodyHmac::new("linear-signature", "", Encoding::Hex, Digest::Sha256);

const TIMESTAMP_FIELD: &str = "\"webhookTimestamp\"";

impl Scheme for Linear {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Linear")?;
        let ms = json_str(&json, "/webhookTimestamp")
            .ok_or_else(|| Rejection::Unauthorized("body has no webhookTimestamp".into()))?;
        check_timestamp(&millis_to_secs(&ms)?, tolerance, now, false)?;
        let delivery = required_header(req.headers, "linear-delivery")?;
        let kind = required_json_str(&json, "/type", "type")?;
        let event_type = match json_str(&json, "/action") {
            Some(action) => format!("{kind}.{action}"),
            None => kind,
        };
        Verified::new(delivery.to_string(), event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        vec![
            SIGNATURE.sign(key, body),
            ("Linear-Delivery".into(), delivery_id.to_string()),
        ]
    }

    /// Linear stamps `webhookTimestamp` when it sends: the digits are
    /// replaced in place so the rest of the body keeps its bytes.
    fn stamp(&self, _: &[u8], body: &[u8], now: i64, _: &str) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(body).ok()?;
        let start = text.find(TIMESTAMP_FIELD)? + TIMESTAMP_FIELD.len();
        let rest = &text[start..];
        let colon = rest.find(':')?;
        let digits_at =
            start + colon + 1 + (rest[colon + 1..].len() - rest[colon + 1..].trim_start().len());
        let digits = text[digits_at..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let mut out = String::with_capacity(text.len());
        out.push_str(&text[..digits_at]);
        out.push_str(&(now * 1000).to_string());
        out.push_str(&text[digits_at + digits..]);
        Some(out.into_bytes())
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(60)
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "lin_wh_test_secret_5b1c";
    const BODY: &str = r#"{"action":"create","type":"Issue","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","title":"Fix the login bug"},"url":"https://linear.app/acme/issue/ENG-42","createdAt":"2024-05-20T10:00:00.000Z","organizationId":"1c3f1f8a-org","webhookTimestamp":1716199200000,"webhookId":"000042e3-d123-4980-b49f-8e140eef9329"}"#;
    /// Computed with HMAC-SHA256 and checked with Linear's official SDK,
    /// `@linear/sdk` 98.0.0 (`LinearWebhookClient.verify` accepts the
    /// signature and then refuses the 2024 timestamp as stale).
    const SDK_SIGNATURE: &str = "9798d70dd58a4d1129541dea39705738bf1f891284c1eb40fbdb37f2f25aaa73";
    const AT: i64 = 1716199200;

    #[test]
    fn sdk_vector_verifies_within_a_minute() {
        let case = Case::new("linear", &[SECRET], "").raw(
            &[
                ("linear-signature", SDK_SIGNATURE),
                ("linear-delivery", "d-1"),
            ],
            BODY.as_bytes(),
        );
        assert_eq!(case.event(AT + 60), ("d-1".into(), "Issue.create".into()));
        case.assert_unauthorized(None, AT + 61);
        case.assert_unauthorized(None, AT - 61);
        case.assert_tamper_and_wrong_secret_refused(AT);
    }

    #[test]
    fn replay_stamps_the_timestamp_and_signs() {
        let case = Case::new("linear", &[SECRET], "");
        let signed = case.signed(BODY.as_bytes(), AT + 3600, "d-2", &[]);
        let text = String::from_utf8(signed.body.clone()).unwrap();
        assert_eq!(
            text,
            BODY.replace("1716199200000", &((AT + 3600) * 1000).to_string())
        );
        assert_eq!(
            signed.event(AT + 3600),
            ("d-2".into(), "Issue.create".into())
        );
        let same = case.signed(BODY.as_bytes(), AT, "d", &[]);
        assert_eq!(same.header("linear-signature"), Some(SDK_SIGNATURE));
    }
}
