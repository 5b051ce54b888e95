//! LINE Messaging API: `X-Line-Signature`, the base64 HMAC-SHA256 of the
//! body keyed with the channel secret. The body's `events` array is split:
//! each event is stored on its own with ID `webhookEventId` and type `type`
//! (`message`, `follow`, `postback`, ...). The console's "Verify" button
//! posts an empty `events` array, answered and not stored. A redelivered
//! event has the same `webhookEventId` but `isRedelivery: true`, so other
//! bytes: a recorded `409`, never a second delivery.

use super::json_str;
use super::kit::{BodyHmac, Encoding};
use super::signed_events::SignedEvents;
use super::Handshake;
use crate::crypto::Digest;

pub const SCHEME: SignedEvents = SignedEvents {
    provider: "LINE",
    signature: BodyHmac::new("x-line-signature", "", Encoding::Base64, Digest::Sha256),
    id: Some("/webhookEventId"),
    event_type: |event| json_str(event, "/type"),
    empty_is_check: Some(|| Handshake::json(serde_json::json!({"status": "ok"}))),
};

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::{Handshake, Verdict};

    const SECRET: &str = "8c570fbc6f4a2a1b2e4bf2f1d6cdbb0f";
    const BODY: &str = r#"{"destination":"U0123456789abcdef0123456789abcdef","events":[{"type":"message","message":{"type":"text","id":"468789577898262530","quoteToken":"q3Plxr4AgKd","text":"Hello"},"webhookEventId":"01H810YECXQQZ37VAXPF6H9E6T","deliveryContext":{"isRedelivery":false},"timestamp":1692251666727,"source":{"type":"user","userId":"U4af4980629"},"replyToken":"38ef843bde154d9b91c21320ffd17a0f","mode":"active"},{"type":"follow","webhookEventId":"01H810YECXQQZ37VAXPF6H9E7U","deliveryContext":{"isRedelivery":false},"timestamp":1692251666801,"source":{"type":"user","userId":"U4af4980630"},"replyToken":"85cbe770fa8b4f45bbe077b1d4be4a36","mode":"active","follow":{"isUnblocked":false}}]}"#;
    /// Computed with Python's `hmac` module and accepted by LINE's Python
    /// SDK, `line-bot-sdk` 3.27.0 (`linebot.v3.WebhookParser.parse`).
    const SIGNATURE: &str = "fnMRtExM8hXRkmP8GuR5pm9+wPqmXLrPT0ceZvgPOQQ=";

    fn split(v: Verdict) -> Vec<(String, String, String)> {
        let Verdict::Batch(parts) = v else {
            panic!("a batch, got {v:?}")
        };
        parts
            .into_iter()
            .map(|p| {
                (
                    p.verified.provider_event_id().to_string(),
                    p.verified.event_type().to_string(),
                    BODY[p.range].to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn vector_splits_into_its_events_and_signs() {
        let case = Case::new("line", &["rotated-out", SECRET], "");
        let given = case.raw(&[("x-line-signature", SIGNATURE)], BODY.as_bytes());
        let got = split(given.verify(None, 0).unwrap());
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_str()),
            ("01H810YECXQQZ37VAXPF6H9E6T", "message")
        );
        assert_eq!(
            (got[1].0.as_str(), got[1].1.as_str()),
            ("01H810YECXQQZ37VAXPF6H9E7U", "follow")
        );
        assert!(got[1].2.starts_with(r#"{"type":"follow""#) && got[1].2.ends_with("}}"));
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("line", &[SECRET], "").signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-line-signature"), Some(SIGNATURE));
    }

    #[test]
    fn the_verify_button_is_answered_not_stored() {
        let case = Case::new("line", &[SECRET], "");
        let check = br#"{"destination":"U0123456789abcdef0123456789abcdef","events":[]}"#;
        assert_eq!(
            case.signed(check, 0, "-", &[]).verify(None, 0).unwrap(),
            Verdict::Handshake(Handshake::json(serde_json::json!({"status": "ok"})))
        );
        case.raw(&[("x-line-signature", SIGNATURE)], check)
            .assert_unauthorized(None, 0);
        let unnamed = br#"{"events":[{"type":"message"}]}"#;
        assert!(matches!(
            case.signed(unnamed, 0, "-", &[]).verify(None, 0),
            Err(crate::providers::Rejection::BadRequest(_))
        ));
    }
}
