//! Every fixture through the whole pipeline with `hookgate replay`: signed
//! as its provider would, verified, stored, routed and delivered
//! byte-identical; and the event type each one yields.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

/// Fixture folder -> the test source that verifies it.
pub(crate) const SOURCES: &[(&str, &str)] = &[
    ("stripe", "stripe"),
    ("github", "github"),
    ("standard-webhooks", "svix"),
    ("shopify", "shopify"),
    ("slack", "slack"),
    ("gitlab", "gitlab"),
    ("generic-hmac", "acme"),
    ("paddle", "paddle"),
    ("linear", "linear"),
    ("twilio", "twilio"),
    ("square", "square"),
    ("mailgun", "mailgun"),
    ("hubspot", "hubspot"),
    ("intercom", "intercom"),
    ("typeform", "typeform"),
    ("calendly", "calendly"),
    ("vercel", "vercel"),
    ("sentry", "sentry"),
    ("bitbucket", "bitbucket"),
    ("jira", "jira"),
    ("lemon-squeezy", "lemon-squeezy"),
    ("paystack", "paystack"),
    ("razorpay", "razorpay"),
    ("woocommerce", "woocommerce"),
    ("pagerduty", "pagerduty"),
    ("zendesk", "zendesk"),
    ("mux", "mux"),
    ("docusign", "docusign"),
    ("clerk", "clerk"),
    ("resend", "resend"),
    ("basic-auth", "postmark"),
    ("header-token", "tokened"),
    ("standard-webhooks", "svix-pk"),
    ("discord", "discord"),
    ("sendgrid", "sendgrid"),
    ("twitch", "twitch"),
    ("zoom", "zoom"),
    ("dropbox", "dropbox"),
    ("microsoft-graph", "graph"),
    ("aws-sns", "sns"),
    // Providers III: payments, Meta and messaging
    ("meta", "meta"),
    ("adyen", "adyen"),
    ("braintree", "braintree"),
    ("checkout-com", "checkout-com"),
    ("gocardless", "gocardless"),
    ("recurly", "recurly"),
    ("mercado-pago", "mercado-pago"),
    ("coinbase-commerce", "coinbase-commerce"),
    ("cashfree", "cashfree"),
    ("mollie", "mollie"),
    ("telnyx", "telnyx"),
    ("line", "line"),
    ("telegram", "telegram"),
    ("viber", "viber"),
    ("mandrill", "mandrill"),
    ("plivo", "plivo"),
    ("vonage", "vonage"),
    ("messagebird", "messagebird"),
    ("paypal", "paypal"),
    // Providers III: developer tools and workplace apps
    ("webex", "webex"),
    ("gitea", "gitea"),
    ("gitea", "forgejo"),
    ("circleci", "circleci"),
    ("buildkite", "buildkite"),
    ("heroku", "heroku"),
    ("launchdarkly", "launchdarkly"),
    ("microsoft-teams", "microsoft-teams"),
    ("customer-io", "customer-io"),
    ("segment", "segment"),
    ("nylas", "nylas"),
    ("xero", "xero"),
    ("airtable", "airtable"),
    ("webflow", "webflow"),
    ("clickup", "clickup"),
    ("cal-com", "cal-com"),
    ("ghost", "ghost"),
    ("sanity", "sanity"),
    ("tally", "tally"),
    ("fastspring", "fastspring"),
    ("easypost", "easypost"),
    ("patreon", "patreon"),
    ("okta", "okta"),
    ("box", "box"),
    ("trello", "trello"),
    ("hygraph", "hygraph"),
    ("netlify", "netlify"),
    ("monday", "monday"),
    ("contentful", "contentful"),
];

/// Folders whose fixtures are rewritten when signed (SNS, Adyen and
/// Braintree sign inside the body, Graph carries the secret there) or split
/// into several events (the batches of SendGrid, Xero, FastSpring, Okta,
/// GoCardless, LINE and Mandrill, Mandrill's each a form of its own): what
/// must arrive is the stored event's bytes.
const REWRITTEN_OR_SPLIT: &[&str] = &[
    "aws-sns",
    "microsoft-graph",
    "sendgrid",
    "xero",
    "fastspring",
    "okta",
    "adyen",
    "braintree",
    "gocardless",
    "line",
    "mandrill",
];

/// Other names of a provider, replayed through its own folder (Forgejo
/// through Gitea's).
const ALIASES: &[&str] = &["svix", "forgejo", "whatsapp", "instagram", "messenger"];

/// Folders whose provider rewrites part of the body when it sends (the
/// time, or a signature inside the body), with the JSON pointer of that
/// part: their deliveries equal the fixture except there.
const STAMPED: &[(&str, &str)] = &[("linear", "/webhookTimestamp"), ("mailgun", "/signature")];

