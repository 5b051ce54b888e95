//! HubSpot (signature v3): `X-HubSpot-Signature-v3` is the base64
//! HMAC-SHA256, keyed with the app's client secret, of
//! `{method}{url}{body}{X-HubSpot-Request-Timestamp}`; the timestamp is in
//! Unix milliseconds and older than 5 minutes is refused, as HubSpot's SDKs
//! do. The URL is the source's `public_url` with the query as received.
//!
//! The body is a JSON array of events, stored as one event. Its ID is the
//! hex SHA-256 of the batch's sorted `eventId`s, so a retry (which HubSpot
//! sends with a new `attemptNumber`, hence other bytes) keeps its ID: it is a
//! duplicate when the bytes match and a recorded conflict (409) otherwise,
//! never a second delivery. The type is the events' `subscriptionType` when
//! they share one, else `batch`.

use std::collections::BTreeSet;

use sha2::Digest as _;

use super::kit::{check, millis_to_secs, signed_url, Encoding, SignatureHeader};
use super::{
    check_timestamp, signature_header, Inbound, Keys, Rejection, Scheme, Verdict, Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Hubspot {
    public_url: String,
}

impl Hubspot {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Hubspot, ConfigError> {
        Ok(Hubspot {
            public_url: super::public_url(source, key)?,
        })
    }
}

const HEADER: SignatureHeader =
    SignatureHeader::new("x-hubspot-signature-v3", "", Encoding::Base64);
const TIMESTAMP: &str = "x-hubspot-request-timestamp";

fn signed(key: &[u8], method: &str, url: &str, body: &[u8], ts: &str) -> Vec<u8> {
    mac(
        Digest::Sha256,
        key,
        &[method.as_bytes(), url.as_bytes(), body, ts.as_bytes()],
    )
}

impl Scheme for Hubspot {
    fn verify(
        &self,
        keys: &Keys,
        tolerance: Option<u64>,
        req: &Inbound<'_>,
        now: i64,
    ) -> Result<Verdict, Rejection> {
        let given = HEADER.read(req.headers)?;
        let ts = signature_header(req.headers, TIMESTAMP)?;
        let url = signed_url(&self.public_url, req);
        check(keys, &[given], |key| {
            signed(key, req.method.as_str(), &url, req.body, ts)
        })?;
        check_timestamp(&millis_to_secs(ts)?, tolerance, now, true)?;
        let events: Vec<serde_json::Value> = serde_json::from_slice(req.body).map_err(|_| {
            Rejection::BadRequest("body is not the JSON array HubSpot sends".into())
        })?;
        let mut ids = BTreeSet::new();
        let mut types = BTreeSet::new();
        for (i, e) in events.iter().enumerate() {
            let id = e
                .get("eventId")
                .filter(|v| v.is_number() || v.is_string())
                .ok_or_else(|| {
                    Rejection::BadRequest(format!("event {i} of the batch has no eventId"))
                })?;
            ids.insert(id.to_string());
            types.insert(
                e.get("subscriptionType")
                    .and_then(|t| t.as_str())
                    .unwrap_or(""),
            );
        }
        if ids.is_empty() {
            return Err(Rejection::BadRequest("the batch holds no events".into()));
        }
        let list: Vec<&str> = ids.iter().map(String::as_str).collect();
        let id = hex::encode(sha2::Sha256::digest(list.join(",").as_bytes()));
        let event_type = match (types.len(), types.first()) {
            (1, Some(t)) if !t.is_empty() => t.to_string(),
            _ => "batch".to_string(),
        };
        Verified::new(id, event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], now: i64, _: &str) -> Vec<(String, String)> {
        let url = self.public_url.split(['?', '#']).next().unwrap_or_default();
        let ts = (now * 1000).to_string();
        vec![
            (
                "X-HubSpot-Signature-v3".into(),
                HEADER.value(&signed(key, "POST", url, body, &ts)),
            ),
            ("X-HubSpot-Request-Timestamp".into(), ts),
        ]
    }

    fn default_tolerance(&self) -> Option<u64> {
        Some(300)
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "b2fce10c-8a4a-4e5c-9d53-hubspot-test";
    const BODY: &str = r#"[{"eventId":100,"subscriptionId":4321,"portalId":62515,"appId":1160452,"occurredAt":1700000000000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeFlag":"CREATED","changeSource":"CRM"}]"#;
    /// Computed with HubSpot's official Python SDK, `hubspot-api-client`
    /// 12.0.0 (`Signature.get_signature`, version v3).
    const SDK_SIGNATURE: &str = "CTz104NBLsXz0eBrNT+9LbdCOZPz4IcdLNtqYuEWaRk=";
    const TS: &str = "1700000000123";

    fn case() -> Case {
        Case::new(
            "hubspot",
            &[SECRET],
            "public_url = \"https://hooks.example.com/ingest/hubspot\"",
        )
    }

    #[test]
    fn sdk_vector_verifies_within_five_minutes() {
        let c = case().raw(
            &[
                ("x-hubspot-signature-v3", SDK_SIGNATURE),
                ("x-hubspot-request-timestamp", TS),
            ],
            BODY.as_bytes(),
        );
        let (id, ty) = c.event(1700000000 + 300);
        assert_eq!((id.len(), ty.as_str()), (64, "contact.creation"));
        c.assert_unauthorized(None, 1700000000 + 301);
        c.assert_tamper_and_wrong_secret_refused(1700000000);
        let mut get = c.clone();
        get.method = axum::http::Method::PUT;
        assert!(
            get.verify(None, 1700000000).is_err(),
            "the method is signed"
        );
        let signed = case().signed(BODY.as_bytes(), 1700000000, "-", &[]);
        assert_eq!(
            signed.header("x-hubspot-request-timestamp"),
            Some("1700000000000")
        );
    }

    #[test]
    fn a_retried_batch_keeps_its_id_and_mixed_batches_are_typed_batch() {
        let retry = BODY.replace("\"attemptNumber\":0", "\"attemptNumber\":1");
        let first = case()
            .signed(BODY.as_bytes(), 1700000000, "-", &[])
            .event(1700000000);
        let again = case()
            .signed(retry.as_bytes(), 1700000000, "-", &[])
            .event(1700000000);
        assert_eq!(first.0, again.0);
        let mixed = r#"[{"eventId":1,"subscriptionType":"contact.creation"},{"eventId":2,"subscriptionType":"deal.creation"}]"#;
        let c = case().signed(mixed.as_bytes(), 1700000000, "-", &[]);
        assert_eq!(c.event(1700000000).1, "batch");
        let empty = case().signed(b"[]", 1700000000, "-", &[]);
        assert!(matches!(
            empty.verify(None, 1700000000),
            Err(crate::providers::Rejection::BadRequest(_))
        ));
    }
}
