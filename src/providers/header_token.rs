//! `header-token`: for senders that send a static token in a header of the
//! user's choice: `token_header` names it, `secrets` lists the accepted
//! tokens (compared in constant time; the header is never stored). The event
//! ID and type come from `event_id_pointer` and `event_type_pointer` (see
//! [`Pointers`]).

use super::kit::{token_matches, Pointers};
use super::{Inbound, Keys, Rejection, Scheme, Verdict};

#[derive(Debug)]
pub struct HeaderToken {
    /// Lower case.
    pub header: String,
    pub pointers: Pointers,
}

impl Scheme for HeaderToken {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        token_matches(keys, req.headers, &self.header)?;
        Ok(Verdict::Event(self.pointers.read(req.body)?))
    }

    fn sign(&self, key: &[u8], _: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![(
            self.header.clone(),
            String::from_utf8_lossy(key).into_owned(),
        )]
    }

    fn is_secret_header(&self, name: &str) -> bool {
        name == self.header
    }

    fn body_id_pointer(&self) -> Option<&str> {
        self.pointers.event_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const EXTRA: &str = "token_header = \"X-Webhook-Token\"\nevent_id_pointer = \"/id\"";

    #[test]
    fn token_must_match_and_is_secret() {
        let case = Case::new("header-token", &["tok-old", "tok-new"], EXTRA);
        let body = br#"{"id":"e-1","type":"thing.happened"}"#;
        let given = case.raw(&[("x-webhook-token", "tok-new")], body);
        assert_eq!(given.event(0), ("e-1".into(), "thing.happened".into()));
        case.raw(&[("x-webhook-token", "tok-ne")], body)
            .assert_unauthorized(None, 0);
        case.raw(&[("x-other", "tok-new")], body)
            .assert_unauthorized(None, 0);
        assert!(case.provider.is_secret_header("X-Webhook-Token"));
        let signed = case.signed(body, 0, "-", &[]);
        assert_eq!(signed.header("x-webhook-token"), Some("tok-old"));
        let missing = case.raw(&[("x-webhook-token", "tok-new")], br#"{"type":"t"}"#);
        assert!(matches!(
            missing.verify(None, 0),
            Err(crate::providers::Rejection::BadRequest(_))
        ));
    }
}
