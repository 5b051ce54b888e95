//! The HMAC family, basic-auth and header-token through HTTP: for every
//! such test source, its first fixture signed as the provider signs it is
//! stored once (a resend of the same request is a duplicate of the same
//! event), and the same request with a tampered body or signed with another
//! secret is a 401 that stores nothing. Published and SDK vectors are pinned
//! in each provider's own file.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// Fixture folder of a test source (named after its provider, except these).
fn folder_of(source: &str) -> &str {
    match source {
        "postmark" => "basic-auth",
        "tokened" => "header-token",
        "forgejo" => "gitea",
        other => other,
    }
}

fn first_fixture(folder: &str) -> (Vec<u8>, Vec<(String, String)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.to_string_lossy();
            (n.ends_with(".json") && !n.ends_with(".headers.json")) || n.ends_with(".form")
        })
        .collect();
    files.sort();
    let file = &files[0];
    let stem = file.file_stem().unwrap().to_string_lossy().to_string();
    let headers: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{stem}.headers.json"))).unwrap(),
    )
    .unwrap();
    let headers = headers
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect();
    (std::fs::read(file).unwrap(), headers)
}

/// The stored events an answer lists: a batch's `events`, else the answer.
fn elements(answer: &serde_json::Value) -> Vec<serde_json::Value> {
    match answer["events"].as_array() {
        Some(events) => events.clone(),
        None => vec![answer.clone()],
    }
}

/// One byte of the body changed: the last letter or digit.
fn tampered(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    let i = out.iter().rposition(|b| b.is_ascii_alphanumeric()).unwrap();
    out[i] = if out[i] == b'x' { b'y' } else { b'x' };
    out
}

async fn each_provider_stores_once_and_refuses_forgeries(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let now = now_secs();
    let mut stored = 0;
    for (i, (source, provider, _, keys)) in MORE_SOURCES.iter().enumerate() {
        let path = format!("/ingest/{source}");
        let (fixture, extra) = first_fixture(folder_of(source));
        let delivery = format!("dup-{i}-{:08x}", rand::random::<u32>());
        let (body, signed) = app.signer(source).request_as(&fixture, now, &delivery);
        let headers: Vec<(String, String)> = extra.iter().cloned().chain(signed).collect();

        let (status, first, _) = app.post_raw(&path, body.clone(), &headers).await;
        assert_eq!(status, StatusCode::OK, "{source}: {first}");
        let (status, again, _) = app.post_raw(&path, body.clone(), &headers).await;
        assert_eq!(status, StatusCode::OK, "{source}: {again}");
        // A batch (Xero, FastSpring, Okta) answers per element.
        let (first, again) = (elements(&first), elements(&again));
        for (first, again) in first.iter().zip(&again) {
            assert_eq!(first["duplicate"], json!(false), "{source}");
            assert_eq!(
                again["duplicate"],
                json!(true),
                "{source}: the resend is a duplicate"
            );
            assert_eq!(again["event_id"], first["event_id"], "{source}");
            assert_eq!(
                again["provider_event_id"], first["provider_event_id"],
                "{source}"
            );
        }
        assert_eq!(first.len(), again.len(), "{source}");
        stored += first.len() as i64;

        // Mailgun signs only the timestamp and token inside the body (its
        // forged-token case is in the provider's own tests), Mercado Pago
        // only `data.id` and its headers (see its tests); basic-auth,
        // header-token, Okta and Telegram carry credentials, monday.com a
        // token that does not cover the body, not a signature of the body.
        if !matches!(
            *source,
            "mailgun" | "postmark" | "tokened" | "okta" | "monday" | "mercado-pago" | "telegram"
        ) {
            let (status, json, _) = app.post_raw(&path, tampered(&body), &headers).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{source} tampered: {json}"
            );
        }
        let other = match *source {
            "postmark" => "postmark:wrong-password",
            // Their secrets are base64, as the sender shows them.
            "airtable" | "microsoft-teams" => "bm90LXRoZS1zZWNyZXQ=",
            "braintree" => "bt_public_35:not-the-private-key",
            _ => "whsec_bm90LXRoZS1zZWNyZXQ=",
        };
        let (body, signed) = Signer::with_secret(provider, other, keys).request_as(
            &fixture,
            now,
            &format!("{delivery}-x"),
        );
        let headers: Vec<(String, String)> = extra.iter().cloned().chain(signed).collect();
        let (status, json, _) = app.post_raw(&path, body, &headers).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{source} wrong secret: {json}"
        );
        let text = json.to_string();
        assert!(
            MORE_SOURCES.iter().all(|(_, _, s, _)| !text.contains(s)),
            "{text}"
        );
    }
    assert_eq!(app.store.counts().await.unwrap().events, stored);
    app.shutdown().await;
}

