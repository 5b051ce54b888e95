//! Standard Webhooks (v1, HMAC): the published vector, Svix headers,
//! tolerance both ways, and the Clerk and Resend reference vectors.

use super::*;
use crate::providers::testing::{headers, post};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const PUBLISHED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

/// A source with secrets only (no public keys), sending `webhook-*` headers.
fn plain() -> StandardWebhooks {
    StandardWebhooks {
        headers: "webhook",
        public_keys: PublicKeys::default(),
        signing_key: None,
    }
}

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
    let err = post(
        &plain(),
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
    let v = post(&plain(), &keys(&[SECRET]), Some(300), &h, body, 1000).unwrap();
    assert_eq!(
        v,
        Verdict::Event(Verified::new("msg_1".into(), "user.created".into()).unwrap())
    );
    assert!(post(&plain(), &keys(&[SECRET]), Some(300), &h, body, 1301).is_err());
    assert!(post(&plain(), &keys(&[SECRET]), Some(300), &h, body, 699).is_err());
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
