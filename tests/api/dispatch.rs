//! The outbox dispatcher against real local targets: headers and bytes,
//! retries, dead letters, timeouts, routing globs, competing dispatchers.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

async fn delivery_status(app: &TestApp, event_id: &str) -> Vec<hookgate::store::DeliveryStatus> {
    app.store
        .deliveries_of(event_id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.status)
        .collect()
}

async fn fans_out_byte_identical_with_headers(backend: Backend) {
    let a = TestTarget::start().await;
    let b = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "billing")
            .url(&a.url)
            .signing_secret(TARGET_SIGNING_SECRET),
        Route::new("stripe", "audit")
            .url(&b.url)
            .header("Authorization", "Bearer audit-token"),
    ]);
    let app = spawn_app(&backend, &extra).await;
    // Bytes that a re-serializer would change: spacing, key order, unicode escapes.
    let body =
        "{\"type\":\"invoice.paid\",  \"id\":\"evt_bytes\",\n \"note\":\"caf\\u00e9 \u{1F600}\"}";
    let (status, json) = app.ingest("stripe", body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let event_id = json["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("both targets got the event", || async {
        a.count() == 1 && b.count() == 1
    })
    .await;

    for (target, signed) in [(&a, true), (&b, false)] {
        let got = &target.received()[0];
        assert_eq!(got.body.as_ref(), body.as_bytes(), "byte for byte");
        assert_eq!(got.header("webhook-id"), event_id);
        assert_eq!(got.header("idempotency-key"), event_id);
        assert_eq!(got.header("content-type"), "application/json");
        assert_eq!(got.header("x-hookgate-source"), "stripe");
        assert_eq!(got.header("x-hookgate-event-type"), "invoice.paid");
        assert_eq!(got.header("x-hookgate-provider-event-id"), "evt_bytes");
        assert_eq!(got.header("x-hookgate-attempt"), "1");
        assert_eq!(got.headers.contains_key("webhook-signature"), signed);
        if signed {
            // Verify as a target would, with the Standard Webhooks algorithm.
            let ts: i64 = got.header("webhook-timestamp").parse().unwrap();
            let expected = Signer::with_secret("standard-webhooks", TARGET_SIGNING_SECRET, "")
                .headers_as(body.as_bytes(), ts, &event_id);
            let expected = expected
                .iter()
                .find(|(k, _)| k == "webhook-signature")
                .map(|(_, v)| v.as_str());
            assert_eq!(Some(got.header("webhook-signature")), expected);
        } else {
            assert_eq!(got.header("authorization"), "Bearer audit-token");
        }
    }
    // The signer's published Standard Webhooks vector is pinned in
    // src/providers/standard.rs.
    assert_eq!(
        delivery_status(&app, &event_id).await,
        vec!["delivered", "delivered"]
    );
    // Nothing is sent twice.
    assert_eq!(app.dispatcher.run_once().await.unwrap(), 0);
    assert_eq!((a.count(), b.count()), (1, 1));
    app.shutdown().await;
}

async fn honours_retry_after_then_delivers(backend: Backend) {
    let busy = || Reply {
        status: 503,
        status_body: "busy",
        headers: vec![("Retry-After", "1")],
    };
    let target = TestTarget::scripted(vec![busy(), busy()], 200).await;
    let app = spawn_app(&backend, &Route::new("stripe", "t").url(&target.url).toml()).await;
    let (_, json) = app
        .ingest(
            "stripe",
            &stripe_event("evt_retry_after", "invoice.paid"),
            &[],
        )
        .await;
    let event_id = json["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("delivered after two 503s", || async {
        delivery_status(&app, &event_id).await == vec!["delivered"]
    })
    .await;
    let attempts = app.store.attempts_of(&event_id).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, vec!["retry", "retry", "delivered"]);
    assert_eq!(attempts[0].status_code, Some(503));
    assert_eq!(attempts[0].response_excerpt.as_deref(), Some("busy"));
    for pair in attempts.windows(2) {
        let gap = pair[1].started_at - pair[0].started_at;
        assert!(gap >= 990, "Retry-After: 1 honoured, gap was {gap} ms");
    }
    let seen: Vec<String> = target
        .received()
        .iter()
        .map(|r| r.header("x-hookgate-attempt").to_string())
        .collect();
    assert_eq!(seen, vec!["1", "2", "3"]);
    assert!(target
        .received()
        .iter()
        .all(|r| r.header("webhook-id") == event_id));
    app.shutdown().await;
}

