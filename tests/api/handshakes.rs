//! Senders that must be answered before they deliver anything, through
//! HTTP: Twitch's challenge (text/plain), Zoom's URL validation, Dropbox's
//! GET challenge (text/plain, nosniff), Microsoft Graph's validation token;
//! and, for each, events stored, deduplicated and refused when forged.

use serde_json::json;

use crate::helpers::*;
use crate::test_keys::*;

fn twitch_headers(kind: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Twitch-Eventsub-Message-Type", kind.to_string()),
        ("Twitch-Eventsub-Subscription-Type", "channel.follow".into()),
    ]
}

async fn twitch(app: &TestApp, kind: &str, body: &str, at: i64) -> Response {
    let extra = twitch_headers(kind);
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    deliver_at(app, "twitch", body, at, &extra).await
}

const TWITCH_CHALLENGE: &str = r#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"s1","type":"channel.follow","version":"2"}}"#;
const TWITCH_FOLLOW: &str = r#"{"subscription":{"id":"s1","type":"channel.follow","version":"2"},"event":{"user_id":"1234","broadcaster_user_id":"1337"}}"#;

async fn twitch_challenge_is_answered_raw_and_not_stored(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let challenge = TWITCH_CHALLENGE;
    let answer = twitch(&app, "webhook_callback_verification", challenge, now_secs()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.text, "pogchamp-kappa-360noscope-vohiyo",
        "the raw challenge"
    );
    assert!(answer.header("content-type").starts_with("text/plain"));
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    app.shutdown().await;
}

