//! The signer `hookgate replay` uses, through [`Provider`], against
//! published vectors.

use super::*;

fn provider(name: &str, secret: &str) -> (Provider, Keys) {
    let text = format!("name = \"s\"\nprovider = \"{name}\"\nsecrets = [\"{secret}\"]\n");
    let source: SourceConfig = toml::from_str(&text).unwrap();
    Provider::from_config(&source, "sources[0]").unwrap()
}

fn header<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    &pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .unwrap()
        .1
}

/// The signer `hookgate replay` uses agrees with the published vectors.
#[test]
fn replay_signer_matches_published_vectors() {
    let (p, k) = provider("github", "It's a Secret to Everybody");
    let h = p.sign_as(
        k.first().unwrap(),
        b"Hello, World!",
        UnixMs::from_secs(0),
        "d-1",
    );
    assert_eq!(
        header(&h, "x-hub-signature-256"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    assert_eq!(header(&h, "x-github-delivery"), "d-1");

    let (p, k) = provider("svix", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    let h = p.sign_as(
        k.first().unwrap(),
        br#"{"test": 2432232314}"#,
        UnixMs::from_secs(1614265330),
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
    );
    assert_eq!(
        header(&h, "webhook-signature"),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    assert_eq!(header(&h, "webhook-id"), "msg_p5jXN8AQM9LWM0D4loKWxJek");

    let (p, k) = provider("stripe", "whsec_test_secret");
    let body = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    let h = p.sign(k.first().unwrap(), body, UnixMs::from_secs(1614265330));
    assert_eq!(
        header(&h, "stripe-signature"),
        "t=1614265330,v1=af4ead0627a34a8cca29808e8de9ada8e41a92e6237c63cef6eacf51d36cca34"
    );

    let (p, k) = provider("slack", "8f742231b10e8888abcd99yyyzzz85a5");
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let h = p.sign(
        k.first().unwrap(),
        body.as_bytes(),
        UnixMs::from_secs(1531420618),
    );
    assert_eq!(
        header(&h, "x-slack-signature"),
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    );
    assert_eq!(header(&h, "x-slack-request-timestamp"), "1531420618");
}
