//! Property tests of everything that parses attacker-controlled input:
//! every signature-header parser, and the event ID and type extraction.
//! Random bytes, huge values, repeated keys, non-UTF-8 and wrong lengths
//! must never panic, never be accepted without a valid signature, and a
//! validly signed event must come out deliverable or be refused with 400.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hookgate::providers::{Rejection, Verdict, MAX_EVENT_ID_BYTES, MAX_EVENT_TYPE_BYTES};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use crate::helpers::*;

const NOW: i64 = 1_700_000_000;

/// Every provider, with the header its signature travels in.
fn providers() -> Vec<(&'static str, Signer, &'static str)> {
    vec![
        ("stripe", Signer::with_secret("stripe", STRIPE_SECRET, ""), "stripe-signature"),
        ("github", Signer::with_secret("github", GITHUB_SECRET, ""), "x-hub-signature-256"),
        ("svix", Signer::with_secret("svix", SVIX_SECRET, ""), "webhook-signature"),
        ("shopify", Signer::with_secret("shopify", SHOPIFY_SECRET, ""), "x-shopify-hmac-sha256"),
        ("slack", Signer::with_secret("slack", SLACK_SECRET, ""), "x-slack-signature"),
        ("gitlab", Signer::with_secret("gitlab", GITLAB_SECRET, ""), "x-gitlab-token"),
        (
            "acme",
            Signer::with_secret(
                "generic-hmac",
                ACME_SECRET,
                "signature_header = \"X-Acme-Signature\"\nsignature_prefix = \"sha256=\"\nevent_id_pointer = \"/id\"\n",
            ),
            "x-acme-signature",
        ),
    ]
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Header values as a client can send them: any byte but controls other
/// than tab (hyper refuses those before we see them).
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(
            any::<u8>().prop_filter("a header byte", |b| *b == b'\t'
                || (*b >= 0x20 && *b != 0x7f)),
            0..300
        ),
        // Near misses of each format, with huge and repeated parts.
        (any::<i64>(), prop::collection::vec("[0-9a-f]{0,80}", 0..6)).prop_map(|(t, sigs)| {
            let mut v = format!("t={t}");
            for s in sigs {
                v.push_str(&format!(",v1={s},t={t}"));
            }
            v.into_bytes()
        }),
        prop::collection::vec("v1,[A-Za-z0-9+/=]{0,60}|v1a,[A-Za-z0-9+/=]{0,8}", 0..40)
            .prop_map(|parts| parts.join(" ").into_bytes()),
        "(v0=|sha256=)?[0-9a-fA-F]{0,130}".prop_map(String::into_bytes),
        "[0-9]{18,40}|-[0-9]{18,40}".prop_map(String::into_bytes),
    ]
}

fn put(headers: &mut HeaderMap, name: &str, value: &[u8]) {
    if let Ok(v) = HeaderValue::from_bytes(value) {
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), v);
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Random signature headers, timestamps, IDs and bodies: no panic, and
    /// never accepted.
    #[test]
    fn random_signatures_are_refused(
        which in 0usize..7,
        sig in header_value(),
        ts in header_value(),
        id in header_value(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let (name, signer, sig_header) = &providers()[which];
        let mut h = HeaderMap::new();
        put(&mut h, sig_header, &sig);
        for ts_header in ["webhook-timestamp", "x-slack-request-timestamp"] {
            put(&mut h, ts_header, &ts);
        }
        for id_header in ["webhook-id", "x-github-delivery", "x-shopify-event-id", "idempotency-key"] {
            put(&mut h, id_header, &id);
        }
        put(&mut h, "x-github-event", b"push");
        put(&mut h, "x-shopify-topic", b"orders/create");
        let result = signer.verify(&h, &body, NOW);
        prop_assert!(
            matches!(result, Err(Rejection::Unauthorized(_)) | Err(Rejection::BadRequest(_))),
            "{name} accepted a random signature: {result:?}"
        );
    }
}

/// A JSON value as a sender might put in an ID or type field: strings
/// with any character (controls, non-ASCII), huge and odd numbers,
/// objects, arrays, `null`.
fn json_field() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        "[a-z_.]{1,20}".prop_map(|s| format!("\"{s}\"")),
        (0usize..700).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        "-?[1-9][0-9]{0,60}(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,4})?",
        Just("null".to_string()),
        Just("true".to_string()),
        Just("{\"nested\": 1}".to_string()),
        Just("[1, 2]".to_string()),
    ]
}

