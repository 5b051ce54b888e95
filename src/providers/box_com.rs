//! Box (webhooks V2): `BOX-SIGNATURE-PRIMARY` and `BOX-SIGNATURE-SECONDARY`,
//! each the base64 HMAC-SHA256 of the body followed by
//! `BOX-DELIVERY-TIMESTAMP` (RFC 3339), keyed with the app's primary and
//! secondary signature keys: `secrets = [primary, secondary]`, and a request
//! passes when either signature matches either key, so a key can be rotated
//! one at a time. `BOX-SIGNATURE-VERSION` must be `1` and
//! `BOX-SIGNATURE-ALGORITHM` `HmacSHA256`. A delivery more than 10 minutes
//! old is refused, as Box's SDKs do (and one more than 10 minutes ahead).
//! The event ID is the body's `id`, the type its `trigger`
//! (`FILE.UPLOADED`).

use super::kit::{check, Encoding, SignatureHeader};
use super::{
    check_sent_within, json_body, required_json_str, signature_header, Inbound, Keys, Rejection,
    Scheme, Verdict, Verified,
};
use crate::crypto::{mac, Digest};

const PRIMARY: SignatureHeader =
    SignatureHeader::new("box-signature-primary", "", Encoding::Base64);
const SECONDARY: SignatureHeader =
    SignatureHeader::new("box-signature-secondary", "", Encoding::Base64);
const TIMESTAMP: &str = "box-delivery-timestamp";

#[derive(Debug)]
pub struct BoxCom;

fn signed(key: &[u8], body: &[u8], timestamp: &str) -> Vec<u8> {
    mac(Digest::Sha256, key, &[body, timestamp.as_bytes()])
}

impl Scheme for BoxCom {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        for (name, want) in [
            ("box-signature-version", "1"),
            ("box-signature-algorithm", "HmacSHA256"),
        ] {
            if signature_header(req.headers, name)? != want {
                return Err(Rejection::Unauthorized(format!("{name} is not {want}")));
            }
        }
        let timestamp = signature_header(req.headers, TIMESTAMP)?;
        let candidates: Vec<Vec<u8>> = [PRIMARY, SECONDARY]
            .iter()
            .filter_map(|h| h.read(req.headers).ok())
            .collect();
        if candidates.is_empty() {
            return Err(Rejection::Unauthorized(
                "missing box-signature-primary header".into(),
            ));
        }
        check(keys, &candidates, |key| signed(key, req.body, timestamp))?;
        let sent = crate::time::parse(timestamp)
            .map(|ms| ms.div_euclid(1000))
            .map_err(|_| {
                Rejection::Unauthorized("BOX-DELIVERY-TIMESTAMP is not an RFC 3339 time".into())
            })?;
        if let Some(tolerance) = tolerance {
            check_sent_within(sent, tolerance, now)?;
        }
        let json = json_body(req.body, "Box")?;
        Verified::new(
            required_json_str(&json, "/id", "id")?,
            required_json_str(&json, "/trigger", "trigger")?,
        )
        .map(Verdict::Event)
    }

    /// Box signs with both keys; replay has one and sends it as primary.
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let timestamp = jiff::Timestamp::from_second(now)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .strftime("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string();
        vec![
            (
                "BOX-SIGNATURE-PRIMARY".into(),
                PRIMARY.value(&signed(key, body, &timestamp)),
            ),
            ("BOX-DELIVERY-TIMESTAMP".into(), timestamp),
            ("BOX-SIGNATURE-VERSION".into(), "1".into()),
            ("BOX-SIGNATURE-ALGORITHM".into(), "HmacSHA256".into()),
            ("BOX-DELIVERY-ID".into(), delivery_id.to_string()),
        ]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(600)
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const BODY: &str = r#"{"type":"webhook_event","id":"e3b0c442-98fc-4c14-9afb-f4c8996fb924","created_at":"2024-05-20T03:00:00-07:00","trigger":"FILE.UPLOADED","webhook":{"id":"1234567890","type":"webhook"},"created_by":{"type":"user","id":"22222","name":"Ada"},"source":{"id":"123456789","type":"file","name":"report.pdf"}}"#;
    const SENT: &str = "2024-05-20T03:00:00-07:00";
    const AT: i64 = 1716199200;
    /// Computed with HMAC-SHA256 and accepted by Box's official Python SDK,
    /// `box-sdk-gen` 1.17.0 (`WebhooksManager.validate_message` with its
    /// clock at `AT`; it refuses them 601 s later and under other keys). The
    /// same SDK accepts the headers `hookgate replay` signs.
    const PRIMARY: &str = "FzBC0gmYd+F4ZHKD8l3/IMrqxpB1QBXZiYvPJ7mvfkM=";
    const SECONDARY: &str = "a+jg+FmCovn0idAoZnI0IixqXs1TZjRM6dZz0Bej8g8=";

    fn given(case: &Case, primary: &str, secondary: &str) -> Case {
        case.raw(
            &[
                ("box-signature-primary", primary),
                ("box-signature-secondary", secondary),
                ("box-delivery-timestamp", SENT),
                ("box-signature-version", "1"),
                ("box-signature-algorithm", "HmacSHA256"),
                ("box-delivery-id", "d-1"),
            ],
            BODY.as_bytes(),
        )
    }

    #[test]
    fn sdk_vector_verifies_for_ten_minutes_with_either_key() {
        let both = Case::new("box", &["box-primary-23", "box-secondary-23"], "");
        let c = given(&both, PRIMARY, SECONDARY);
        let expected = (
            "e3b0c442-98fc-4c14-9afb-f4c8996fb924".to_string(),
            "FILE.UPLOADED".to_string(),
        );
        assert_eq!(c.event(AT), expected);
        assert_eq!(c.event(AT + 600), expected);
        c.assert_unauthorized(None, AT + 601);
        c.assert_tamper_and_wrong_secret_refused(AT);
        // The secondary key alone verifies the secondary signature.
        let secondary = Case::new("box", &["box-secondary-23"], "");
        assert_eq!(given(&secondary, "AAAA", SECONDARY).event(AT), expected);
        // Another signature version or algorithm is refused.
        let mut v2 = c.clone();
        v2.headers[3].1 = "2".into();
        v2.assert_unauthorized(None, AT);
    }

    #[test]
    fn replay_signs_as_primary() {
        let case = Case::new("box", &["box-primary-23"], "");
        let signed = case.signed(BODY.as_bytes(), AT, "d-2", &[]);
        assert_eq!(
            signed.header("box-delivery-timestamp"),
            Some("2024-05-20T10:00:00+00:00")
        );
        assert_eq!(signed.event(AT).1, "FILE.UPLOADED");
        assert_eq!(signed.header("box-delivery-id"), Some("d-2"));
    }
}