async fn failing_target_ends_dead(backend: Backend) {
    let target = TestTarget::scripted(vec![], 500).await;
    let app = spawn_app(
        &backend,
        &Route::new("stripe", "t")
            .url(&target.url)
            .max_attempts(3)
            .toml(),
    )
    .await;
    let (_, json) = app
        .ingest("stripe", &stripe_event("evt_dead", "invoice.paid"), &[])
        .await;
    let event_id = json["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("dead after 3 attempts", || async {
        delivery_status(&app, &event_id).await == vec!["dead"]
    })
    .await;
    assert_eq!(target.count(), 3);
    let attempts = app.store.attempts_of(&event_id).await.unwrap();
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[2].outcome, "dead");
    assert_eq!(
        app.dispatcher.run_once().await.unwrap(),
        0,
        "a dead delivery is not sent again"
    );
    app.shutdown().await;
}

async fn slow_target_times_out(backend: Backend) {
    let target = TestTarget::start().await;
    target.set_delay(Duration::from_secs(3));
    let app = spawn_app(
        &backend,
        &Route::new("stripe", "t")
            .url(&target.url)
            .timeout_ms(200)
            .max_attempts(1)
            .toml(),
    )
    .await;
    let (_, json) = app
        .ingest("stripe", &stripe_event("evt_slow", "invoice.paid"), &[])
        .await;
    let event_id = json["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("the attempt timed out", || async {
        delivery_status(&app, &event_id).await == vec!["dead"]
    })
    .await;
    let attempts = app.store.attempts_of(&event_id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status_code, None);
    assert!(
        attempts[0].error.as_deref().unwrap().contains("timeout"),
        "{:?}",
        attempts[0].error
    );
    app.shutdown().await;
}

async fn globs_route_only_matching_events(backend: Backend) {
    let invoices = TestTarget::start().await;
    let everything = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "invoices")
            .url(&invoices.url)
            .types(&["invoice.*", "customer.subscription.*"]),
        Route::new("stripe", "everything").url(&everything.url),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let cases = [
        ("evt_g1", "invoice.paid", 2),
        ("evt_g2", "customer.subscription.updated", 2),
        ("evt_g3", "charge.refunded", 1),
        ("evt_g4", "invoicex.paid", 1),
    ];
    for (id, event_type, expected) in cases {
        let (_, json) = app
            .ingest("stripe", &stripe_event(id, event_type), &[])
            .await;
        assert_eq!(json["deliveries"], json!(expected), "{event_type}");
    }
    app.dispatch_until("all delivered", || async {
        everything.count() == 4 && invoices.count() == 2
    })
    .await;
    let types: HashSet<String> = invoices
        .received()
        .iter()
        .map(|r| r.header("x-hookgate-event-type").to_string())
        .collect();
    assert_eq!(
        types,
        HashSet::from([
            "invoice.paid".to_string(),
            "customer.subscription.updated".to_string()
        ])
    );
    app.shutdown().await;
}

async fn competing_dispatchers_send_once(backend: Backend) {
    let a = TestTarget::start().await;
    let b = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "a").url(&a.url).max_in_flight(8),
        Route::new("stripe", "b").url(&b.url).max_in_flight(8),
    ]);
    let app = Arc::new(spawn_app(&backend, &extra).await);
    let mut tasks = Vec::new();
    for chunk in 0..10 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50 {
                let (status, _) = app
                    .ingest(
                        "stripe",
                        &stripe_event(&format!("evt_race_{chunk}_{i}"), "invoice.paid"),
                        &[],
                    )
                    .await;
                assert_eq!(status, StatusCode::OK);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stop = CancellationToken::new();
    let mut runs = Vec::new();
    for _ in 0..2 {
        runs.push(tokio::spawn(app.another_dispatcher().run(stop.clone())));
    }
    eventually("500 deliveries at each target", || async {
        a.count() >= 500 && b.count() >= 500
    })
    .await;
    // Let any stray second send surface before counting.
    let counts = app.store.counts().await.unwrap();
    assert_eq!(counts.events, 500);
    stop.cancel();
    for r in runs {
        r.await.unwrap();
    }
    for target in [&a, &b] {
        let ids = target.webhook_ids();
        let unique: HashSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), 500, "each delivery sent once");
        assert_eq!(unique.len(), 500);
    }
}

crate::backend_tests!(
    fans_out_byte_identical_with_headers,
    honours_retry_after_then_delivers,
    failing_target_ends_dead,
    slow_target_times_out,
    globs_route_only_matching_events,
    competing_dispatchers_send_once,
);
