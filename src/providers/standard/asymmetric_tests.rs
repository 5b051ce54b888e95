//! Standard Webhooks v1a (Ed25519 public keys): vectors, refusals and
//! the configuration errors.

use super::*;
use crate::providers::testing::{assert_config_errors, build, headers};

// Made with PyNaCl 1.5.0 (libsodium's Ed25519) from the seed 01..20
// (hex), over the Standard Webhooks example message and body.
const PUBLIC: &str = "whpk_ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=";
const SEED: &str = "whsk_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
const SEED_AND_PUBLIC: &str =
    "whsk_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyB5tVYuj+ZU+UB4sRLoqYunkB+FOuaVvtfg45ELrQSWZA==";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const BODY: &str = r#"{"test": 2432232314}"#;
const SIGNATURE: &str =
    "v1a,OVJuLC0iOuaBuQulpz9A/zDgvqV8z8miLUJk2j15ZMONwDNhOvPJ3rO4owAHFyjFq80+pUUjrNfTHAZs1RQnDw==";

fn scheme(extra: &str) -> Result<StandardWebhooks, ConfigError> {
    build(StandardWebhooks::from_config, "standard-webhooks", extra)
}

fn check(
    s: &StandardWebhooks,
    signature: &str,
    body: &str,
    now: i64,
) -> Result<Verdict, Rejection> {
    let h = headers(&[
        ("webhook-id", ID),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", signature),
    ]);
    s.verify(
        &Keys(vec![]),
        Some(300),
        &Inbound::post(&h, body.as_bytes()),
        now,
    )
}

#[test]
fn v1a_vector_verifies_and_the_signer_agrees() {
    let s = scheme(&format!(
        "public_keys = [\"{PUBLIC}\"]\nsigning_key = \"{SEED}\""
    ))
    .unwrap();
    // Signature valid; the example body has no `type`, hence 400.
    let err = check(&s, &format!("v1,bm90IGl0 {SIGNATURE}"), BODY, 1614265330).unwrap_err();
    assert!(matches!(err, Rejection::BadRequest(_)), "{err:?}");
    let signed = s.sign(&[], BODY.as_bytes(), 1614265330, ID);
    assert_eq!(signed[2].1, SIGNATURE);
    let both = scheme(&format!(
        "public_keys = [\"{PUBLIC}\"]\nsigning_key = \"{SEED_AND_PUBLIC}\""
    ))
    .unwrap();
    assert_eq!(
        both.sign(&[], BODY.as_bytes(), 1614265330, ID)[2].1,
        SIGNATURE
    );
}

#[test]
fn v1a_refuses_tampering_other_keys_and_stale_timestamps() {
    let s = scheme(&format!("public_keys = [\"{PUBLIC}\"]")).unwrap();
    let unauthorized = |r: Result<Verdict, Rejection>| matches!(r, Err(Rejection::Unauthorized(_)));
    assert!(unauthorized(check(
        &s,
        SIGNATURE,
        r#"{"test": 2432232315}"#,
        1614265330
    )));
    assert!(unauthorized(check(&s, SIGNATURE, BODY, 1614265330 + 301)));
    let other = PrivateKey::from_bytes(&[9; 32]).unwrap();
    let wrong = scheme(&format!(
        "public_keys = [\"whpk_{}\"]",
        B64.encode(other.public_key())
    ))
    .unwrap();
    assert!(unauthorized(check(&wrong, SIGNATURE, BODY, 1614265330)));
    // A `v1a` signature is never checked as an HMAC, nor the reverse.
    assert!(unauthorized(check(
        &s,
        &SIGNATURE.replacen("v1a,", "v1,", 1),
        BODY,
        1614265330
    )));
    assert!(!s.needs_secrets());
    assert!(scheme("").unwrap().needs_secrets());
}

#[test]
fn configuration_errors_name_the_key() {
    assert_config_errors(
        scheme,
        &[
            ("public_keys = [\"whpk_AAAA\"]", "sources[0].public_keys[0]"),
            ("signing_key = \"whsk_AAAA\"", "sources[0].signing_key"),
        ],
    );
}
