//! The admin API, health and metrics, retention.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["event_id"].as_str().unwrap().to_string())
        .collect()
}

async fn token_is_required(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let url = format!("{}/admin/v1/events", app.base);
    let none = app.client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = serde_json::from_str(&none.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], json!("unauthorized"));
    let wrong = app
        .client
        .get(&url)
        .header("Authorization", "Bearer nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let (status, _) = app.admin("GET", "/events", None).await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown().await;
}

async fn without_a_token_the_admin_api_is_off(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let app = spawn_app_with(
        db,
        TestConfig::new().without_admin_token(),
        Roles::default(),
    )
    .await;
    let off = app
        .client
        .get(url_of(&app, "/events"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), 404);
    app.shutdown().await;
}

fn url_of(app: &TestApp, path: &str) -> String {
    format!("{}/admin/v1{path}", app.base)
}

async fn pagination_is_stable_while_events_arrive(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let mut sent = Vec::new();
    for i in 0..250 {
        let (status, json) = app
            .ingest(
                "stripe",
                &stripe_event(&format!("evt_page_{i}"), "invoice.paid"),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        sent.push(json["event_id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/events?source=stripe&limit=100&cursor={c}"),
            None => "/events?source=stripe&limit=100".to_string(),
        };
        let (status, page) = app.admin("GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids(&page));
        pages += 1;
        // New events arrive during the walk.
        for i in 0..5 {
            app.ingest(
                "stripe",
                &stripe_event(&format!("evt_page_new_{pages}_{i}"), "invoice.paid"),
                &[],
            )
            .await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "the walk ends");
    }
    let expected: Vec<String> = sent.iter().rev().cloned().collect();
    assert_eq!(seen, expected, "every event exactly once, newest first");
    let (status, json) = app.admin("GET", "/events?cursor=bogus", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    let (status, _) = app.admin("GET", "/events?limit=501", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.shutdown().await;
}

/// Four events: an invoice to a target that fails once, a charge to a
/// target that is down (one attempt), an unrouted Stripe event and an
/// unrouted GitHub ping. Nothing dispatched yet.
struct FourEvents {
    app: TestApp,
    flaky: TestTarget,
    broken: TestTarget,
    inv: String,
    chg: String,
    other: String,
    gh: String,
}

impl FourEvents {
    async fn ingest(backend: &Backend) -> FourEvents {
        let flaky = TestTarget::scripted(
            vec![Reply {
                status: 500,
                status_body: "boom",
                headers: vec![],
            }],
            200,
        )
        .await;
        let broken = TestTarget::scripted(vec![], 503).await;
        let extra = routes(&[
            Route::new("stripe", "flaky")
                .url(&flaky.url)
                .types(&["invoice.*"]),
            Route::new("stripe", "broken")
                .url(&broken.url)
                .max_attempts(1)
                .types(&["charge.*"]),
        ]);
        let app = spawn_app(backend, &extra).await;
        let (_, inv) = app
            .ingest("stripe", &stripe_event("evt_f1", "invoice.paid"), &[])
            .await;
        let (_, chg) = app
            .ingest("stripe", &stripe_event("evt_f2", "charge.refunded"), &[])
            .await;
        let (_, other) = app
            .ingest("stripe", &stripe_event("evt_f3", "customer.created"), &[])
            .await;
        let (_, gh) = app
            .ingest(
                "github",
                r#"{"zen":"z","hook_id":1}"#,
                &[("X-GitHub-Event", "ping")],
            )
            .await;
        let [inv, chg, other, gh] =
            [&inv, &chg, &other, &gh].map(|j| j["event_id"].as_str().unwrap().to_string());
        FourEvents {
            app,
            flaky,
            broken,
            inv,
            chg,
            other,
            gh,
        }
    }

    /// Dispatches until the invoice is delivered (second attempt) and the
    /// charge is dead.
    async fn settle(&self) {
        let app = &self.app;
        app.dispatch_until("flaky delivered, broken dead", || async {
            let d = app.store.deliveries_of(&self.inv).await.unwrap();
            let c = app.store.deliveries_of(&self.chg).await.unwrap();
            d[0].status == "delivered" && c[0].status == "dead"
        })
        .await;
    }
}

async fn events_filter_by_source_type_status_and_time(backend: Backend) {
    let f = FourEvents::ingest(&backend).await;
    let (app, inv, chg, other, gh) = (&f.app, &f.inv, &f.chg, &f.other, &f.gh);
    let (_, page) = app.admin("GET", "/events?status=pending", None).await;
    assert_eq!(
        ids(&page).into_iter().collect::<HashSet<_>>(),
        HashSet::from([inv.clone(), chg.clone()])
    );
    f.settle().await;

    let cases = [
        ("/events?source=github", vec![gh.clone()]),
        ("/events?type=invoice.paid", vec![inv.clone()]),
        ("/events?type=INVOICE.*", vec![]),
        ("/events?type=c*", vec![other.clone(), chg.clone()]),
        ("/events?status=delivered", vec![inv.clone()]),
        ("/events?status=failed", vec![chg.clone()]),
        ("/events?status=unrouted", vec![gh.clone(), other.clone()]),
        ("/events?source=stripe&status=unrouted", vec![other.clone()]),
        ("/events?until=2000-01-01", vec![]),
        (
            "/events?since=2000-01-01T00:00:00Z&source=github",
            vec![gh.clone()],
        ),
    ];
    for (path, expected) in cases {
        let (status, page) = app.admin("GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert_eq!(ids(&page), expected, "{path}");
    }
    f.app.shutdown().await;
}

async fn bad_filter_values_are_400(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    for bad in [
        "/events?status=weird",
        "/events?since=yesterday",
        "/deliveries?status=weird",
    ] {
        let (status, json) = app.admin("GET", bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(json["error"], json!("bad_request"));
    }
    app.shutdown().await;
}

async fn event_detail_shows_headers_payload_and_attempts(backend: Backend) {
    let f = FourEvents::ingest(&backend).await;
    f.settle().await;
    let (app, inv) = (&f.app, &f.inv);
    // Detail: headers, payload, the failing then succeeding attempts.
    let (status, detail) = app.admin("GET", &format!("/events/{inv}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["status"], json!("delivered"));
    assert_eq!(detail["payload_encoding"], json!("json"));
    assert_eq!(detail["payload"]["id"], json!("evt_f1"));
    assert!(detail["headers"].to_string().contains("stripe-signature"));
    let attempts = detail["deliveries"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0]["status_code"].clone(),
            attempts[0]["outcome"].clone()
        ),
        (json!(500), json!("retry"))
    );
    assert_eq!(attempts[0]["response_excerpt"], json!("boom"));
    assert_eq!(
        (
            attempts[1]["status_code"].clone(),
            attempts[1]["outcome"].clone()
        ),
        (json!(200), json!("delivered"))
    );
    let (status, _) = app
        .admin("GET", "/events/evt_00000000000000000000000000ff", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    f.app.shutdown().await;
}

async fn replay_delivers_again_with_the_same_webhook_id(backend: Backend) {
    let f = FourEvents::ingest(&backend).await;
    f.settle().await;
    let (app, flaky, inv) = (&f.app, &f.flaky, &f.inv);
    let (status, replay) = app
        .admin("POST", &format!("/events/{inv}/replay"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replay}");
    assert_eq!(replay["deliveries"].as_array().unwrap().len(), 1);
    app.dispatch_until("replayed", || async { flaky.count() == 3 })
        .await;
    let got = flaky.received();
    assert_eq!(got[2].header("webhook-id"), inv);
    assert_eq!(got[2].body, got[1].body);
    let (status, json) = app
        .admin(
            "POST",
            &format!("/events/{inv}/replay"),
            Some(json!({"targets": ["nope"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{json}");
    assert_eq!(json["error"], json!("unknown_target"));
    f.app.shutdown().await;
}

async fn a_dead_delivery_is_retried_once_the_target_works(backend: Backend) {
    let f = FourEvents::ingest(&backend).await;
    f.settle().await;
    let (app, chg) = (&f.app, &f.chg);
    let (_, page) = app.admin("GET", "/deliveries?status=dead", None).await;
    let dead = page["items"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    f.broken.set_status(200);
    let (status, _) = app
        .admin("POST", &format!("/deliveries/{dead}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.dispatch_until("retried delivery delivered", || async {
        app.store.deliveries_of(chg).await.unwrap()[0].status == "delivered"
    })
    .await;
    let (status, json) = app
        .admin("POST", &format!("/deliveries/{dead}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
    let (status, _) = app
        .admin(
            "POST",
            "/deliveries/dlv_00000000000000000000000000ff/retry",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    f.app.shutdown().await;
}

async fn bulk_retry_counts(backend: Backend) {
    let down = TestTarget::scripted(vec![], 500).await;
    let also_down = TestTarget::scripted(vec![], 500).await;
    let extra = routes(&[
        Route::new("stripe", "a").url(&down.url).max_attempts(1),
        Route::new("stripe", "b")
            .url(&also_down.url)
            .max_attempts(1),
    ]);
    let app = spawn_app(&backend, &extra).await;
    for i in 0..3 {
        app.ingest(
            "stripe",
            &stripe_event(&format!("evt_bulk_{i}"), "x.y"),
            &[],
        )
        .await;
    }
    app.dispatch_until("all dead", || async {
        let (_, page) = app.admin("GET", "/deliveries?status=dead", None).await;
        page["items"].as_array().unwrap().len() == 6
    })
    .await;
    let (status, json) = app
        .admin(
            "POST",
            "/deliveries/retry",
            Some(json!({"status": "dead", "target": "a"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(json, json!({"count": 3}));
    let (_, page) = app
        .admin("GET", "/deliveries?status=pending&target=a", None)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let (_, page) = app
        .admin("GET", "/deliveries?status=dead&target=b", None)
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let (status, _) = app
        .admin(
            "POST",
            "/deliveries/retry",
            Some(json!({"status": "pending"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, stats) = app.admin("GET", "/stats", None).await;
    assert_eq!(stats["deliveries_by_target"]["b"]["dead"], json!(3));
    assert_eq!(stats["deliveries_by_outcome"]["pending"], json!(3));
    assert_eq!(stats["events_by_source"]["stripe"], json!(3));
    // curl -d sends a form content type: the JSON body is read all the same.
    let resp = app
        .client
        .post(url_of(&app, "/deliveries/retry"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(r#"{"status": "dead", "target": "b"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.text().await.unwrap(), r#"{"count":3}"#);
    let (status, _) = app.admin("POST", "/deliveries/retry", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a body is required");
    app.shutdown().await;
}

/// An app with a signed target that has headers, one Stripe event and a
/// conflicting copy of it; returns the app and the first answer.
async fn one_event_and_a_conflict(backend: &Backend) -> (TestApp, Value) {
    let target = TestTarget::start().await;
    let extra = Route::new("stripe", "billing")
        .url(&target.url)
        .signing_secret(TARGET_SIGNING_SECRET)
        .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
        .toml();
    let app = spawn_app(backend, &extra).await;
    let (_, first) = app
        .ingest("stripe", &stripe_event("evt_c1", "a.b"), &[])
        .await;
    let (status, _) = app
        .ingest("stripe", &stripe_event("evt_c1", "a.c"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    (app, first)
}

async fn conflicts_are_listed_with_both_hashes(backend: Backend) {
    let (app, first) = one_event_and_a_conflict(&backend).await;
    let (_, page) = app.admin("GET", "/conflicts", None).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event_id"], first["event_id"]);
    assert_eq!(items[0]["provider_event_id"], json!("evt_c1"));
    assert_ne!(items[0]["stored_sha256"], items[0]["received_sha256"]);
    app.shutdown().await;
}

async fn sources_and_targets_show_config_and_no_secrets(backend: Backend) {
    let (app, _) = one_event_and_a_conflict(&backend).await;
    let (_, sources) = app.admin("GET", "/sources", None).await;
    let (_, targets) = app.admin("GET", "/targets", None).await;
    let stripe = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == json!("stripe"))
        .unwrap();
    assert_eq!(
        (
            stripe["events"].clone(),
            stripe["conflicts"].clone(),
            stripe["secrets"].clone()
        ),
        (json!(1), json!(1), json!(2))
    );
    let billing = &targets[0];
    assert_eq!(billing["signed"], json!(true));
    assert_eq!(billing["header_names"], json!(["Authorization"]));
    assert_eq!(billing["pending"], json!(1));
    let (_, openapi) = app.admin("GET", "/openapi.json", None).await;
    for body in [
        sources.to_string(),
        targets.to_string(),
        openapi.to_string(),
    ] {
        for secret in ALL_SECRETS {
            assert!(!body.contains(secret), "{secret} leaked");
        }
    }
    app.shutdown().await;
}

async fn openapi_lists_every_route(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (status, doc) = app.admin("GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    // Every call of the router answers (not 404/405), and every one is documented.
    let calls = [
        ("GET", "/events"),
        ("GET", "/events/{event_id}"),
        ("POST", "/events/{event_id}/replay"),
        ("GET", "/deliveries"),
        ("POST", "/deliveries/{delivery_id}/retry"),
        ("POST", "/deliveries/retry"),
        ("POST", "/deliveries/cancel"),
        ("GET", "/conflicts"),
        ("GET", "/conflicts/{conflict_id}"),
        ("GET", "/sources"),
        ("GET", "/targets"),
        ("POST", "/targets/{name}/pause"),
        ("POST", "/targets/{name}/resume"),
        ("GET", "/stats"),
        ("GET", "/routes"),
        ("POST", "/routes/test"),
    ];
    for (method, path) in calls {
        assert!(
            documented.contains(&format!("{method} {path}")),
            "{method} {path} documented"
        );
    }
    assert_eq!(
        documented.len(),
        calls.len(),
        "no undocumented extras: {documented:?}"
    );
    for (method, path) in calls {
        let concrete = path
            .replace("{event_id}", "evt_00000000000000000000000000ff")
            .replace("{delivery_id}", "dlv_00000000000000000000000000ff")
            .replace("{conflict_id}", "cfl_00000000000000000000000000ff");
        let resp = app
            .client
            .request(method.parse().unwrap(), url_of(&app, &concrete))
            .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
            .header("Content-Type", "application/json")
            .body(match path {
                "/deliveries/retry" => r#"{"status":"dead"}"#,
                "/deliveries/cancel" => r#"{"target":"nope","dry_run":true}"#,
                "/routes/test" => {
                    r#"{"source":"stripe","body":{"id":"evt_1","type":"invoice.paid"}}"#
                }
                _ => "",
            })
            .send()
            .await
            .unwrap();
        let text = resp.status().as_u16();
        assert_ne!(text, 405, "{method} {path} is routed");
        // Cancel needs a configured target or a stored event to succeed.
        if !path.contains('{') && path != "/deliveries/cancel" {
            assert!(resp.status().is_success(), "{method} {path}: {text}");
        }
    }
    app.shutdown().await;
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn metrics_move(backend: Backend) {
    let target = TestTarget::start().await;
    let name = format!("metrics_{}", rand::random::<u32>());
    let app = spawn_app(
        &backend,
        &Route::new("stripe", &name).url(&target.url).toml(),
    )
    .await;
    let scrape = || async { app.get("/metrics").await.text().await.unwrap() };
    let accepted = "hookgate_ingest_requests_total{source=\"stripe\",outcome=\"accepted\"}";
    let before = metric(&scrape().await, accepted);
    app.ingest("stripe", &stripe_event("evt_metrics", "a.b"), &[])
        .await;
    let text = scrape().await;
    assert!(metric(&text, accepted) >= before + 1.0, "{text}");
    assert_eq!(
        metric(
            &text,
            &format!("hookgate_outbox_pending{{target=\"{name}\"}}")
        ),
        1.0,
        "{text}"
    );
    assert!(text.contains("hookgate_ingest_duration_seconds_bucket"));
    app.dispatch_until("delivered", || async { target.count() == 1 })
        .await;
    let text = scrape().await;
    assert_eq!(
        metric(
            &text,
            &format!("hookgate_deliveries_total{{target=\"{name}\",outcome=\"delivered\"}}")
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            &format!("hookgate_delivery_attempts_total{{target=\"{name}\",status_class=\"2xx\"}}")
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            &format!("hookgate_outbox_pending{{target=\"{name}\"}}")
        ),
        0.0
    );
    assert!(text.contains(&format!(
        "hookgate_delivery_duration_seconds_count{{target=\"{name}\"}}"
    )));
    app.shutdown().await;
}

/// Stores a verified Stripe event as if received at `received_at`.
async fn store_at(app: &TestApp, id: &str, event_type: &str, received_at: i64) -> String {
    let event = app.verified_stripe_event(&stripe_event(id, event_type), received_at);
    app.store.ingest(&event).await.unwrap();
    event.id.to_string()
}

async fn retention_prunes_only_old_finished_events(backend: Backend) {
    let good = TestTarget::start().await;
    let bad = TestTarget::scripted(vec![], 500).await;
    let extra = routes(&[
        Route::new("stripe", "good")
            .url(&good.url)
            .types(&["good.*"]),
        Route::new("stripe", "bad")
            .url(&bad.url)
            .max_attempts(1000)
            .types(&["pending.*"]),
        Route::new("stripe", "dying")
            .url(&bad.url)
            .max_attempts(1)
            .types(&["dead.*"]),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let now = now_ms();
    let old = now - 31 * 86_400_000;
    let old_delivered = store_at(&app, "evt_r1", "good.one", old).await;
    let old_dead = store_at(&app, "evt_r2", "dead.one", old).await;
    let old_unrouted = store_at(&app, "evt_r3", "nothing.routes", old).await;
    let old_pending = store_at(&app, "evt_r4", "pending.one", old).await;
    let recent = store_at(&app, "evt_r5", "good.two", now).await;
    // A conflict on an old event goes with it.
    let (status, _) = app
        .ingest("stripe", &stripe_event("evt_r1", "good.changed"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    app.dispatch_until("finished", || async {
        let d = app.store.deliveries_of(&old_delivered).await.unwrap()[0].status;
        let x = app.store.deliveries_of(&old_dead).await.unwrap()[0].status;
        let r = app.store.deliveries_of(&recent).await.unwrap()[0].status;
        d == "delivered" && x == "dead" && r == "delivered"
    })
    .await;
    let pruned = prune_once(&app.store, 30, 1).await;
    assert_eq!(pruned, 3, "three old finished events (batches of one)");
    for gone in [&old_delivered, &old_dead, &old_unrouted] {
        assert!(
            app.store.event(gone).await.unwrap().is_none(),
            "{gone} pruned"
        );
        assert!(app.store.deliveries_of(gone).await.unwrap().is_empty());
    }
    for kept in [&old_pending, &recent] {
        assert!(
            app.store.event(kept).await.unwrap().is_some(),
            "{kept} kept"
        );
    }
    let counts = app.store.counts().await.unwrap();
    assert_eq!(counts.conflicts, 0, "the old event's conflict went with it");
    assert_eq!(counts.events, 2);
    app.shutdown().await;
}

crate::backend_tests!(
    token_is_required,
    without_a_token_the_admin_api_is_off,
    pagination_is_stable_while_events_arrive,
    events_filter_by_source_type_status_and_time,
    bad_filter_values_are_400,
    event_detail_shows_headers_payload_and_attempts,
    replay_delivers_again_with_the_same_webhook_id,
    a_dead_delivery_is_retried_once_the_target_works,
    bulk_retry_counts,
    conflicts_are_listed_with_both_hashes,
    sources_and_targets_show_config_and_no_secrets,
    openapi_lists_every_route,
    metrics_move,
    retention_prunes_only_old_finished_events,
);