/// Every provider has a folder, and every folder is replayed here.
#[test]
fn every_provider_has_a_fixture_folder() {
    let folders: Vec<&str> = SOURCES.iter().map(|(f, _)| *f).collect();
    for name in provider_names() {
        // svix is the Standard Webhooks folder, forgejo replays the gitea
        // folder, the Meta names the meta folder; generic-hmac is "acme".
        if ALIASES.contains(&name) {
            continue;
        }
        assert!(folders.contains(&name), "no fixtures replayed for {name}");
    }
}

fn is_body_file(p: &Path) -> bool {
    let name = p.to_string_lossy();
    (name.ends_with(".json") && !name.ends_with(".headers.json")) || name.ends_with(".form")
}

/// Whether a delivered body is the fixture, byte for byte, or for a
/// stamped provider the fixture with only the stamped part changed.
fn delivered_as_sent(folder: &str, fixture: &[u8], received: &[u8]) -> bool {
    match STAMPED.iter().find(|(f, _)| *f == folder) {
        None => fixture == received,
        Some((_, pointer)) => {
            let strip = |bytes: &[u8]| {
                let mut v: Value = serde_json::from_slice(bytes).unwrap();
                *v.pointer_mut(pointer).expect("the stamped part") = Value::Null;
                v
            };
            strip(fixture) == strip(received)
        }
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn replay(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("replay")
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .expect("run hookgate replay")
}

async fn every_fixture_is_delivered_byte_identical(backend: Backend) {
    let target = TestTarget::start().await;
    // SNS fixtures are signed with a development key whose certificate a
    // local HTTPS server hands out, as sns.<region>.amazonaws.com would.
    let certs = crate::sns::CertServer::start().await;
    let identity = crate::sns::signing_identity(&certs);
    certs.serve("/signing.pem", 200, identity.cert_pem.clone());
    let sources = crate::test_keys::sources()
        + &crate::sns::sns_source(
            "sns",
            &certs,
            &identity,
            "/signing.pem",
            "event_type_pointer = \"/kind\"",
        )
        + &crate::payments_messaging::paypal_source(&certs, &identity, "/signing.pem");
    let routes: String = SOURCES
        .iter()
        .map(|(_, source)| {
            Route::new(source, &format!("sink_{source}"))
                .url(&target.url)
                .toml()
        })
        .collect();
    let app = spawn_app(&backend, &(sources.clone() + &routes)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new().with(&sources).write(&config);
    let expected: HashMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("expected.json")).unwrap(),
    )
    .unwrap();

    // (folder, fixture, event_id, body)
    let mut sent: Vec<(String, String, String, Vec<u8>)> = Vec::new();
    let mut handshakes = 0;
    for (folder, source) in SOURCES {
        let path = fixtures_dir().join(folder);
        let files: Vec<PathBuf> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| is_body_file(p))
            .collect();
        assert!(files.len() >= 3, "{folder} has at least three fixtures");
        let out = replay(
            &config,
            &[
                "--source",
                source,
                "--url",
                &app.base,
                path.to_str().unwrap(),
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{folder}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.lines().count(), files.len(), "{stdout}");
        for line in stdout.lines() {
            let cols: Vec<&str> = line.split('\t').collect();
            // 204 is Discord's acknowledgement; every other provider gets 200.
            assert!(cols[1] == "200" || cols[1] == "204", "{line}");
            let file = PathBuf::from(cols[0]);
            let name = file
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_end_matches(".json")
                .trim_end_matches(".form")
                .to_string();
            let key = format!("{folder}/{name}");
            let want = expected
                .get(&key)
                .unwrap_or_else(|| panic!("{key} in expected.json"));
            if cols[3] == "handshake" {
                assert!(want == "url_verification" || want == "handshake", "{key}");
                handshakes += 1;
                continue;
            }
            assert_eq!(cols[3], "new", "{line}");
            // A batch lists one event per element, with one type each.
            let ids: Vec<&str> = cols[2].split(',').collect();
            let types: Vec<&str> = want.split(',').collect();
            assert_eq!(ids.len(), types.len(), "{key}: one event per element");
            let fixture = std::fs::read(&file).unwrap();
            for (id, want) in ids.into_iter().zip(types) {
                let event = app.store.event(id).await.unwrap().expect("stored");
                assert_eq!(event.event_type, want, "{key}: event type");
                let body = if REWRITTEN_OR_SPLIT.contains(folder) {
                    if matches!(
                        *folder,
                        "sendgrid" | "xero" | "fastspring" | "okta" | "gocardless" | "line"
                    ) {
                        assert!(
                            fixture.windows(event.body.len()).any(|w| w == event.body),
                            "{key}: each event is an element's bytes"
                        );
                    }
                    event.body
                } else {
                    fixture.clone()
                };
                sent.push((folder.to_string(), key.clone(), id.to_string(), body));
            }
        }
    }
    assert!(
        handshakes >= 7,
        "Slack, Discord, Twitch, Zoom, Xero, monday.com and LINE handshake fixtures were answered as handshakes"
    );
    app.dispatch_until("every fixture delivered", || async {
        target.count() >= sent.len()
    })
    .await;
    let received: HashMap<String, Vec<u8>> = target
        .received()
        .into_iter()
        .map(|r| (r.header("webhook-id").to_string(), r.body.to_vec()))
        .collect();
    assert_eq!(target.count(), sent.len(), "each once");
    for (folder, key, event_id, body) in &sent {
        let got = received
            .get(event_id)
            .unwrap_or_else(|| panic!("{key} delivered"));
        assert!(
            delivered_as_sent(folder, body, got),
            "{key} arrived as sent: {}",
            String::from_utf8_lossy(got)
        );
    }
    println!(
        "fixtures: {} delivered byte-identical, {handshakes} handshake(s)",
        sent.len()
    );
    app.shutdown().await;
}

/// A config file for `hookgate replay` whose Stripe secret is not the
/// gateway's.
pub fn wrong_secret_config(dir: &Path) -> PathBuf {
    let wrong = dir.join("wrong.toml");
    std::fs::write(
        &wrong,
        TestConfig::new()
            .toml()
            .replace(STRIPE_SECRET, "whsec_not_the_gateways_secret"),
    )
    .unwrap();
    wrong
}

fn stripe_fixture() -> PathBuf {
    fixtures_dir().join("stripe/invoice.paid.json")
}

async fn replay_fails_on_a_refused_request(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = wrong_secret_config(dir.path());
    let file = stripe_fixture();
    let out = replay(
        &wrong,
        &[
            "--source",
            "stripe",
            "--url",
            &app.base,
            file.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success(), "a 401 makes replay fail");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\t401\t"));
    app.shutdown().await;
}

async fn replay_prints_curl_and_sends_nothing(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = wrong_secret_config(dir.path());
    let file = stripe_fixture();
    let out = replay(
        &wrong,
        &[
            "--source",
            "stripe",
            "--print-curl",
            "--url",
            &app.base,
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let curl = String::from_utf8_lossy(&out.stdout);
    assert!(curl.starts_with("curl -sS -X POST"), "{curl}");
    assert!(curl.contains("Stripe-Signature: t="), "{curl}");
    assert_eq!(
        app.store.counts().await.unwrap().events,
        0,
        "print-curl sends nothing"
    );
    app.shutdown().await;
}

async fn replay_count_sends_new_events_only_with_unique(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let dir = tempfile::tempdir().unwrap();
    let file = stripe_fixture();
    // --count with --unique: new events each time; without --unique: duplicates.
    let right = dir.path().join("right.toml");
    TestConfig::new().write(&right);
    let out = replay(
        &right,
        &[
            "--source",
            "stripe",
            "--unique",
            "--count",
            "3",
            "--url",
            &app.base,
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("\tnew")
            .count(),
        3
    );
    let out = replay(
        &right,
        &[
            "--source",
            "stripe",
            "--count",
            "2",
            "--url",
            &app.base,
            file.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        (
            stdout.matches("\tnew").count(),
            stdout.matches("\tduplicate").count()
        ),
        (1, 1),
        "{stdout}"
    );
    let body: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    app.shutdown().await;
}

async fn listen_prints_and_verifies(backend: Backend) {
    let ok = Listen::start(&["--secret", TARGET_SIGNING_SECRET]);
    let failing = Listen::start(&["--fail-rate", "1"]);
    let extra = routes(&[
        Route::new("stripe", "ok")
            .url(&ok.url)
            .signing_secret(TARGET_SIGNING_SECRET),
        Route::new("stripe", "failing")
            .url(&failing.url)
            .max_attempts(2),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let (_, json) = app
        .ingest("stripe", &stripe_event("evt_listen", "invoice.paid"), &[])
        .await;
    let event_id = json["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("both finished", || async {
        let d = app.store.deliveries_of(&event_id).await.unwrap();
        d.iter().all(|d| d.status != "pending")
    })
    .await;
    let statuses: HashMap<String, hookgate::store::DeliveryStatus> = app
        .store
        .deliveries_of(&event_id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.target, d.status))
        .collect();
    assert_eq!(statuses["ok"], "delivered");
    assert_eq!(statuses["failing"], "dead", "--fail-rate 1 answers 500");
    eventually("printed", || async {
        ok.printed().contains("signature: valid")
    })
    .await;
    let printed = ok.printed();
    assert!(
        printed.contains(&format!("webhook-id: {event_id}")),
        "{printed}"
    );
    assert!(
        printed.contains("\"type\": \"invoice.paid\""),
        "pretty JSON body: {printed}"
    );
    app.shutdown().await;
}

crate::backend_tests!(
    every_fixture_is_delivered_byte_identical,
    replay_fails_on_a_refused_request,
    replay_prints_curl_and_sends_nothing,
    replay_count_sends_new_events_only_with_unique,
    listen_prints_and_verifies,
);