async fn a_stale_timestamp_is_refused_where_the_scheme_signs_one(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let stale = now_secs() - 3600;
    for source in [
        "paddle",
        "linear",
        "hubspot",
        "calendly",
        "mux",
        "recurly",
        "messagebird",
        "buildkite",
        "customer-io",
        "webflow",
        "ghost",
        "sanity",
        "box",
        "hygraph",
        "contentful",
    ] {
        let (fixture, extra) = first_fixture(source);
        let (body, signed) = app.signer(source).request(&fixture, stale);
        let headers: Vec<(String, String)> = extra.into_iter().chain(signed).collect();
        let (status, json, _) = app
            .post_raw(&format!("/ingest/{source}"), body, &headers)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{source}: {json}");
        assert!(
            json["detail"].as_str().unwrap().contains("tolerance"),
            "{source}: {json}"
        );
    }
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    app.shutdown().await;
}

async fn a_retried_hubspot_batch_is_never_delivered_twice(backend: Backend) {
    let target = TestTarget::start().await;
    let app = spawn_app(
        &backend,
        &Route::new("hubspot", "crm").url(&target.url).toml(),
    )
    .await;
    let batch = r#"[{"eventId":7001,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":1},{"eventId":7002,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":2}]"#;
    let (status, first) = app.ingest("hubspot", batch, &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["deliveries"], json!(1));
    // HubSpot's retry carries a new attemptNumber: same ID, other bytes.
    let retry = batch.replace("\"attemptNumber\":0", "\"attemptNumber\":1");
    let (status, json) = app.ingest("hubspot", &retry, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
    assert_eq!(json["event_id"], first["event_id"]);
    let (status, json) = app.ingest("hubspot", batch, &[]).await;
    assert_eq!(
        (status, json["duplicate"].clone()),
        (StatusCode::OK, json!(true))
    );
    app.dispatch_until("the batch delivered", || async { target.count() >= 1 })
        .await;
    assert_eq!(target.count(), 1);
    assert_eq!(&target.received()[0].body[..], batch.as_bytes());
    app.shutdown().await;
}

async fn handshakes_of_unsigned_senders(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    // WooCommerce's creation ping: answered, not stored.
    let (status, json, _) = app
        .post_raw(
            "/ingest/woocommerce",
            "webhook_id=12",
            &[(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
        )
        .await;
    assert_eq!((status, json), (StatusCode::OK, json!({"status": "ok"})));
    // basic-auth answers an authenticated GET (URL checks such as
    // Mailchimp's) and refuses an anonymous one.
    let url = format!("{}/ingest/postmark", app.base);
    let resp = app
        .client
        .get(&url)
        .basic_auth("postmark", Some("test-password-24"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    // The header-token's token is never stored with the event.
    let body = r#"{"id":"evt_secret_check","type":"build.finished"}"#;
    let (status, json) = app.ingest("tokened", body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let event = app
        .store
        .event(json["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !event.headers.contains("header-token-25"),
        "{}",
        event.headers
    );
    assert!(!event
        .headers
        .to_ascii_lowercase()
        .contains("x-webhook-token"));
    assert_eq!(app.store.counts().await.unwrap().events, 1);
    app.shutdown().await;
}

crate::backend_tests!(
    each_provider_stores_once_and_refuses_forgeries,
    a_stale_timestamp_is_refused_where_the_scheme_signs_one,
    a_retried_hubspot_batch_is_never_delivered_twice,
    handshakes_of_unsigned_senders,
);
