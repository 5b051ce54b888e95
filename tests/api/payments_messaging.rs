//! Providers III through HTTP where the shared test of the HMAC family does
//! not reach: batches split per element (Adyen's notification items,
//! GoCardless's, LINE's and Mandrill's events), Adyen's `[accepted]`, the handshakes
//! of Meta, Braintree, LINE and Mandrill (answered, never stored), Telnyx's
//! Ed25519 signature with its timestamp and PayPal's certificate, fetched
//! from an allowed host as SNS's is. SDK and documented vectors are
//! pinned in each provider's own file.

use serde_json::json;

use crate::helpers::*;
use crate::sns::{CertServer, SigningIdentity};
use crate::test_keys::*;

pub const PAYPAL_WEBHOOK_ID: &str = "1JE4291016473214C";

/// A `paypal` source trusting the test certificate server, signing with
/// `identity` whose certificate it serves at `cert_path`.
pub fn paypal_source(server: &CertServer, identity: &SigningIdentity, cert_path: &str) -> String {
    format!(
        "\n[[sources]]\nname = \"paypal\"\nprovider = \"paypal\"\nsecrets = [\"{PAYPAL_WEBHOOK_ID}\"]\n{}",
        paypal_keys(server, identity, cert_path)
    )
}

fn paypal_keys(server: &CertServer, identity: &SigningIdentity, cert_path: &str) -> String {
    format!(
        "paypal_cert_hosts = [\"127.0.0.1\"]\npaypal_ca_file = \"{}\"\npaypal_signing_cert_url = \"{}\"\nsigning_key = '''{}'''\n",
        server.ca_file.display(),
        server.url("127.0.0.1", cert_path),
        identity.private_pem,
    )
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(path),
    )
    .unwrap()
}

async fn post(app: &TestApp, source: &str, body: Vec<u8>, at: i64) -> Response {
    let (body, mut headers) = sign_at(app, source, &body, at);
    headers.push(("Content-Type".into(), "application/json".into()));
    send(app, "POST", &format!("/ingest/{source}"), body, &headers).await
}

async fn batches_are_stored_element_by_element(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let now = now_secs();
    let mut stored = 0;
    for (source, file, elements) in [
        ("gocardless", "gocardless/mandates_and_payments.json", 2),
        ("line", "line/follow_and_postback.json", 2),
        ("mandrill", "mandrill/open_and_click.form", 2),
    ] {
        let (body, headers) = sign_at(&app, source, &fixture(file), now);
        let path = format!("/ingest/{source}");
        let first = send(&app, "POST", &path, body.clone(), &headers).await;
        assert_eq!(first.status, 200, "{source}: {}", first.text);
        let first = first.json();
        assert_eq!(first["accepted"], json!(elements), "{source}: {first}");
        let again = send(&app, "POST", &path, body.clone(), &headers)
            .await
            .json();
        assert_eq!(again["duplicates"], json!(elements), "{source}: {again}");
        assert_eq!(
            again["events"][1]["event_id"],
            first["events"][1]["event_id"]
        );
        stored += elements;
        let mut forged = body.clone();
        let at = forged.iter().rposition(|b| b.is_ascii_digit()).unwrap();
        forged[at] = if forged[at] == b'1' { b'2' } else { b'1' };
        let refused = send(&app, "POST", &path, forged, &headers).await;
        assert_eq!(refused.status, 401, "{source}: {}", refused.text);
    }
    // Adyen: each item signed inside the body; answered `[accepted]`.
    let (body, headers) = sign_at(
        &app,
        "adyen",
        &fixture("adyen/capture_and_refund.json"),
        now,
    );
    let first = send(&app, "POST", "/ingest/adyen", body.clone(), &headers).await;
    assert_eq!((first.status, first.text.as_str()), (200, "[accepted]"));
    assert_eq!(first.header("x-hookgate-duplicate"), "false");
    let ids: Vec<String> = first
        .header("x-hookgate-event-id")
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 2);
    let refund = app.store.event(&ids[1]).await.unwrap().expect("stored");
    assert_eq!(refund.event_type, "REFUND");
    let again = send(&app, "POST", "/ingest/adyen", body.clone(), &headers).await;
    assert_eq!((again.status, again.text.as_str()), (200, "[accepted]"));
    assert_eq!(again.header("x-hookgate-duplicate"), "true");
    assert_eq!(again.header("x-hookgate-event-id"), ids.join(","));
    stored += 2;
    let text = String::from_utf8(body).unwrap();
    let forged = text.replacen("\"value\":500", "\"value\":5000", 1);
    assert_ne!(forged, text);
    let refused = send(&app, "POST", "/ingest/adyen", forged.into(), &headers).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(app.store.counts().await.unwrap().events, stored);
    app.shutdown().await;
}