async fn twitch_notifications_are_stored_once(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let follow = TWITCH_FOLLOW;
    let (_, headers) = sign_at(&app, "twitch", follow.as_bytes(), now_secs());
    let mut headers = headers;
    headers.push(("Twitch-Eventsub-Message-Type".into(), "notification".into()));
    let first = send(&app, "POST", "/ingest/twitch", follow.into(), &headers)
        .await
        .json();
    let message_id = &headers
        .iter()
        .find(|(k, _)| k == "Twitch-Eventsub-Message-Id")
        .unwrap()
        .1;
    assert_eq!(first["provider_event_id"], json!(message_id));
    assert_eq!(first["duplicate"], false);
    // Twitch resends with the same message ID: a duplicate.
    let again = send(&app, "POST", "/ingest/twitch", follow.into(), &headers)
        .await
        .json();
    assert_eq!(
        (again["duplicate"].clone(), again["event_id"].clone()),
        (json!(true), first["event_id"].clone())
    );
    let stored = app
        .store
        .event(first["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type, "channel.follow");
    app.shutdown().await;
}

async fn twitch_revocations_are_stored_as_revocation_events(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let revoked = r#"{"subscription":{"id":"s1","type":"channel.follow","version":"2","status":"authorization_revoked"}}"#;
    let answer = twitch(&app, "revocation", revoked, now_secs()).await.json();
    let stored = app
        .store
        .event(answer["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.event_type, "revocation.channel.follow");
    app.shutdown().await;
}

async fn twitch_forged_tampered_and_stale_messages_are_refused(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let (challenge, follow) = (TWITCH_CHALLENGE, TWITCH_FOLLOW);
    // Challenges included.
    let (_, mut headers) = sign_at(&app, "twitch", follow.as_bytes(), now_secs());
    headers.push(("Twitch-Eventsub-Message-Type".into(), "notification".into()));
    let tampered = follow.replace("1234", "4321");
    assert_eq!(
        send(&app, "POST", "/ingest/twitch", tampered.into(), &headers)
            .await
            .status,
        401
    );
    let mut forged = headers.clone();
    for (k, v) in forged.iter_mut() {
        if k == "Twitch-Eventsub-Message-Signature" {
            *v = format!("sha256={}", "0".repeat(64));
        }
    }
    assert_eq!(
        send(&app, "POST", "/ingest/twitch", follow.into(), &forged)
            .await
            .status,
        401
    );
    assert_eq!(
        twitch(&app, "notification", follow, now_secs() - 601)
            .await
            .status,
        401
    );
    assert_eq!(
        twitch(
            &app,
            "webhook_callback_verification",
            challenge,
            now_secs() - 601
        )
        .await
        .status,
        401
    );
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    app.shutdown().await;
}

async fn zoom_url_validation_and_events(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let validation = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let answer = deliver(&app, "zoom", validation, &[]).await;
    assert_eq!(answer.status, 200);
    // Computed here as Zoom documents it, independently of the gateway's code.
    let expected = {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(ZOOM_SECRET.as_bytes()).unwrap();
        mac.update(b"qgg8vlvZRS6UYooatFL8Aw");
        hex::encode(mac.finalize().into_bytes())
    };
    assert_eq!(
        answer.json(),
        json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected})
    );
    assert_eq!(app.store.counts().await.unwrap().events, 0);

    let started = r#"{"event":"meeting.started","event_ts":1795190400123,"payload":{"account_id":"AAbb","object":{"id":"83920175564","topic":"Sync"}}}"#;
    let first = deliver(&app, "zoom", started, &[]).await.json();
    assert_eq!(first["duplicate"], false);
    // Zoom's retry resends the same body: the body's hash is the event ID.
    let again = deliver(&app, "zoom", started, &[]).await.json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["event_id"], first["event_id"]);
    let id = first["provider_event_id"].as_str().unwrap();
    assert_eq!(id.len(), 64);

    let (_, headers) = sign_at(&app, "zoom", started.as_bytes(), now_secs());
    let tampered = started.replace("Sync", "Cync");
    assert_eq!(
        send(&app, "POST", "/ingest/zoom", tampered.into(), &headers)
            .await
            .status,
        401
    );
    let wrong = vec![
        (
            "x-zm-signature".to_string(),
            format!("v0={}", "ab".repeat(32)),
        ),
        headers[1].clone(),
    ];
    assert_eq!(
        send(&app, "POST", "/ingest/zoom", validation.into(), &wrong)
            .await
            .status,
        401
    );
    assert_eq!(
        deliver_at(&app, "zoom", started, now_secs() - 301, &[])
            .await
            .status,
        401
    );
    app.shutdown().await;
}

async fn dropbox_get_challenge_and_signed_notifications(backend: Backend) {
    let app = spawn_app(&backend, &sources()).await;
    let answer = send(
        &app,
        "GET",
        "/ingest/dropbox?challenge=<b>hi%20there</b>",
        vec![],
        &[],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "<b>hi there</b>");
    assert!(answer.header("content-type").starts_with("text/plain"));
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    let missing = send(&app, "GET", "/ingest/dropbox", vec![], &[]).await;
    assert_eq!(missing.status, 400);
    // Providers without GET handshakes refuse GET.
    assert_eq!(
        send(&app, "GET", "/ingest/zoom?challenge=x", vec![], &[])
            .await
            .status,
        405
    );

    let body = r#"{"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}, "delta": {"users": [4245623]}}"#;
    // A resend within the same minute is a duplicate; should the two land
    // on both sides of a minute boundary, the pair is tried again.
    let mut tries = 0;
    loop {
        tries += 1;
        let first = deliver(&app, "dropbox", body, &[]).await.json();
        let again = deliver(&app, "dropbox", body, &[]).await.json();
        if first["provider_event_id"] == again["provider_event_id"] {
            assert_eq!(again["duplicate"], true);
            assert_eq!(again["event_id"], first["event_id"]);
            let id = first["provider_event_id"].as_str().unwrap();
            assert!(id.contains('@'), "{id}");
            break;
        }
        assert!(tries < 3, "two resends kept straddling minute boundaries");
    }
    let (_, headers) = sign_at(&app, "dropbox", body.as_bytes(), now_secs());
    let tampered = body.replace("4245623", "4245624");
    assert_eq!(
        send(&app, "POST", "/ingest/dropbox", tampered.into(), &headers)
            .await
            .status,
        401
    );
    let wrong = vec![("X-Dropbox-Signature".to_string(), "00".repeat(32))];
    assert_eq!(
        send(&app, "POST", "/ingest/dropbox", body.into(), &wrong)
            .await
            .status,
        401
    );
    app.shutdown().await;
}

async fn graph_validation_and_client_state(backend: Backend) {
    let target = TestTarget::start().await;
    let routes = Route::new("graph", "mail")
        .url(&target.url)
        .types(&["created"])
        .toml();
    let app = spawn_app(&backend, &(sources() + &routes)).await;
    for method in ["POST", "GET"] {
        let answer = send(
            &app,
            method,
            "/ingest/graph?validationToken=Validation%3A%20Testing%20client%20application",
            vec![],
            &[("Content-Type".into(), "text/plain; charset=utf-8".into())],
        )
        .await;
        assert_eq!(answer.status, 200, "{method}");
        assert_eq!(answer.text, "Validation: Testing client application");
        assert!(answer.header("content-type").starts_with("text/plain"));
    }
    let created = format!(
        r#"{{"subscriptionId":"sub-1","changeType":"created","clientState":"{GRAPH_CLIENT_STATE}","resource":"Users/u/Messages/m1","resourceData":{{"id":"m1"}}}}"#
    );
    let updated = format!(
        r#"{{"subscriptionId":"sub-1","changeType":"updated","clientState":"{GRAPH_CLIENT_STATE}","resource":"Users/u/Messages/m2","resourceData":{{"id":"m2"}}}}"#
    );
    let body = format!("{{\"value\":[{created},{updated}]}}");
    let post = |body: String| {
        let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        let app = &app;
        async move { send(app, "POST", "/ingest/graph", body.into_bytes(), &headers).await }
    };
    let first = post(body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let first = first.json();
    assert_eq!(first["accepted"], 2);
    assert_eq!(first["events"][0]["deliveries"], 1);
    assert_eq!(first["events"][1]["deliveries"], 0);
    let again = post(body.clone()).await.json();
    assert_eq!(again["duplicates"], 2);

    let forged = body.replace(GRAPH_CLIENT_STATE, "guessed-state");
    assert_eq!(post(forged).await.status, 401);
    let one_forged = format!(
        "{{\"value\":[{created},{}]}}",
        updated.replace(GRAPH_CLIENT_STATE, "x")
    );
    assert_eq!(post(one_forged).await.status, 401);
    assert_eq!(app.store.counts().await.unwrap().events, 2);

    app.dispatch_until("delivered", || async { target.count() >= 1 })
        .await;
    assert_eq!(target.received()[0].body.as_ref(), created.as_bytes());
    app.shutdown().await;
}

crate::backend_tests!(
    twitch_challenge_is_answered_raw_and_not_stored,
    twitch_notifications_are_stored_once,
    twitch_revocations_are_stored_as_revocation_events,
    twitch_forged_tampered_and_stale_messages_are_refused,
    zoom_url_validation_and_events,
    dropbox_get_challenge_and_signed_notifications,
    graph_validation_and_client_state,
);
