//! Square: `x-square-hmacsha256-signature` is the base64 HMAC-SHA256, keyed
//! with the subscription's signature key, of the notification URL followed
//! by the body. The URL is the source's `public_url` with the query as
//! received. The event ID is the body's `event_id`, the type `type`.

use super::kit::{check, signed_url, Encoding, SignatureHeader};
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Square {
    public_url: String,
}

impl Square {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Square, ConfigError> {
        Ok(Square {
            public_url: super::public_url(source, key)?,
        })
    }
}

const HEADER: SignatureHeader =
    SignatureHeader::new("x-square-hmacsha256-signature", "", Encoding::Base64);

impl Scheme for Square {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let given = HEADER.read(req.headers)?;
        let url = signed_url(&self.public_url, req);
        check(keys, &[given], |key| {
            mac(Digest::Sha256, key, &[url.as_bytes(), req.body])
        })?;
        let json = json_body(req.body, "Square")?;
        Verified::new(
            required_json_str(&json, "/event_id", "event_id")?,
            required_json_str(&json, "/type", "type")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        let url = self.public_url.split(['?', '#']).next().unwrap_or_default();
        vec![(
            "x-square-hmacsha256-signature".into(),
            HEADER.value(&mac(Digest::Sha256, key, &[url.as_bytes(), body])),
        )]
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/event_id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const BODY: &str = r#"{"merchant_id":"MLEFBHHSJGVHD","type":"payment.created","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"payment","id":"KkAkhdMsgzn59SM8A2fsY"}}"#;
    /// Computed with HMAC-SHA256 and accepted by Square's official Python
    /// SDK, `squareup` 46.0.0.20260916 (`square.utils.webhooks_helper.verify_signature`).
    const SDK_SIGNATURE: &str = "RCfbdyC3ZpbMYZM5lNxf52HGeS/MYz0xqeCXvVLpSRk=";

    #[test]
    fn sdk_vector_verifies_and_signs() {
        let case = Case::new(
            "square",
            &["Ibxx_5AKakO-3qeNVR61Dw"],
            "public_url = \"https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9\"",
        );
        let given = case.raw(
            &[("x-square-hmacsha256-signature", SDK_SIGNATURE)],
            BODY.as_bytes(),
        );
        assert_eq!(
            given.event(0),
            (
                "ac3ac95b-f97d-458c-a6e6-18981597e05f".into(),
                "payment.created".into()
            )
        );
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = case.signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(
            signed.header("x-square-hmacsha256-signature"),
            Some(SDK_SIGNATURE)
        );
        // Another URL (a query Square did not sign) fails.
        let mut elsewhere = given.clone();
        elsewhere.uri = "/ingest/s?x=1".parse().unwrap();
        elsewhere.assert_unauthorized(None, 0);
    }
}
