//! Intercom: `X-Hub-Signature: sha1=<hex>`, the HMAC-SHA1 of the body keyed
//! with the app's client secret. The event ID is the notification's `id`,
//! the type its `topic` (`conversation.user.created`).

use super::kit::{BodyHmac, Encoding, SignatureHeader};
use super::{json_body, required_json_str, Inbound, Keys, Rejection, Scheme, Verdict, Verified};
use crate::crypto::Digest;

#[derive(Debug)]
pub struct Intercom;

const SIGNATURE: BodyHmac = BodyHmac {
    header: SignatureHeader {
        name: "x-hub-signature",
        prefix: "sha1=",
        encoding: Encoding::Hex,
    },
    digest: Digest::Sha1,
};

impl Scheme for Intercom {
    fn verify(
        &self,
        keys: &Keys,
        _: Option<u64>,
        req: &Inbound<'_>,
        _: i64,
    ) -> Result<Verdict, Rejection> {
        SIGNATURE.verify(keys, req.headers, req.body)?;
        let json = json_body(req.body, "Intercom")?;
        Verified::new(
            required_json_str(&json, "/id", "id")?,
            required_json_str(&json, "/topic", "topic")?,
        )
        .map(Verdict::Event)
    }

    fn sign(&self, key: &[u8], body: &[u8], _: i64, _: &str) -> Vec<(String, String)> {
        vec![SIGNATURE.sign(key, body)]
    }

    fn body_id_pointer(&self) -> Option<&str> {
        Some("/id")
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::testing::Case;

    const SECRET: &str = "intercom-client-secret-7d1";
    const BODY: &str = r#"{"type":"notification_event","app_id":"abc123","data":{"type":"notification_event_data","item":{"type":"conversation","id":"147"}},"id":"notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3","topic":"conversation.user.created","delivery_status":"pending","delivery_attempts":1,"created_at":1403865553}"#;
    /// The expected signature, computed independently with Python's `hmac`
    /// module following the provider's documented scheme.
    const SIGNATURE: &str = "sha1=50720dc69b08fb9cae76118f7df3d438574fac19";

    #[test]
    fn vector_verifies_and_signs() {
        let case = Case::new("intercom", &["rotated-out", SECRET], "");
        let given = case.raw(&[("x-hub-signature", SIGNATURE)], BODY.as_bytes());
        let (id, event_type) = given.event(0);
        assert_eq!(id, "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3");
        assert_eq!(event_type, "conversation.user.created");
        given.assert_tamper_and_wrong_secret_refused(0);
        let case = Case::new("intercom", &[SECRET], "");
        let signed = case.signed(
            BODY.as_bytes(),
            0,
            "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
            &[],
        );
        assert_eq!(signed.header("x-hub-signature"), Some(SIGNATURE));
        assert_eq!(signed.event(0), given.event(0));
    }
}
