//! Amazon SNS against a message AWS signed, the development signer and
//! the configuration errors.

use super::certs::public_key_of;
use super::*;
use crate::providers::testing::{assert_config_errors, build, headers, keys};
use rsa::RsaPublicKey;

/// A notification AWS signed in 2015 (SignatureVersion 1) and the
/// certificate it was signed with (Amazon's, for sns.amazonaws.com), as
/// published in the author test `author.t/01_verify.t` of the
/// AWS::SNS::Verify 0.0103 distribution (CPAN); OpenSSL 3.0.19
/// (`openssl dgst -sha1 -verify`) accepts the signature over our
/// canonical string too.
const CERT_URL: &str = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem";
const CERT: &str = include_str!("sns_test_cert.pem");
const BODY: &str = r#"{
"Type" : "Notification",
"MessageId" : "a890c547-5d98-55e2-971d-8826fff56413",
"TopicArn" : "arn:aws:sns:us-east-1:041977924901:foo",
"Subject" : "test subject",
"Message" : "test message",
"Timestamp" : "2015-02-20T20:59:25.401Z",
"SignatureVersion" : "1",
"Signature" : "kzi3JBQz64uFAXG9ZuAwPI2gYW5tT7OF83oeHb8v0/XRPsy0keq2NHTCpQVRxCgPOJ/QUB2Yl/L29/W4hiHMo9+Ns0hrqyasgUfjq+XkVR1WDuYLtNaEA1vLnA0H9usSh3eVVlLhpYzoT4GUoGgstRVvFceW2QVF9EYUQyromlcbOVtVpKCEINAvGEEKJNGTXQQUkPUka3YMhHitgQg1WlFBmf+oweSYUEj8+RoguWsn6vluxD0VtIOGOml5jlUecfhDqnetF5pUVYMqCHPfHn6RBguiW+XD6XWsdKKxkjqo90a65Nlb72gPSRw6+sIEIgf4J39WFZK+FCpeSm0qAg==",
"SigningCertURL" : "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem",
"UnsubscribeURL" : "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:041977924901:foo:20b2d060-2a32-4506-9cb0-24b8b9e605e1",
"MessageAttributes" : {
    "AWS.SNS.MOBILE.MPNS.Type" : {"Type":"String","Value":"token"}
}
}"#;

fn source(extra: &str) -> Result<Sns, ConfigError> {
    build(Sns::from_config, "aws-sns", extra)
}

fn verify(sns: &Sns, body: &str, tol: Option<u64>, now: i64) -> Result<Verdict, Rejection> {
    let h = headers(&[("x-amz-sns-message-type", "Notification")]);
    sns.verify(&keys(&[]), tol, &Inbound::post(&h, body.as_bytes()), now)
}

#[test]
fn published_message_signed_by_aws() {
    let sns = source("").unwrap();
    sns.certs.trust(CERT_URL, CERT);
    assert_eq!(
        verify(&sns, BODY, None, 0).unwrap(),
        Verdict::Event(
            Verified::new(
                "a890c547-5d98-55e2-971d-8826fff56413".into(),
                "Notification".into()
            )
            .unwrap()
        )
    );
    let tampered = BODY.replace("\"test message\"", "\"tampered\"");
    assert!(matches!(
        verify(&sns, &tampered, None, 0),
        Err(Rejection::Unauthorized(_))
    ));
    let stale = verify(&sns, BODY, Some(300), 1424465965 + 301);
    assert!(
        matches!(stale, Err(Rejection::Unauthorized(_))),
        "{stale:?}"
    );
    assert!(verify(&sns, BODY, Some(300), 1424465965 + 299).is_ok());
    // Without the certificate (not fetched) the answer is "try later".
    let empty = source("").unwrap();
    assert!(matches!(
        verify(&empty, BODY, None, 0),
        Err(Rejection::Unavailable(_))
    ));
}

#[test]
fn a_wrong_key_refuses_and_the_development_signer_round_trips() {
    use rsa::pkcs8::EncodePrivateKey;
    let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let pem = private.to_pkcs8_pem(Default::default()).unwrap();
    let url = "https://sns.eu-west-1.amazonaws.com/dev.pem";
    let extra = format!(
        "signing_key = '''{}'''\nsns_signing_cert_url = \"{url}\"\nevent_type_pointer = \"/kind\"",
        pem.as_str()
    );
    let sns = source(&extra).unwrap();
    let trusting = |key: RsaPublicKey| {
        let s = source(&extra).unwrap();
        s.certs.trust_key(url, key);
        s
    };
    let ours = trusting(private.to_public_key());
    let aws = trusting(public_key_of(CERT.as_bytes()).unwrap());
    for version in ["1", "2"] {
        let fixture = format!(
            r#"{{"Type":"Notification","MessageId":"m-{version}","TopicArn":"arn:aws:sns:eu-west-1:1:t","Message":"{{\"kind\":\"order.paid\"}}","SignatureVersion":"{version}"}}"#
        );
        let signed = sns.stamp(&[], fixture.as_bytes(), 1000, "").unwrap();
        let signed = String::from_utf8(signed).unwrap();
        assert_eq!(
            verify(&ours, &signed, None, 0).unwrap(),
            Verdict::Event(Verified::new(format!("m-{version}"), "order.paid".into()).unwrap()),
            "{signed}"
        );
        assert!(matches!(
            verify(&aws, &signed, None, 0),
            Err(Rejection::Unauthorized(_))
        ));
    }
}

#[test]
fn certificate_hosts_match_one_label_per_star() {
    let defaults: Vec<String> = DEFAULT_CERT_HOSTS.iter().map(|s| s.to_string()).collect();
    assert!(host_allowed(&defaults, "sns.us-east-1.amazonaws.com"));
    assert!(host_allowed(&defaults, "sns.cn-north-1.amazonaws.com.cn"));
    assert!(!host_allowed(&defaults, "sns.evil.s3.amazonaws.com"));
    assert!(!host_allowed(
        &defaults,
        "sns.us-east-1.amazonaws.com.evil.com"
    ));
    assert!(!host_allowed(&defaults, "evil.com"));
    assert!(cert_url_host(&defaults, "http://sns.us-east-1.amazonaws.com/x.pem").is_err());
    let sns = source("").unwrap();
    let other = BODY.replace("sns.us-east-1.amazonaws.com/Simple", "example.com/Simple");
    assert!(matches!(
        verify(&sns, &other, None, 0),
        Err(Rejection::Unauthorized(_))
    ));
}

#[test]
fn configuration_errors_name_the_key() {
    assert_config_errors(
        source,
        &[
            ("sns_cert_hosts = []", "sources[0].sns_cert_hosts"),
            (
                "sns_cert_hosts = [\"a..b\"]",
                "sources[0].sns_cert_hosts[0]",
            ),
            (
                "sns_ca_file = \"/nonexistent/ca.pem\"",
                "sources[0].sns_ca_file",
            ),
            (
                "event_type_pointer = \"type\"",
                "sources[0].event_type_pointer",
            ),
            ("signing_key = \"x\"", "sources[0].sns_signing_cert_url"),
            (
                "signing_key = \"x\"\nsns_signing_cert_url = \"https://sns.a.amazonaws.com/c.pem\"",
                "sources[0].signing_key",
            ),
        ],
    );
}
