//! Mandrill (Mailchimp Transactional): a form post whose `mandrill_events`
//! field is a JSON array of events. `X-Mandrill-Signature` is the base64
//! HMAC-SHA1, keyed with the webhook's key, of the URL Mandrill posted to
//! (`public_url`, with the query as received) followed by every form
//! field as `{name}{value}`, sorted by name.
//!
//! The batch is split: each event is stored as a form of its own,
//! `mandrill_events=[<the event's JSON exactly as sent>]`, so a target gets
//! what Mandrill would post for that one event and a resent batch
//! deduplicates event by event. The event ID is `{_id}:{event}:{ts}` (one
//! message has several events), else the SHA-256 of the event's JSON (sync
//! events); the type is `event` (`send`, `open`, ...), else `type`
//! (`blacklist`). Adding a webhook sends an unsigned `HEAD` and a post with
//! an empty array: both are answered `{"status": "ok"}`, not stored.

use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::batch::{body_array, Part};
use super::kit::{body_sha256, check, signed_text, signed_url, Encoding, SignatureHeader};
use super::{
    form_encode, form_pairs, json_str, Handshake, Inbound, Keys, Rejection, Scheme, Verdict,
    Verified,
};
use crate::config::{ConfigError, SourceConfig};
use crate::crypto::{mac, Digest};

const SIGNATURE: SignatureHeader =
    SignatureHeader::new("x-mandrill-signature", "", Encoding::Base64);

#[derive(Debug)]
pub struct Mandrill {
    public_url: String,
}

impl Mandrill {
    pub fn from_config(source: &SourceConfig, key: &str) -> Result<Mandrill, ConfigError> {
        Ok(Mandrill {
            public_url: super::public_url(source, key)?,
        })
    }
}

fn ok() -> Verdict {
    Verdict::Handshake(Handshake::json(serde_json::json!({"status": "ok"})))
}

