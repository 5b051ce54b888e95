//! Plivo (signature V3): `X-Plivo-Signature-V3` is the base64 HMAC-SHA256,
//! keyed with the (sub)account's Auth Token, of `{url}.{nonce}` with the
//! nonce from `X-Plivo-Signature-V3-Nonce`. For a form post, `url` is the
//! callback URL (`public_url`'s scheme, host and path) followed by `?`, the
//! query's parameters sorted as `k=v&...`, a `.` when both are present,
//! and the form's parameters sorted as `{name}{value}`. The header may list
//! several signatures, comma-separated.
//!
//! Callbacks carry no delivery ID and Plivo's retries resend the same
//! parameters, so the event ID is the body's SHA-256; the type is
//! `message.{Status}` for messaging callbacks, `call.{CallStatus}` (else
//! `call.{Event}`) for voice, else `plivo`.

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::{body_sha256, check};
use super::{form_pairs, signature_header, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{mac, Digest};

#[derive(Debug)]
pub struct Plivo {
    /// Scheme, host and path of `public_url`.
    base: String,
}

impl Plivo {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Plivo, ConfigError> {
        let url = super::public_url(source, key)?;
        let base = url.split(['?', '#']).next().unwrap_or(&url).to_string();
        Ok(Plivo { base })
    }
}

/// Parameters sorted by name, each name's values sorted.
fn sorted(pairs: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map.values_mut().for_each(|v| v.sort());
    map
}

/// The URL Plivo signs for a post of `form` to `base` with `query`.
fn signed_url(base: &str, query: &str, form: &[u8]) -> String {
    let query: Vec<String> = sorted(form_pairs(query.as_bytes()))
        .into_iter()
        .flat_map(|(k, vs)| vs.into_iter().map(move |v| format!("{k}={v}")))
        .collect();
    let params: String = sorted(form_pairs(form))
        .into_iter()
        .flat_map(|(k, vs)| vs.into_iter().map(move |v| format!("{k}{v}")))
        .collect();
    let mut url = base.to_string();
    if !query.is_empty() || !params.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    if !query.is_empty() && !params.is_empty() {
        url.push('.');
    }
    url + &params
}

fn signature(key: &[u8], url: &str, nonce: &str) -> Vec<u8> {
    mac(
        Digest::Sha256,
        key,
        &[url.as_bytes(), b".", nonce.as_bytes()],
    )
}

impl Scheme for Plivo {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "x-plivo-signature-v3")?;
        let nonce = signature_header(req.headers, "x-plivo-signature-v3-nonce")?;
        let candidates: Vec<Vec<u8>> = raw
            .split(',')
            .filter_map(|s| B64.decode(s.trim()).ok())
            .collect();
        let url = signed_url(&self.base, req.uri.query().unwrap_or(""), req.body);
        check(keys, &candidates, |key| signature(key, &url, nonce))?;
        let fields: BTreeMap<String, String> = form_pairs(req.body).into_iter().collect();
        let field = |name: &str| fields.get(name).filter(|v| !v.is_empty());
        let event_type = if let Some(status) = field("MessageUUID").and(field("Status")) {
            format!("message.{status}")
        } else if let Some(status) = field("CallUUID").and(field("CallStatus").or(field("Event"))) {
            format!("call.{status}")
        } else {
            "plivo".to_string()
        };
        Verified::new(body_sha256(req.body), event_type).map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        let url = signed_url(&self.base, "", body);
        vec![
            (
                "X-Plivo-Signature-V3".into(),
                B64.encode(signature(key, &url, delivery_id)),
            ),
            ("X-Plivo-Signature-V3-Nonce".into(), delivery_id.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;
    use axum::http::Uri;

    const TOKEN: &str = "MAODUYZTCXMTDHNWI2NZ-plivo-token";
    const URL: &str = "public_url = \"https://hooks.example.com/ingest/plivo\"";
    const BODY: &str = "From=14155550100&MessageUUID=e6ca0a3c-f7c2-11ee-8c3b-0242ac110002&Status=delivered&To=14155550199&TotalAmount=0.00500&TotalRate=0.00500&Units=1&ErrorCode=000&MessageTime=2026-02-11+11%3A10%3A00%2B00%3A00";
    const NONCE: &str = "05429567804466091622";
    /// Signed by Plivo's Python SDK, `plivo` 4.63.0
    /// (`utils.signature_v3.get_signature_v3` over `construct_post_url`) and
    /// accepted by its `validate_v3_signature`; the second with the
    /// callback URL's query `?callback=sms`.
    const SIGNATURE: &str = "/KYSWhXTOImLWzjuyfA28Cvj8DsoEWpXIiDth5g9Bcg=";
    const SIGNATURE_QUERY: &str = "3o2uQWcabeL49wd5yxaHhORi0LL7jMfw4ys9ugtPve0=";

    fn given(signature: &str, path: &str) -> Case {
        let mut c = Case::new("plivo", &["rotated-out", TOKEN], URL).raw(
            &[
                ("x-plivo-signature-v3", signature),
                ("x-plivo-signature-v3-nonce", NONCE),
            ],
            BODY.as_bytes(),
        );
        c.uri = path.parse::<Uri>().unwrap();
        c
    }

    #[test]
    fn sdk_vectors_verify_and_sign() {
        let expected = (
            body_sha256(BODY.as_bytes()),
            "message.delivered".to_string(),
        );
        assert_eq!(given(SIGNATURE, "/ingest/plivo").event(0), expected);
        assert_eq!(
            given(
                &format!("bm90LWl0,{SIGNATURE_QUERY}"),
                "/ingest/plivo?callback=sms"
            )
            .event(0),
            expected
        );
        given(SIGNATURE, "/ingest/plivo").assert_tamper_and_wrong_secret_refused(0);
        given(SIGNATURE, "/ingest/plivo?callback=sms").assert_unauthorized(None, 0);
        let mut other_nonce = given(SIGNATURE, "/ingest/plivo");
        other_nonce.headers[1].1 = "05429567804466091623".into();
        other_nonce.assert_unauthorized(None, 0);
        let signed = Case::new("plivo", &[TOKEN], URL).signed(BODY.as_bytes(), 0, NONCE, &[]);
        assert_eq!(signed.header("x-plivo-signature-v3"), Some(SIGNATURE));
        assert_eq!(signed.header("x-plivo-signature-v3-nonce"), Some(NONCE));
    }

    #[test]
    fn voice_callbacks_are_typed_by_call_status() {
        let case = Case::new("plivo", &[TOKEN], URL);
        let body =
            b"CallUUID=b3c5f2e0-1a2b-4c3d-9e8f-0a1b2c3d4e5f&CallStatus=completed&Event=Hangup";
        assert_eq!(
            case.signed(body, 0, "n-1", &[]).event(0).1,
            "call.completed"
        );
        assert_eq!(case.signed(b"Foo=bar", 0, "n-2", &[]).event(0).1, "plivo");
    }
}
