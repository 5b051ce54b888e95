//! `POST /ingest/{source}`: every status code of SPEC, deduplication and
//! atomic check-and-reserve.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use hookgate::store::IngestOutcome;

use crate::helpers::*;

fn routed_to(url: &str) -> String {
    routes(&[
        Route::new("stripe", "billing").url(url),
        Route::new("stripe", "audit").url(url),
    ])
}

async fn accepts_and_deduplicates(backend: Backend) {
    let app = spawn_app(&backend, &routed_to("http://127.0.0.1:9/x")).await;
    let body = stripe_event("evt_1NdupA", "invoice.paid");
    let (status, first) = app.ingest("stripe", &body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["duplicate"], json!(false));
    assert_eq!(first["deliveries"], json!(2));
    assert_eq!(first["provider_event_id"], json!("evt_1NdupA"));
    let event_id = first["event_id"].as_str().unwrap().to_string();
    assert!(event_id.starts_with("evt_"));

    // A resend (freshly signed, as Stripe's retries are) is the same event.
    let (status, again) = app.ingest("stripe", &body, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], json!(true));
    assert_eq!(again["event_id"], json!(event_id));
    assert_eq!(again["deliveries"], json!(2));
    let counts = app.store.counts().await.unwrap();
    assert_eq!((counts.events, counts.deliveries), (1, 2));
    app.shutdown().await;
}

