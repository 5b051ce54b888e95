//! Standard Webhooks (and Svix, which uses `svix-*` header names): headers
//! `webhook-id`, `webhook-timestamp`, `webhook-signature`; the signature is a
//! space-separated list of `v1,<base64>` HMAC-SHA256 of `{id}.{ts}.{body}`,
//! keyed with the base64-decoded secret after `whsec_`. Timestamps count in
//! both directions. hookgate signs its own forwarded requests the same way.

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::{
    bad_signature, check_timestamp, ct_eq, fresh_id, header, hmac_sha256, json_body,
    required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};

/// Verification accepts both header spellings; `headers` is the one this
/// sender uses, which `hookgate replay` signs with (Clerk and Resend send
/// Svix's `svix-*`).
#[derive(Debug)]
pub struct StandardWebhooks {
    pub headers: &'static str,
}

impl StandardWebhooks {
    pub const WEBHOOK: StandardWebhooks = StandardWebhooks { headers: "webhook" };
    pub const SVIX: StandardWebhooks = StandardWebhooks { headers: "svix" };
}

impl Scheme for StandardWebhooks {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        verify(keys, tolerance, req.headers, req.body, now)
    }
    fn sign(&self, key: &[u8], body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
        let mut headers = sign(key, delivery_id, body, now);
        for (name, _) in &mut headers {
            *name = name.replacen("webhook", self.headers, 1);
        }
        headers
    }
    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        decode_secret(raw)
    }
    fn fresh_delivery_id(&self) -> String {
        fresh_id("msg_")
    }
}

/// Decodes a `whsec_<base64>` secret (the prefix is optional) into key bytes.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    B64.decode(b64)
        .map_err(|_| "a Standard Webhooks secret is whsec_ followed by base64".to_string())
}

/// Reads `webhook-<name>`, else `svix-<name>`.
fn either<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header(headers, &format!("webhook-{name}")).or_else(|| header(headers, &format!("svix-{name}")))
}

pub fn verify(
    keys: &Keys,
    tolerance: Option<u64>,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verdict, Rejection> {
    let signatures = either(headers, "signature")
        .ok_or_else(|| Rejection::Unauthorized("missing webhook-signature header".into()))?;
    let timestamp = either(headers, "timestamp")
        .ok_or_else(|| Rejection::Unauthorized("missing webhook-timestamp header".into()))?;
    let id = either(headers, "id")
        .ok_or_else(|| Rejection::BadRequest("missing or unreadable header webhook-id".into()))?;
    let candidates: Vec<Vec<u8>> = signatures
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b| B64.decode(b).ok())
        .collect();
    let matched = keys.iter().any(|key| {
        let expected = mac(key, id, timestamp, body);
        candidates.iter().any(|c| ct_eq(c, &expected))
    });
    if !matched {
        return Err(bad_signature());
    }
    check_timestamp(timestamp, tolerance, now, false)?;
    let json = json_body(body, "a Standard Webhooks sender")?;
    let event_type = required_json_str(&json, "/type", "event type")?;
    Verified::new(id.to_string(), event_type).map(Verdict::Event)
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
    hmac_sha256(
        key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    )
}

/// `v1,<base64>` for one message.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        B64.encode(mac(key, id, &timestamp.to_string(), body))
    )
}

pub fn sign(key: &[u8], id: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.to_string()),
        ("webhook-timestamp".into(), now.to_string()),
        ("webhook-signature".into(), signature(key, id, now, body)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::headers;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const PUBLISHED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn keys(secrets: &[&str]) -> Keys {
        Keys(secrets.iter().map(|s| decode_secret(s).unwrap()).collect())
    }

    #[test]
    fn published_vector() {
        let key = decode_secret(SECRET).unwrap();
        assert_eq!(
            signature(&key, ID, 1614265330, br#"{"test": 2432232314}"#),
            PUBLISHED
        );
        let h = headers(&[
            ("webhook-id", ID),
            ("webhook-timestamp", "1614265330"),
            ("webhook-signature", &format!("v1a,xyz {PUBLISHED}")),
        ]);
        // Signature valid; the vector's body has no `type`, so it is a 400.
        let err = verify(
            &keys(&[SECRET]),
            Some(300),
            &h,
            br#"{"test": 2432232314}"#,
            1614265330,
        )
        .unwrap_err();
        assert!(matches!(err, Rejection::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn svix_headers_and_both_directions_of_tolerance() {
        let key = decode_secret(SECRET).unwrap();
        let body = br#"{"type":"user.created"}"#;
        let h = headers(&[
            ("svix-id", "msg_1"),
            ("svix-timestamp", "1000"),
            ("svix-signature", &signature(&key, "msg_1", 1000, body)),
        ]);
        let v = verify(&keys(&[SECRET]), Some(300), &h, body, 1000).unwrap();
        assert_eq!(
            v,
            Verdict::Event(Verified::new("msg_1".into(), "user.created".into()).unwrap())
        );
        assert!(verify(&keys(&[SECRET]), Some(300), &h, body, 1301).is_err());
        assert!(verify(&keys(&[SECRET]), Some(300), &h, body, 699).is_err());
    }

    /// Computed with the Standard Webhooks reference library for Python,
    /// `standardwebhooks` 1.1.0 (`Webhook.sign`), on Clerk- and
    /// Resend-shaped bodies: both names verify Svix's headers and sign with them.
    #[test]
    fn clerk_and_resend_reference_vectors() {
        use crate::providers::testing::Case;
        let cases = [
            (
                "clerk",
                "msg_2Xq7wQk1clerk",
                r#"{"data":{"id":"user_29w83sxmDNGwOuEthce5gg56FcC"},"object":"event","type":"user.created"}"#,
                "v1,khoGOCPv2eZnfdb00fkZ0fxKslD2ynLyneLGlIl6PTE=",
                "user.created",
            ),
            (
                "resend",
                "msg_resend_1",
                r#"{"type":"email.delivered","created_at":"2024-02-22T23:41:12.126Z","data":{"email_id":"56761188-7520-42d8-8898-ff6fc54ce618"}}"#,
                "v1,c0/zZzlLNXe9OyEYjbw2YbpZ4Swi/vHv87BQQiwx63M=",
                "email.delivered",
            ),
        ];
        for (name, id, body, signature, event_type) in cases {
            let case = Case::new(name, &[SECRET], "");
            let given = case.raw(
                &[
                    ("svix-id", id),
                    ("svix-timestamp", "1700000000"),
                    ("svix-signature", signature),
                ],
                body.as_bytes(),
            );
            assert_eq!(given.event(1700000000), (id.into(), event_type.into()));
            given.assert_tamper_and_wrong_secret_refused(1700000000);
            given.assert_unauthorized(None, 1700000301);
            let signed = case.signed(body.as_bytes(), 1700000000, id, &[]);
            assert_eq!(signed.header("svix-signature"), Some(signature), "{name}");
        }
    }
}
