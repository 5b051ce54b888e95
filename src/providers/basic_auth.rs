//! `basic-auth`: for senders that offer no signature but can put
//! credentials in the URL (Postmark, Mailchimp): HTTP Basic credentials
//! compared, in constant time, with `secrets = ["user:password"]`. The event
//! ID and type come from `event_id_pointer` and `event_type_pointer` (see
//! [`Pointers`]). A GET with valid credentials is answered 200 and not
//! stored, for senders that check the URL before saving it (Mailchimp).

use axum::http::Method;
use base64::{engine::general_purpose::STANDARD as B64, Engine};

use super::kit::Pointers;
use super::{
    bad_signature, signature_header, Handshake, Inbound, Keys, Rejection, Scheme, Verdict,
};
use crate::crypto::ct_eq;

#[derive(Debug)]
pub struct BasicAuth {
    pub pointers: Pointers,
}

impl Scheme for BasicAuth {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        let raw = signature_header(req.headers, "authorization")?;
        let given = raw
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, b64)| B64.decode(b64.trim()).ok())
            .ok_or_else(|| {
                Rejection::Unauthorized("Authorization is not Basic credentials".into())
            })?;
        if !keys.iter().any(|key| ct_eq(&given, key)) {
            return Err(bad_signature());
        }
        if *req.method == Method::GET {
            return Ok(Verdict::Handshake(Handshake::json(
                serde_json::json!({ "status": "ok" }),
            )));
        }
        Ok(Verdict::Event(self.pointers.read(req.body)?))
    }

    fn sign(&self, key: &[u8], _: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![("Authorization".into(), format!("Basic {}", B64.encode(key)))]
    }

    fn handles_get(&self) -> bool {
        true
    }

    fn decode_secret(&self, raw: &str) -> Result<Vec<u8>, String> {
        match raw.split_once(':') {
            Some((user, _)) if !user.is_empty() => Ok(raw.as_bytes().to_vec()),
            _ => Err("a basic-auth secret is user:password".into()),
        }
    }

    fn body_id_pointer(&self) -> Option<&str> {
        self.pointers.event_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;
    use crate::providers::Verdict;

    const POINTERS: &str =
        "event_id_pointer = \"/MessageID\"\nevent_type_pointer = \"/RecordType\"";
    const BODY: &str = r#"{"RecordType":"Delivery","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Recipient":"john@example.com","DeliveredAt":"2019-11-05T16:33:54.9070259Z"}"#;

    #[test]
    fn rfc_7617_credentials_verify_and_pointers_read() {
        // RFC 7617's example: Aladdin / open sesame.
        let case = Case::new("basic-auth", &["Aladdin:open sesame"], POINTERS);
        let given = case.raw(
            &[("authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
            BODY.as_bytes(),
        );
        assert_eq!(
            given.event(0),
            (
                "883953f4-6105-42a2-a16a-77a8eac79483".into(),
                "Delivery".into()
            )
        );
        let signed = case.signed(BODY.as_bytes(), 0, "-", &[]);
        assert_eq!(
            signed.header("authorization"),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        let mut wrong = given.clone();
        wrong.keys = Case::new("basic-auth", &["Aladdin:closed"], POINTERS).keys;
        wrong.assert_unauthorized(None, 0);
        case.raw(
            &[("authorization", "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
            BODY.as_bytes(),
        )
        .assert_unauthorized(None, 0);
        case.raw(&[], BODY.as_bytes()).assert_unauthorized(None, 0);
    }

    #[test]
    fn forms_defaults_and_get() {
        // Mailchimp posts forms; without an ID pointer the key is the body's SHA-256.
        let case = Case::new("basic-auth", &["mc:pw"], "");
        let body =
            b"type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bemail%5D=api%40mailchimp.com";
        let signed = case.signed(body, 0, "-", &[]);
        let (id, event_type) = signed.event(0);
        assert_eq!(
            (id, event_type.as_str()),
            (crate::providers::kit::body_sha256(body), "subscribe")
        );
        let mut get = signed.clone();
        get.method = axum::http::Method::GET;
        get.body.clear();
        assert!(matches!(get.verify(None, 0), Ok(Verdict::Handshake(_))));
        let mut anonymous = get.clone();
        anonymous.headers.clear();
        anonymous.assert_unauthorized(None, 0);
    }
}
