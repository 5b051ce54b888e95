//! Adyen (standard notification webhooks): the body's `notificationItems`
//! are split, one event per item. Each `NotificationRequestItem` carries
//! `additionalData.hmacSignature`, the base64 HMAC-SHA256 of
//! `pspReference:originalReference:merchantAccountCode:merchantReference:
//! value:currency:eventCode:success` (absent fields empty), keyed with the
//! webhook's HMAC key: `secrets` holds it in hex, as the Customer Area shows
//! it. One item that fails refuses the whole request.
//!
//! Only those fields are signed; the rest of an item (`additionalData`,
//! `reason`, ...) is not. Adyen dedups on `pspReference` and `eventCode`, so
//! the event ID is `{pspReference}:{eventCode}:{success}` (a failed and a
//! later successful outcome are different events); the type is
//! `eventCode` (`AUTHORISATION`). Stored items are answered `[accepted]`,
//! as Adyen asks.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::Value;

use super::batch::{member_array, Part};
use super::kit::check;
use super::{json_str, Ack, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Adyen;

const SIGNED_FIELDS: [&str; 8] = [
    "/pspReference",
    "/originalReference",
    "/merchantAccountCode",
    "/merchantReference",
    "/amount/value",
    "/amount/currency",
    "/eventCode",
    "/success",
];

/// A field as it is signed: text as written, empty when absent.
fn field(item: &Value, pointer: &str) -> String {
    match item.pointer(pointer) {
        Some(Value::Bool(b)) => b.to_string(),
        _ => json_str(item, pointer).unwrap_or_default(),
    }
}

/// The colon-joined fields an item's HMAC covers.
fn signing_string(item: &Value) -> String {
    SIGNED_FIELDS
        .iter()
        .map(|p| field(item, p))
        .collect::<Vec<_>>()
        .join(":")
}

fn hmac(key: &[u8], item: &Value) -> Vec<u8> {
    mac(Digest::Sha256, key, &[signing_string(item).as_bytes()])
}

fn items(body: &[u8]) -> Result<Vec<(std::ops::Range<usize>, Value)>, Rejection> {
    let elements = member_array(body, "notificationItems").ok_or_else(|| {
        Rejection::BadRequest(
            "body is not the {\"notificationItems\": [...]} object Adyen sends".into(),
        )
    })?;
    if elements.is_empty() {
        return Err(Rejection::BadRequest("notificationItems is empty".into()));
    }
    Ok(elements)
}

impl Scheme for Adyen {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let mut parts = Vec::new();
        for (i, (range, element)) in items(req.body)?.into_iter().enumerate() {
            let item = element.get("NotificationRequestItem").ok_or_else(|| {
                Rejection::BadRequest(format!("item [{i}] has no NotificationRequestItem"))
            })?;
            let given = json_str(item, "/additionalData/hmacSignature")
                .and_then(|s| B64.decode(s).ok())
                .ok_or_else(|| {
                    Rejection::Unauthorized(format!(
                        "item [{i}] has no base64 additionalData.hmacSignature"
                    ))
                })?;
            check(keys, &[given], |key| hmac(key, item))?;
            let read = |p: &str, what: &str| {
                json_str(item, p)
                    .ok_or_else(|| Rejection::BadRequest(format!("item [{i}] has no {what}")))
            };
            let event_code = read("/eventCode", "eventCode")?;
            let id = format!(
                "{}:{event_code}:{}",
                read("/pspReference", "pspReference")?,
                field(item, "/success")
            );
            parts.push(Part {
                range,
                verified: Verified::new(id, event_code)?.with_ack(Ack::Text("[accepted]")),
                bytes: None,
            });
        }
        Ok(Verdict::Batch(parts))
    }

    /// Adyen signs inside the body: see [`Scheme::stamp`].
    fn sign(&self, _key: &[u8], _body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Writes each item's `additionalData.hmacSignature` under `key`.
    fn stamp(&self, key: &[u8], body: &[u8], _now: i64, _: &str) -> Option<Vec<u8>> {
        let mut json: Value = serde_json::from_slice(body).ok()?;
        for element in json.get_mut("notificationItems")?.as_array_mut()? {
            let Some(item) = element.get_mut("NotificationRequestItem") else {
                continue;
            };
            let signature = Value::String(B64.encode(hmac(key, item)));
            let Some(object) = item.as_object_mut() else {
                continue;
            };
            let extra = object
                .entry("additionalData")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(extra) = extra.as_object_mut() {
                extra.insert("hmacSignature".into(), signature);
            }
        }
        serde_json::to_vec(&json).ok()
    }

    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        hex::decode(raw.trim())
            .map_err(|_| "not a hex HMAC key, as Adyen's Customer Area shows it".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;

    /// The HMAC key and item of Adyen's documentation ("Verify HMAC
    /// signatures"); its signature is also what Adyen's Python SDK,
    /// `Adyen` 16.0.0 (`util.generate_notification_sig`), computes.
    const DOC_KEY: &str = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";
    const DOC_BODY: &str = r#"{"live":"false","notificationItems":[{"NotificationRequestItem":{"additionalData":{"hmacSignature":"coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},"amount":{"currency":"EUR","value":1130},"eventCode":"AUTHORISATION","eventDate":"2019-05-06T17:15:34.121+02:00","merchantAccountCode":"TestMerchant","merchantReference":"TestPayment-1407325143704","operations":["CANCEL","CAPTURE","REFUND"],"paymentMethod":"visa","pspReference":"7914073381342284","reason":"1234:7777:12/2012","success":"true"}}]}"#;
    /// Two items, each signed by `Adyen` 16.0.0's
    /// `util.generate_notification_sig` and accepted by its
    /// `util.is_valid_hmac_notification`.
    const BATCH: &str = r#"{"live":"false","notificationItems":[{"NotificationRequestItem":{"additionalData":{"authCode":"58747","cardSummary":"1111","expiryDate":"8/2028","hmacSignature":"6e+tE8ik8Wn0KKU92iJ/RcTl5I+1Bk6W4sr05hwKAzw="},"amount":{"currency":"EUR","value":1130},"eventCode":"AUTHORISATION","eventDate":"2026-02-11T11:00:00+01:00","merchantAccountCode":"TestMerchant","merchantReference":"order-8812","operations":["CANCEL","CAPTURE","REFUND"],"paymentMethod":"visa","pspReference":"QFQTPCQ8HXSKGK82","reason":"58747:1111:8/2028","success":"true"}},{"NotificationRequestItem":{"additionalData":{"hmacSignature":"tBi2HE8RaOd4LHZ6FbWDg5aJ8KcxyNy2MYBt/oNcKac="},"amount":{"currency":"EUR","value":500},"eventCode":"REFUND","eventDate":"2026-02-11T11:00:05+01:00","merchantAccountCode":"TestMerchant","merchantReference":"order-8801","originalReference":"V4HZ4RBFJGXXGN82","paymentMethod":"mc","pspReference":"KHQC5N7G84BLNK43","reason":"","success":"true"}}]}"#;

    fn read(case: &Case, body: &str) -> Result<Vec<(String, String, String)>, Rejection> {
        let Verdict::Batch(parts) = case.raw(&[], body.as_bytes()).verify(None, 0)? else {
            panic!("a batch")
        };
        Ok(parts
            .into_iter()
            .map(|p| {
                assert_eq!(p.verified.ack(), Some(&Ack::Text("[accepted]")));
                (
                    p.verified.provider_event_id().to_string(),
                    p.verified.event_type().to_string(),
                    body[p.range].to_string(),
                )
            })
            .collect())
    }

    #[test]
    fn documented_vector_and_sdk_batch_verify_item_by_item() {
        let case = Case::new("adyen", &["00", DOC_KEY], "");
        let doc = read(&case, DOC_BODY).unwrap();
        assert_eq!(
            (doc[0].0.as_str(), doc[0].1.as_str()),
            ("7914073381342284:AUTHORISATION:true", "AUTHORISATION")
        );
        let batch = read(&case, BATCH).unwrap();
        let ids: Vec<(&str, &str)> = batch.iter().map(|p| (p.0.as_str(), p.1.as_str())).collect();
        assert_eq!(
            ids,
            [
                ("QFQTPCQ8HXSKGK82:AUTHORISATION:true", "AUTHORISATION"),
                ("KHQC5N7G84BLNK43:REFUND:true", "REFUND")
            ]
        );
        assert!(batch[1].2.starts_with("{\"NotificationRequestItem\""));
        assert!(batch[1].2.ends_with("\"success\":\"true\"}}"));
    }

    #[test]
    fn the_signer_writes_the_sdk_signatures() {
        let case = Case::new("adyen", &[DOC_KEY], "");
        let unsigned = BATCH
            .replace("6e+tE8ik8Wn0KKU92iJ/RcTl5I+1Bk6W4sr05hwKAzw=", "")
            .replace("tBi2HE8RaOd4LHZ6FbWDg5aJ8KcxyNy2MYBt/oNcKac=", "");
        let signed = case.signed(unsigned.as_bytes(), 0, "-", &[]);
        assert!(signed.headers.is_empty());
        let again: Value = serde_json::from_slice(&signed.body).unwrap();
        let want: Value = serde_json::from_str(BATCH).unwrap();
        assert_eq!(again, want);
        assert!(signed.verify(None, 0).is_ok());
    }

    #[test]
    fn a_signed_field_changed_or_a_wrong_key_refuses_the_whole_batch() {
        let case = Case::new("adyen", &[DOC_KEY], "");
        let unauthorized = |r: Result<_, Rejection>| matches!(r, Err(Rejection::Unauthorized(_)));
        assert!(unauthorized(read(
            &case,
            &BATCH.replace("\"value\":500", "\"value\":501")
        )));
        assert!(unauthorized(read(
            &case,
            &BATCH.replace("order-8812", "order-8813")
        )));
        assert!(unauthorized(read(
            &case,
            &BATCH.replace("\"success\":\"true\"}}]}", "\"success\":\"false\"}}]}")
        )));
        let other = Case::new(
            "adyen",
            &["44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA057"],
            "",
        );
        assert!(unauthorized(read(&other, BATCH)));
        assert!(unauthorized(read(
            &case,
            &BATCH.replace(
                "\"hmacSignature\":\"tBi2HE8RaOd4LHZ6FbWDg5aJ8KcxyNy2MYBt/oNcKac=\"",
                ""
            )
        )));
        assert!(matches!(
            read(&case, r#"{"live":"false","notificationItems":[]}"#),
            Err(Rejection::BadRequest(_))
        ));
    }

    #[test]
    fn the_key_must_be_hex() {
        assert!(Adyen.decode_secret("not-hex").is_err());
        assert_eq!(Adyen.decode_secret("0aff").unwrap(), [0x0a, 0xff]);
    }
}