impl Scheme for Mandrill {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        if req.method == axum::http::Method::HEAD {
            return Ok(ok());
        }
        let given = SIGNATURE.read(req.headers)?;
        let fields = form_pairs(req.body);
        let text = signed_text(&signed_url(&self.public_url, req), &fields);
        check(keys, &[given], |key| {
            mac(Digest::Sha1, key, &[text.as_bytes()])
        })?;
        let events = fields
            .iter()
            .find(|(k, _)| k == "mandrill_events")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Rejection::BadRequest("missing the mandrill_events field".into()))?;
        let elements = body_array(events.as_bytes())
            .ok_or_else(|| Rejection::BadRequest("mandrill_events is not a JSON array".into()))?;
        if elements.is_empty() {
            return Ok(ok());
        }
        let mut parts = Vec::with_capacity(elements.len());
        for (i, (range, event)) in elements.into_iter().enumerate() {
            let json = &events[range];
            let event_type = json_str(&event, "/event")
                .or_else(|| json_str(&event, "/type"))
                .ok_or_else(|| {
                    Rejection::BadRequest(format!("event [{i}] has neither event nor type"))
                })?;
            let id = match (json_str(&event, "/_id"), json_str(&event, "/ts")) {
                (Some(id), Some(ts)) => format!("{id}:{event_type}:{ts}"),
                _ => body_sha256(json.as_bytes()),
            };
            parts.push(Part {
                range: 0..0,
                verified: Verified::new(id, event_type)?,
                bytes: Some(
                    format!("mandrill_events={}", form_encode(&format!("[{json}]"))).into_bytes(),
                ),
            });
        }
        Ok(Verdict::Batch(parts))
    }

    fn sign(&self, key: &[u8], body: &[u8], _now: i64, _: &str) -> Vec<(String, String)> {
        let text = signed_text(self.public_url.as_str(), &form_pairs(body));
        vec![(
            "X-Mandrill-Signature".into(),
            B64.encode(mac(Digest::Sha1, key, &[text.as_bytes()])),
        )]
    }

    fn handles_get(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::Case;
    use axum::http::Method;

    const KEY: &str = "mandrill-webhook-key-5Zq1";
    const URL: &str = "public_url = \"https://hooks.example.com/ingest/mandrill\"";
    /// Two events of one message, form-encoded as Mandrill posts them.
    const BODY: &str = "mandrill_events=%5B%7B%22event%22%3A%22send%22%2C%22msg%22%3A%7B%22ts%22%3A1770807000%2C%22subject%22%3A%22Your%20order%22%2C%22email%22%3A%22ada%40example.com%22%2C%22sender%22%3A%22shop%40example.com%22%2C%22tags%22%3A%5B%5D%2C%22state%22%3A%22sent%22%2C%22_id%22%3A%224d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d%22%7D%2C%22_id%22%3A%224d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d%22%2C%22ts%22%3A1770807000%7D%2C%7B%22event%22%3A%22open%22%2C%22msg%22%3A%7B%22ts%22%3A1770807000%2C%22subject%22%3A%22Your%20order%22%2C%22email%22%3A%22ada%40example.com%22%2C%22sender%22%3A%22shop%40example.com%22%2C%22tags%22%3A%5B%5D%2C%22state%22%3A%22sent%22%2C%22opens%22%3A%5B%7B%22ts%22%3A1770807100%7D%5D%2C%22_id%22%3A%224d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d%22%7D%2C%22_id%22%3A%224d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d%22%2C%22ip%22%3A%22203.0.113.7%22%2C%22ts%22%3A1770807100%7D%5D";
    /// Mailchimp Transactional's SDKs carry no verifier: computed with
    /// Python's `hmac` module from the documented scheme (URL, then each
    /// sorted field's name and value, HMAC-SHA1, base64).
    const SIGNATURE: &str = "Mfqq2JuYYrdR4/nPlB0VZ86QQv8=";

    fn parts(v: Verdict) -> Vec<Part> {
        match v {
            Verdict::Batch(parts) => parts,
            other => panic!("a batch, got {other:?}"),
        }
    }

    #[test]
    fn vector_splits_into_one_form_per_event_and_signs() {
        let case = Case::new("mandrill", &["rotated-out", KEY], URL);
        let given = case.raw(&[("x-mandrill-signature", SIGNATURE)], BODY.as_bytes());
        let got = parts(given.verify(None, 0).unwrap());
        let ids: Vec<(&str, &str)> = got
            .iter()
            .map(|p| (p.verified.provider_event_id(), p.verified.event_type()))
            .collect();
        assert_eq!(
            ids,
            [
                ("4d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d:send:1770807000", "send"),
                ("4d9c1a5f2b8e4f6a9c3d2e1f0a9b8c7d:open:1770807100", "open")
            ]
        );
        let own = got[1].bytes.as_ref().unwrap();
        let fields = form_pairs(own);
        assert_eq!(fields[0].0, "mandrill_events");
        let events: serde_json::Value = serde_json::from_str(&fields[0].1).unwrap();
        assert_eq!(events[0]["ip"], "203.0.113.7");
        let sent = &form_pairs(BODY.as_bytes())[0].1;
        let element = &fields[0].1[1..fields[0].1.len() - 1];
        assert!(sent.contains(element), "the event's JSON exactly as sent");
        given.assert_tamper_and_wrong_secret_refused(0);
        let signed = Case::new("mandrill", &[KEY], URL).signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(signed.header("x-mandrill-signature"), Some(SIGNATURE));
    }

    #[test]
    fn the_url_check_and_an_empty_batch_are_answered() {
        let case = Case::new("mandrill", &[KEY], URL);
        let mut head = case.raw(&[], b"");
        head.method = Method::HEAD;
        assert_eq!(head.verify(None, 0).unwrap(), ok());
        let empty = case.signed(b"mandrill_events=%5B%5D", 0, "-", &[]);
        assert_eq!(empty.verify(None, 0).unwrap(), ok());
        case.raw(
            &[("x-mandrill-signature", SIGNATURE)],
            b"mandrill_events=%5B%5D",
        )
        .assert_unauthorized(None, 0);
        let elsewhere = Case::new(
            "mandrill",
            &[KEY],
            "public_url = \"https://other.example.com/ingest/mandrill\"",
        );
        elsewhere
            .raw(&[("x-mandrill-signature", SIGNATURE)], BODY.as_bytes())
            .assert_unauthorized(None, 0);
    }
}