async fn same_id_with_another_body_is_a_recorded_conflict(backend: Backend) {
    let app = spawn_app(&backend, &routed_to("http://127.0.0.1:9/x")).await;
    let body = stripe_event("evt_1NdupA", "invoice.paid");
    let (status, first) = app.ingest("stripe", &body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let event_id = first["event_id"].as_str().unwrap().to_string();
    // Same ID, other body: 409, recorded, nothing delivered.
    let other = stripe_event("evt_1NdupA", "invoice.voided");
    let (status, conflict) = app.ingest("stripe", &other, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(conflict["error"], json!("conflict"));
    assert_eq!(conflict["event_id"], json!(event_id));
    let counts = app.store.counts().await.unwrap();
    assert_eq!(
        (counts.events, counts.deliveries, counts.conflicts),
        (1, 2, 1)
    );
    app.shutdown().await;
}

/// `body` signed as Stripe would with `secret` at `t` (seconds).
fn stripe_signed(body: &str, secret: &str, t: i64) -> Vec<(String, String)> {
    Signer::with_secret("stripe", secret, "").headers(body.as_bytes(), t)
}

async fn wrong_missing_or_stale_signatures_are_401_without_hints(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = stripe_event("evt_sig", "charge.refunded");
    let now = now_secs();
    for headers in [
        stripe_signed(&body, "whsec_wrong", now),
        vec![],
        stripe_signed(&body, STRIPE_SECRET, now - 301),
    ] {
        let (status, json, _) = app.post_raw("/ingest/stripe", body.clone(), &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
        assert_eq!(json["error"], json!("unauthorized"));
        let text = json.to_string();
        assert!(ALL_SECRETS.iter().all(|s| !text.contains(s)), "{text}");
    }
    app.shutdown().await;
}

async fn a_tampered_body_is_401(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = stripe_event("evt_sig", "charge.refunded");
    let headers = stripe_signed(&body, STRIPE_SECRET, now_secs());
    let tampered = body.replace("charge.refunded", "charge.refundeD");
    let (status, _, _) = app.post_raw("/ingest/stripe", tampered, &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.shutdown().await;
}

async fn a_rotated_out_secret_and_a_future_stripe_timestamp_verify(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let body = stripe_event("evt_sig", "charge.refunded");
    // Stripe refuses only stale timestamps.
    let headers = stripe_signed(&body, STRIPE_OLD_SECRET, now_secs() + 600);
    let (status, json, _) = app.post_raw("/ingest/stripe", body, &headers).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    app.shutdown().await;
}

async fn standard_webhooks_refuses_future_timestamps(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let now = now_secs();
    let svix_body = r#"{"type":"user.created","data":{}}"#;
    let svix = app.signer("svix");
    // Beyond the 300 s tolerance with room for the clock to tick meanwhile.
    let future = svix.headers_as(svix_body.as_bytes(), now + 330, "msg_future");
    let (status, json, _) = app.post_raw("/ingest/svix", svix_body, &future).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{json}");
    let fine = svix.headers_as(svix_body.as_bytes(), now, "msg_now");
    let (status, json, _) = app.post_raw("/ingest/svix", svix_body, &fine).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["provider_event_id"], json!("msg_now"));
    app.shutdown().await;
}

async fn an_unreadable_provider_event_id_is_400_naming_the_header(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    // GitHub without X-GitHub-Delivery: signature fine, ID unreadable.
    let body = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let mut headers = app.signed_headers("github", body.as_bytes(), &[("X-GitHub-Event", "ping")]);
    headers.retain(|(k, _)| k != "X-GitHub-Delivery");
    let (status, json, _) = app.post_raw("/ingest/github", body, &headers).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["error"], json!("bad_request"));
    assert!(
        json["detail"]
            .as_str()
            .unwrap()
            .contains("X-GitHub-Delivery".to_ascii_lowercase().as_str()),
        "{json}"
    );
    app.shutdown().await;
}

async fn a_signed_body_that_is_not_json_is_400(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (status, json) = app.ingest("stripe", "not json", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    app.shutdown().await;
}

async fn an_unknown_source_is_404(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (status, json, _) = app.post_raw("/ingest/nope", "{}", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json["error"], json!("not_found"));
    app.shutdown().await;
}

async fn bodies_over_the_limit_are_413_and_at_the_limit_accepted(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    // One byte over the limit: 413 and nothing stored; exactly at the limit: accepted.
    let pad = |len: usize| {
        let head = "{\"id\":\"evt_big\",\"type\":\"big.event\",\"pad\":\"";
        let tail = "\"}";
        format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
    };
    let (status, json) = app.ingest("stripe", &pad(MAX_BODY + 1), &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{json}");
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    let (status, json) = app.ingest("stripe", &pad(MAX_BODY), &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(app.store.counts().await.unwrap().events, 1);
    app.shutdown().await;
}

async fn every_provider_ingests(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "github",
            r#"{"action":"opened","number":7}"#.into(),
            vec![("X-GitHub-Event", "pull_request")],
            "pull_request.opened",
        ),
        (
            "svix",
            r#"{"type":"invoice.paid","data":{}}"#.into(),
            vec![],
            "invoice.paid",
        ),
        (
            "shopify",
            r#"{"id":450789469}"#.into(),
            vec![("X-Shopify-Topic", "orders/create")],
            "orders/create",
        ),
        (
            "slack",
            r#"{"type":"event_callback","event_id":"Ev0PV52K21","event":{"type":"app_mention"}}"#
                .into(),
            vec![],
            "app_mention",
        ),
        (
            "gitlab",
            r#"{"object_kind":"push","ref":"refs/heads/main"}"#.into(),
            vec![("X-Gitlab-Event", "Push Hook")],
            "push",
        ),
        (
            "acme",
            r#"{"id":"acme_1","type":"order.created"}"#.into(),
            vec![],
            "order.created",
        ),
    ];
    let mut gitlab_id = String::new();
    for (source, body, extra, expected_type) in cases {
        let (status, json) = app.ingest(source, &body, &extra).await;
        assert_eq!(status, StatusCode::OK, "{source}: {json}");
        assert_eq!(json["duplicate"], json!(false), "{source}");
        let id = json["event_id"].as_str().unwrap().to_string();
        if source == "gitlab" {
            gitlab_id = id.clone();
        }
        let stored_type = event_type_of(&app, &id).await;
        assert_eq!(stored_type, expected_type, "{source}");
    }
    // The GitLab token is a secret: it is not stored with the headers.
    let headers = app.store.event(&gitlab_id).await.unwrap().unwrap().headers;
    assert!(!headers.contains(GITLAB_SECRET), "{headers}");
    assert!(
        headers.to_ascii_lowercase().contains("x-gitlab-event"),
        "{headers}"
    );

    // Slack's url_verification is answered and not stored.
    let before = app.store.counts().await.unwrap().events;
    let (status, json) = app
        .ingest("slack", r#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        json,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    assert_eq!(app.store.counts().await.unwrap().events, before);
    app.shutdown().await;
}

async fn other_methods_are_405_with_a_json_body(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    for method in ["GET", "PUT", "DELETE"] {
        let resp = app
            .client
            .request(
                method.parse().unwrap(),
                format!("{}/ingest/stripe?challenge=x", app.base),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method}");
        assert_eq!(resp.headers()["allow"], "POST", "{method}");
        let json: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(json["error"], json!("method_not_allowed"), "{method}");
    }
    // An unknown source is still a 404, whatever the method.
    assert_eq!(app.get("/ingest/nope").await.status().as_u16(), 404);
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    app.shutdown().await;
}

async fn event_type_of(app: &TestApp, event_id: &str) -> String {
    app.store
        .event(event_id)
        .await
        .unwrap()
        .expect("stored")
        .event_type
}

async fn concurrent_copies_store_once(backend: Backend) {
    let app = Arc::new(spawn_app(&backend, &routed_to("http://127.0.0.1:9/x")).await);
    let body = stripe_event("evt_concurrent_32", "invoice.paid");
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let app = app.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            app.ingest("stripe", &body, &[]).await
        }));
    }
    let mut fresh = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, json) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{json}");
        if json["duplicate"] == json!(false) {
            fresh += 1;
        }
        ids.insert(json["event_id"].as_str().unwrap().to_string());
    }
    assert_eq!(fresh, 1, "exactly one copy is new");
    assert_eq!(ids.len(), 1, "every copy names the same event");
    let counts = app.store.counts().await.unwrap();
    assert_eq!((counts.events, counts.deliveries), (1, 2));
}