async fn handshakes_are_answered_and_not_stored(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let get = |path: &'static str| send(&app, "GET", path, Vec::new(), &[]);
    let head = send(&app, "HEAD", "/ingest/mandrill", Vec::new(), &[]).await;
    assert_eq!(head.status, 200, "Mandrill checks the URL with HEAD");
    let meta = get("/ingest/meta?hub.mode=subscribe&hub.verify_token=meta-verify-token-26&hub.challenge=1158201444").await;
    assert_eq!((meta.status, meta.text.as_str()), (200, "1158201444"));
    assert!(meta.header("content-type").starts_with("text/plain"));
    let wrong = get("/ingest/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1").await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    let bt = get("/ingest/braintree?bt_challenge=20f9f8ed05f77439fe955c977e4c8a53").await;
    assert_eq!(bt.status, 200, "{}", bt.text);
    let (public, mac) = bt.text.split_once('|').unwrap();
    assert_eq!((public, mac.len()), ("bt_public_35", 40));
    let verify = post(&app, "line", fixture("line/verify.json"), now_secs()).await;
    assert_eq!(
        (verify.status, verify.json()),
        (200, json!({"status": "ok"}))
    );
    let unsigned = send(
        &app,
        "POST",
        "/ingest/line",
        fixture("line/verify.json"),
        &[],
    )
    .await;
    assert_eq!(unsigned.status, 401);
    // Other senders of this group never GET.
    assert_eq!(get("/ingest/telnyx").await.status, 405);
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    app.shutdown().await;
}

async fn telnyx_is_stored_once_and_refuses_forgeries_and_stale_timestamps(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let body = fixture("telnyx/message.received.json");
    let now = now_secs();
    let (signed, headers) = sign_at(&app, "telnyx", &body, now);
    let first = send(&app, "POST", "/ingest/telnyx", signed.clone(), &headers).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.json()["provider_event_id"],
        json!("b301ed3f-1490-491f-995f-6e64e69674d4")
    );
    let again = send(&app, "POST", "/ingest/telnyx", signed.clone(), &headers).await;
    assert_eq!(again.json()["duplicate"], json!(true));
    let forged = String::from_utf8(signed).unwrap().replace("Hello", "Hellp");
    let refused = send(&app, "POST", "/ingest/telnyx", forged.into(), &headers).await;
    assert_eq!(refused.status, 401);
    let stale = post(&app, "telnyx", body, now - 3600).await;
    assert_eq!(stale.status, 401);
    assert!(stale.json()["detail"]
        .as_str()
        .unwrap()
        .contains("tolerance"));
    assert_eq!(app.store.counts().await.unwrap().events, 1);
    app.shutdown().await;
}

async fn paypal_fetches_its_certificate_once_and_refuses_forgeries(backend: Backend) {
    let certs = CertServer::start().await;
    let identity = crate::sns::signing_identity(&certs);
    certs.serve("/paypal.pem", 200, identity.cert_pem.clone());
    let app = spawn_app(&backend, &paypal_source(&certs, &identity, "/paypal.pem")).await;
    let body = fixture("paypal/payment.capture.completed.json");
    let (body, headers) = sign_at(&app, "paypal", &body, now_secs());
    let first = send(&app, "POST", "/ingest/paypal", body.clone(), &headers).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.json()["provider_event_id"],
        json!("WH-2WR32451HC0233532-67976317FL4543714")
    );
    let again = send(&app, "POST", "/ingest/paypal", body.clone(), &headers).await;
    assert_eq!(again.json()["duplicate"], json!(true));
    assert_eq!(certs.hits("/paypal.pem"), 1, "fetched once, then cached");
    let forged = String::from_utf8(body.clone())
        .unwrap()
        .replace("7.47", "7.48");
    let refused = send(&app, "POST", "/ingest/paypal", forged.into(), &headers).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    // Signed for another webhook ID.
    let other = Signer::with_secret(
        "paypal",
        "WH-ID-OF-ANOTHER-WEBHOOK",
        &paypal_keys(&certs, &identity, "/paypal.pem"),
    );
    let (other_body, other_headers) =
        other.request(&fixture("paypal/checkout.order.approved.json"), now_secs());
    let refused = send(&app, "POST", "/ingest/paypal", other_body, &other_headers).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    // A certificate on a host that is not allowed is never fetched.
    let evil: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| match k.as_str() {
            "PAYPAL-CERT-URL" => (k.clone(), certs.url("localhost", "/paypal.pem")),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    let refused = send(&app, "POST", "/ingest/paypal", body, &evil).await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    assert_eq!(certs.hits("/paypal.pem"), 1);
    assert_eq!(app.store.counts().await.unwrap().events, 1);
    app.shutdown().await;
}

crate::backend_tests!(
    paypal_fetches_its_certificate_once_and_refuses_forgeries,
    batches_are_stored_element_by_element,
    handshakes_are_answered_and_not_stored,
    telnyx_is_stored_once_and_refuses_forgeries_and_stale_timestamps,
);