/// What an ID field holds as text, if it is one: a non-empty string's
/// content or a number's exact text.
fn id_text(field: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(field).ok()? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn deliverable(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && !text.chars().any(char::is_control)
}

proptest! {
    #![proptest_config(config(512))]

    /// Validly signed bodies with hostile `id` and `type` fields, repeated
    /// keys included: the event comes out with exactly the last value's
    /// text when it is deliverable, and is refused with 400 otherwise.
    #[test]
    fn signed_ids_and_types_are_exact_or_refused(
        which in prop::sample::select(vec![0usize, 4, 6]),
        first_id in json_field(),
        id in json_field(),
        event_type in json_field(),
        repeat in any::<bool>(),
    ) {
        let (name, signer, _) = &providers()[which];
        let id_key = if *name == "slack" { "event_id" } else { "id" };
        let type_json = if *name == "slack" {
            format!("\"event\": {{\"type\": {event_type}}}")
        } else {
            format!("\"type\": {event_type}")
        };
        let body = if repeat {
            format!("{{\"{id_key}\": {first_id}, {type_json}, \"{id_key}\": {id}}}")
        } else {
            format!("{{\"{id_key}\": {id}, {type_json}}}")
        };
        let mut h = HeaderMap::new();
        for (k, v) in signer.headers(body.as_bytes(), NOW) {
            put(&mut h, &k, v.as_bytes());
        }
        let result = signer.verify(&h, body.as_bytes(), NOW);
        let expected_id = id_text(&id);
        let expected_type = id_text(&event_type);
        match result {
            Ok(Verdict::Event(v)) => {
                prop_assert_eq!(Some(v.provider_event_id().to_string()), expected_id);
                prop_assert_eq!(Some(v.event_type().to_string()), expected_type);
                prop_assert!(deliverable(v.provider_event_id(), MAX_EVENT_ID_BYTES));
                prop_assert!(deliverable(v.event_type(), MAX_EVENT_TYPE_BYTES));
            }
            Ok(Verdict::Handshake(_)) => prop_assert!(false, "{} handshake from {}", name, body),
            Ok(Verdict::Batch(_)) => prop_assert!(false, "{} batch from {}", name, body),
            Err(Rejection::BadRequest(_)) => {
                let both_fine = expected_id.as_deref().is_some_and(|t| deliverable(t, MAX_EVENT_ID_BYTES))
                    && expected_type.as_deref().is_some_and(|t| deliverable(t, MAX_EVENT_TYPE_BYTES));
                prop_assert!(!both_fine, "{} refused a deliverable event: {}", name, body);
            }
            Err(Rejection::Unauthorized(m)) => prop_assert!(false, "{} refused its own signature: {}", name, m),
            Err(Rejection::MethodNotAllowed(m)) => prop_assert!(false, "{} refused POST: {}", name, m),
            Err(Rejection::Unavailable(m)) => prop_assert!(false, "{} unavailable: {}", name, m),
        }
    }

    /// Header-borne IDs (GitHub, Standard Webhooks, Shopify, GitLab) of any
    /// length and bytes, and signed bodies that are not UTF-8 or not JSON.
    #[test]
    fn signed_header_ids_and_raw_bodies_are_exact_or_refused(
        which in prop::sample::select(vec![1usize, 2, 3, 5]),
        id in prop::collection::vec(any::<u8>().prop_filter("a header byte", |b| *b == b'\t' || (*b >= 0x20 && *b != 0x7f)), 1..700),
        body in prop_oneof![
            Just(br#"{"type":"a.b","object_kind":"push"}"#.to_vec()),
            prop::collection::vec(any::<u8>(), 0..256),
        ],
    ) {
        let (name, signer, _) = &providers()[which];
        let id_text = String::from_utf8_lossy(&id).trim().to_string();
        let mut h = HeaderMap::new();
        let signed = signer.headers_as(&body, NOW, &id_text);
        for (k, v) in signed {
            put(&mut h, &k, v.as_bytes());
        }
        put(&mut h, "x-github-event", b"push");
        put(&mut h, "x-shopify-topic", b"orders/create");
        match signer.verify(&h, &body, NOW) {
            Ok(Verdict::Event(v)) => {
                prop_assert!(deliverable(v.provider_event_id(), MAX_EVENT_ID_BYTES), "{}", name);
                prop_assert!(deliverable(v.event_type(), MAX_EVENT_TYPE_BYTES), "{}", name);
            }
            Ok(Verdict::Handshake(_)) | Ok(Verdict::Batch(_)) => prop_assert!(false),
            Err(Rejection::BadRequest(_)) => {}
            Err(Rejection::Unauthorized(m)) => {
                // The signed ID is part of the Standard Webhooks MAC; an ID
                // that is not a readable header value cannot be checked.
                prop_assert!(*name == "svix" || *name == "gitlab", "{}: {}", name, m);
            }
            Err(Rejection::MethodNotAllowed(m)) => prop_assert!(false, "{} refused POST: {}", name, m),
            Err(Rejection::Unavailable(m)) => prop_assert!(false, "{} unavailable: {}", name, m),
        }
    }
}

/// The same through HTTP: random bodies and signature headers posted to
/// every source are answered 400, 401, 413 or 415 with the JSON error
/// shape, never 2xx or 5xx.
#[test]
fn random_requests_over_http_get_json_refusals() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(spawn_app(&Backend::Sqlite, ""));
    let client = reqwest::Client::new();
    let names: Vec<&str> = providers().iter().map(|p| p.0).collect();
    let mut runner = proptest::test_runner::TestRunner::new(config(96));
    runner
        .run(
            &(
                prop::sample::select(names),
                header_value(),
                prop::collection::vec(any::<u8>(), 0..2048),
            ),
            |(source, sig, body)| {
                let (status, json) = rt.block_on(async {
                    let mut req = client
                        .post(format!("{}/ingest/{source}", app.base))
                        .body(body.clone());
                    for name in [
                        "stripe-signature",
                        "x-hub-signature-256",
                        "webhook-signature",
                        "x-shopify-hmac-sha256",
                        "x-slack-signature",
                        "x-gitlab-token",
                        "x-acme-signature",
                    ] {
                        if let Ok(v) = HeaderValue::from_bytes(&sig) {
                            req = req.header(name, v.as_bytes());
                        }
                    }
                    let resp = req.send().await.unwrap();
                    let status = resp.status().as_u16();
                    let json: serde_json::Value =
                        serde_json::from_str(&resp.text().await.unwrap()).unwrap();
                    (status, json)
                });
                prop_assert!(
                    [400, 401, 413, 415].contains(&status),
                    "{} answered {}: {}",
                    source,
                    status,
                    json
                );
                prop_assert!(json["error"].is_string() && json["detail"].is_string());
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(app.shutdown());
}