async fn store_down_answers_503(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (status, _) = app
        .ingest("stripe", &stripe_event("evt_before", "a.b"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.store.close().await;
    let headers = app.signed_headers("stripe", stripe_event("evt_after", "a.b").as_bytes(), &[]);
    let (status, json, resp_headers) = app
        .post_raw("/ingest/stripe", stripe_event("evt_after", "a.b"), &headers)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_eq!(json["error"], json!("unavailable"));
    assert!(resp_headers.contains_key("retry-after"));
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

async fn batch_ingest_decides_each_event(backend: Backend) {
    let app = spawn_app(&backend, &routed_to("http://127.0.0.1:9/x")).await;
    let now = now_ms();
    let a = app.verified_stripe_event(&stripe_event("evt_batch_a", "invoice.paid"), now);
    let b = app.verified_stripe_event(&stripe_event("evt_batch_b", "invoice.paid"), now);
    let a_again = app.verified_stripe_event(&stripe_event("evt_batch_a", "invoice.paid"), now);
    let a_changed = app.verified_stripe_event(&stripe_event("evt_batch_a", "invoice.voided"), now);
    let outcomes = app
        .store
        .ingest_batch(&[a.clone(), b.clone(), a_again, a_changed])
        .await
        .unwrap();
    let a_id = a.id.to_string();
    assert_eq!(
        outcomes[0],
        IngestOutcome::Accepted {
            event_id: a_id.clone(),
            deliveries: 2
        }
    );
    assert_eq!(
        outcomes[1],
        IngestOutcome::Accepted {
            event_id: b.id.to_string(),
            deliveries: 2
        }
    );
    assert_eq!(
        outcomes[2],
        IngestOutcome::Duplicate {
            event_id: a_id.clone(),
            deliveries: 2
        }
    );
    assert!(matches!(&outcomes[3], IngestOutcome::Conflict { event_id, .. } if *event_id == a_id));
    let counts = app.store.counts().await.unwrap();
    assert_eq!(
        (counts.events, counts.deliveries, counts.conflicts),
        (2, 4, 1)
    );
    app.shutdown().await;
}

crate::backend_tests!(
    batch_ingest_decides_each_event,
    accepts_and_deduplicates,
    same_id_with_another_body_is_a_recorded_conflict,
    wrong_missing_or_stale_signatures_are_401_without_hints,
    a_tampered_body_is_401,
    a_rotated_out_secret_and_a_future_stripe_timestamp_verify,
    standard_webhooks_refuses_future_timestamps,
    an_unreadable_provider_event_id_is_400_naming_the_header,
    a_signed_body_that_is_not_json_is_400,
    an_unknown_source_is_404,
    bodies_over_the_limit_are_413_and_at_the_limit_accepted,
    every_provider_ingests,
    concurrent_copies_store_once,
    store_down_answers_503,
    other_methods_are_405_with_a_json_body,
);
