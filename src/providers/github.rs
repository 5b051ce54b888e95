//! GitHub: `X-Hub-Signature-256: sha256=<hex>` of the body; the event ID is
//! `X-GitHub-Delivery`, the type `X-GitHub-Event` plus `.{action}` when the
//! body has one (`pull_request.opened`).

use super::kit::{check, Encoding, SignatureHeader};
use super::{json_body, required_header, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::hmac_sha256;

const SIGNATURE: SignatureHeader =
    SignatureHeader::new("x-hub-signature-256", "sha256=", Encoding::Hex)
        .shown_as("X-Hub-Signature-256");

#[derive(Debug)]
pub struct Github;

impl Scheme for Github {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let given = SIGNATURE.read(req.headers)?;
        check(keys, &[given], |key| hmac_sha256(key, &[req.body]).to_vec())?;
        let delivery = required_header(req.headers, "x-github-delivery")?;
        let event = required_header(req.headers, "x-github-event")?;
        let json = json_body(req.body, "GitHub")?;
        let event_type = match json.string_at("/action") {
            Some(action) if !action.is_empty() => format!("{event}.{action}"),
            _ => event.to_string(),
        };
        Verified::new(delivery.to_string(), event_type).map(Verdict::Event)
    }
    fn sign(&self, key: &[u8], body: &[u8], _: i64, delivery_id: &str) -> Vec<(String, String)> {
        sign(key, body, delivery_id)
    }
}

pub fn signature(key: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(key, &[body])))
}

pub fn sign(key: &[u8], body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    vec![
        ("X-Hub-Signature-256".into(), signature(key, body)),
        ("X-GitHub-Delivery".into(), delivery_id.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing::{event, headers, keys, post};

    #[test]
    fn published_vector() {
        let sig = signature(b"It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(
            sig,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        let h = headers(&[
            ("x-hub-signature-256", &sig),
            ("x-github-delivery", "d-1"),
            ("x-github-event", "ping"),
        ]);
        // The vector's body is not JSON: the signature passes, the body is refused.
        let err = post(
            &Github,
            &keys(&["It's a Secret to Everybody"]),
            None,
            &h,
            b"Hello, World!",
            0,
        )
        .unwrap_err();
        assert!(matches!(err, Rejection::BadRequest(_)));
    }

    #[test]
    fn type_includes_action_and_headers_are_required() {
        let body = br#"{"action":"opened","number":1}"#;
        let sig = signature(b"s", body);
        let h = headers(&[
            ("x-hub-signature-256", &sig),
            ("x-github-delivery", "d-2"),
            ("x-github-event", "pull_request"),
        ]);
        let v = post(&Github, &keys(&["s"]), None, &h, body, 0).unwrap();
        assert_eq!(v, event("d-2", "pull_request.opened"));
        let h = headers(&[
            ("x-hub-signature-256", &sig),
            ("x-github-event", "pull_request"),
        ]);
        assert!(matches!(
            post(&Github, &keys(&["s"]), None, &h, body, 0),
            Err(Rejection::BadRequest(_))
        ));
        let h = headers(&[("x-github-delivery", "d"), ("x-github-event", "ping")]);
        assert!(matches!(
            post(&Github, &keys(&["s"]), None, &h, body, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }
}
