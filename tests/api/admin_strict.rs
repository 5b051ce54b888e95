//! The admin API refuses what it does not understand instead of guessing:
//! unknown query parameters, unknown sources and targets, status words
//! outside the vocabulary, impossible dates. And what operators asked for:
//! lookup by the provider's event ID, no cursor on the last page, bulk
//! retry by filter with a dry run, cancelling pending deliveries.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, Row};

use crate::helpers::*;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| {
            i["event_id"]
                .as_str()
                .or(i["delivery_id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn event_id(app: &TestApp, source: &str, body: &str, extra: &[(&str, &str)]) -> String {
    let (status, json) = app.ingest(source, body, extra).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json["event_id"].as_str().unwrap().to_string()
}

/// Stores a verified Stripe event received at `at` (epoch ms).
async fn stripe_at(app: &TestApp, id: &str, at: i64) -> String {
    let event = app.verified_stripe_event(&stripe_event(id, "invoice.paid"), at);
    app.store.ingest(&event).await.unwrap();
    event.id.to_string()
}

async fn unknown_query_parameters_are_named_by_every_call(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let evt = event_id(&app, "stripe", &stripe_event("evt_q1", "a.b"), &[]).await;
    let calls = [
        (
            "GET",
            "/events?provider_event=evt_q1".to_string(),
            "provider_event",
        ),
        ("GET", "/events?source=stripe&sorce=x".to_string(), "sorce"),
        ("GET", "/deliveries?targt=billing".to_string(), "targt"),
        ("GET", "/conflicts?status=dead".to_string(), "status"),
        ("GET", "/sources?verbose=1".to_string(), "verbose"),
        ("GET", "/targets?x=1".to_string(), "x"),
        ("GET", "/stats?since=2026-01-01".to_string(), "since"),
        ("GET", format!("/events/{evt}?expand=all"), "expand"),
        ("POST", format!("/events/{evt}/replay?force=1"), "force"),
        (
            "POST",
            "/deliveries/dlv_00000000000000000000000000ff/retry?now=1".into(),
            "now",
        ),
        (
            "POST",
            "/deliveries/retry?dry_run=true".to_string(),
            "dry_run",
        ),
        ("POST", "/deliveries/cancel?target=x".to_string(), "target"),
        (
            "GET",
            "/conflicts/cfl_00000000000000000000000000ff?x=1".into(),
            "x",
        ),
    ];
    for (method, path, name) in calls {
        let (status, json) = app.admin(method, &path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {json}");
        assert_eq!(json["error"], json!("bad_request"), "{path}");
        assert_eq!(json["parameter"], json!(name), "{path}: {json}");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{name}`")), "{path}: {detail}");
    }
    // The list calls say which parameters they take.
    let (_, json) = app.admin("GET", "/events?provider_event=x", None).await;
    assert!(
        json["detail"]
            .as_str()
            .unwrap()
            .contains("`provider_event_id`"),
        "{json}"
    );
    // An empty value is no filter (as an HTML form sends it).
    let (status, page) = app.admin("GET", "/events?source=&status=", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), vec![evt]);
    app.shutdown().await;
}

/// Two Stripe events and an acme event with the first one's provider
/// event ID: (the Stripe event with that ID, the acme one).
async fn two_sources_share_a_provider_event_id(app: &TestApp) -> (String, String) {
    let paid = event_id(
        app,
        "stripe",
        &stripe_event("evt_1Pid", "invoice.paid"),
        &[],
    )
    .await;
    event_id(
        app,
        "stripe",
        &stripe_event("evt_2Pid", "invoice.paid"),
        &[],
    )
    .await;
    // Another source that happens to use the same ID.
    let gh = event_id(app, "acme", r#"{"id":"evt_1Pid","type":"ping"}"#, &[]).await;
    (paid, gh)
}

async fn provider_event_id_finds_the_event(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (paid, gh) = two_sources_share_a_provider_event_id(&app).await;
    let cases = [
        (
            "/events?provider_event_id=evt_1Pid",
            vec![gh.clone(), paid.clone()],
        ),
        (
            "/events?source=stripe&provider_event_id=evt_1Pid",
            vec![paid.clone()],
        ),
        (
            "/events?source=acme&provider_event_id=evt_1Pid",
            vec![gh.clone()],
        ),
        (
            "/events?provider_event_id=evt_1Pid&type=invoice.*",
            vec![paid.clone()],
        ),
        (
            "/events?provider_event_id=evt_1Pid&limit=1",
            vec![gh.clone()],
        ),
        ("/events?provider_event_id=evt_nothing", vec![]),
    ];
    for (path, expected) in cases {
        let (status, page) = app.admin("GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert_eq!(ids(&page), expected, "{path}");
    }
    app.shutdown().await;
}

async fn provider_event_id_matches_page_with_a_cursor(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let (paid, _) = two_sources_share_a_provider_event_id(&app).await;
    let (_, page) = app
        .admin("GET", "/events?provider_event_id=evt_1Pid&limit=1", None)
        .await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second match")
        .to_string();
    let (_, page) = app
        .admin(
            "GET",
            &format!("/events?provider_event_id=evt_1Pid&limit=1&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&page), vec![paid.clone()]);
    assert_eq!(page["next_cursor"], Value::Null);
    app.shutdown().await;
}

async fn the_provider_event_id_lookup_is_one_index_search(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    two_sources_share_a_provider_event_id(&app).await;
    // With or without the source.
    let plans = explain_provider_lookup(app.db_url()).await;
    for (source, plan) in plans {
        assert!(
            plan.contains("events_provider_event_id") || plan.contains("events_source_key"),
            "source {source:?}: the lookup uses an index on provider_event_id:\n{plan}"
        );
        let scans_events = plan.lines().any(|l| {
            let l = l.trim_start_matches([' ', '-', '>']);
            l.starts_with("Seq Scan on events") || l.starts_with("SCAN e ") || l == "SCAN e"
        });
        assert!(
            !scans_events,
            "source {source:?}: no scan of events:\n{plan}"
        );
        eprintln!("plan with source {source:?}:\n{plan}");
    }
    app.shutdown().await;
}

/// The plan of the provider-ID lookup, without and with a source. Postgres
/// is told to avoid sequential scans, which it would pick for a tiny table
/// anyway: what is checked is that an index can serve the query.
async fn explain_provider_lookup(url: &str) -> Vec<(Option<&'static str>, String)> {
    let sql = PROVIDER_ID_LOOKUP_SQL;
    // The store's binds: source, type, since, until, cursor, status, limit, ID.
    macro_rules! bound {
        ($query:expr, $source:expr) => {
            $query
                .bind($source)
                .bind(None::<String>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(51_i64)
                .bind("evt_1Pid")
        };
    }
    let mut plans = Vec::new();
    for source in [None, Some("stripe")] {
        let plan: Vec<String> = if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            let query = format!("EXPLAIN QUERY PLAN {sql}");
            let rows = bound!(sqlx::query(&query), source)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.iter().map(|r| r.get("detail")).collect()
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut conn)
                .await
                .unwrap();
            let query = format!("EXPLAIN {sql}");
            let rows = bound!(sqlx::query(&query), source)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            rows.iter().map(|r| r.get(0)).collect()
        };
        plans.push((source, plan.join("\n")));
    }
    plans
}

async fn unknown_sources_and_targets_are_named_the_same_everywhere(backend: Backend) {
    let target = TestTarget::start().await;
    let app = spawn_app(
        &backend,
        &Route::new("stripe", "ledger").url(&target.url).toml(),
    )
    .await;
    let evt = event_id(&app, "stripe", &stripe_event("evt_u1", "a.b"), &[]).await;
    let calls: [(&str, String, Option<Value>, &str, &str); 7] = [
        (
            "GET",
            "/events?source=strpe".into(),
            None,
            "source",
            "strpe",
        ),
        (
            "GET",
            "/conflicts?source=strpe".into(),
            None,
            "source",
            "strpe",
        ),
        (
            "GET",
            "/deliveries?target=billing".into(),
            None,
            "target",
            "billing",
        ),
        (
            "POST",
            "/deliveries/retry".into(),
            Some(json!({"status": "dead", "target": "billing"})),
            "target",
            "billing",
        ),
        (
            "POST",
            "/deliveries/retry".into(),
            Some(json!({"status": "dead", "source": "strpe", "dry_run": true})),
            "source",
            "strpe",
        ),
        (
            "POST",
            format!("/events/{evt}/replay"),
            Some(json!({"targets": ["ledger", "billing"]})),
            "target",
            "billing",
        ),
        (
            "POST",
            "/deliveries/cancel".into(),
            Some(json!({"target": "billing"})),
            "target",
            "billing",
        ),
    ];
    for (method, path, body, what, name) in calls {
        let (status, json) = app.admin(method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {json}");
        assert_eq!(json["error"], json!(format!("unknown_{what}")), "{path}");
        assert_eq!(json[what], json!(name), "{path}: {json}");
        let detail = json["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("{name:?}")), "{path}: {detail}");
    }
    // Nothing was replayed to the known target either.
    assert_eq!(app.store.deliveries_of(&evt).await.unwrap().len(), 1);
    app.shutdown().await;
}

async fn one_status_vocabulary(backend: Backend) {
    let down = TestTarget::scripted(vec![], 500).await;
    let app = spawn_app(
        &backend,
        &Route::new("stripe", "down")
            .url(&down.url)
            .max_attempts(1)
            .toml(),
    )
    .await;
    let dead = event_id(&app, "stripe", &stripe_event("evt_v1", "a.b"), &[]).await;
    app.dispatch_until("dead", || async {
        app.store.deliveries_of(&dead).await.unwrap()[0].status == "dead"
    })
    .await;
    for path in ["/events?status=failed", "/events?status=dead"] {
        let (status, page) = app.admin("GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        assert_eq!(ids(&page), vec![dead.clone()], "{path}");
    }
    let (_, page) = app.admin("GET", "/deliveries?status=dead", None).await;
    assert_eq!(page["items"][0]["status"], json!("dead"));
    let (_, page) = app.admin("GET", "/deliveries?status=cancelled", None).await;
    assert_eq!(ids(&page), Vec::<String>::new());
    let refusals = [
        (
            "/events?status=weird",
            "weird",
            json!(["pending", "delivered", "failed", "cancelled", "unrouted"]),
        ),
        (
            "/deliveries?status=failed",
            "failed",
            json!(["pending", "delivered", "dead", "cancelled"]),
        ),
    ];
    for (path, word, valid) in refusals {
        let (status, json) = app.admin("GET", path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(json["parameter"], json!("status"));
        assert_eq!(json["valid"], valid, "{path}");
        assert!(json["detail"].as_str().unwrap().contains(word), "{json}");
    }
    let (status, json) = app
        .admin("POST", "/deliveries/retry", Some(json!({"status": "gone"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json["valid"],
        json!(["pending", "delivered", "dead", "cancelled"])
    );
    app.shutdown().await;
}

async fn the_last_page_has_no_cursor(backend: Backend) {
    let target = TestTarget::start().await;
    let app = spawn_app(&backend, &Route::new("stripe", "t").url(&target.url).toml()).await;
    for i in 0..4 {
        event_id(
            &app,
            "stripe",
            &stripe_event(&format!("evt_l{i}"), "a.b"),
            &[],
        )
        .await;
        let (status, _) = app
            .ingest(
                "stripe",
                &stripe_event(&format!("evt_l{i}"), "a.changed"),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
    for list in ["/events", "/deliveries", "/conflicts"] {
        let (_, full) = app.admin("GET", &format!("{list}?limit=4"), None).await;
        assert_eq!(full["items"].as_array().unwrap().len(), 4, "{list}");
        assert_eq!(
            full["next_cursor"],
            Value::Null,
            "{list}: an exactly full last page"
        );
        let (_, first) = app.admin("GET", &format!("{list}?limit=2"), None).await;
        let cursor = first["next_cursor"]
            .as_str()
            .expect("more after the first page");
        let (_, second) = app
            .admin("GET", &format!("{list}?limit=2&cursor={cursor}"), None)
            .await;
        assert_eq!(second["items"].as_array().unwrap().len(), 2, "{list}");
        assert_eq!(second["next_cursor"], Value::Null, "{list}: the last page");
    }
    app.shutdown().await;
}

async fn time_filters_take_rfc3339_dates_and_epoch_ms(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    // 2026-11-25T19:13:30Z, 19:14:00Z, 19:15:00Z
    let t0 = 1_795_634_010_000;
    let (e0, e1, e2) = (
        stripe_at(&app, "evt_t0", t0).await,
        stripe_at(&app, "evt_t1", t0 + 30_000).await,
        stripe_at(&app, "evt_t2", t0 + 90_000).await,
    );
    let all = vec![e2.clone(), e1.clone(), e0.clone()];
    let cases = [
        ("since=2026-11-25T19:14Z", vec![e2.clone(), e1.clone()]),
        (
            "since=2026-11-25T20:14%2B01:00",
            vec![e2.clone(), e1.clone()],
        ),
        ("until=2026-11-25T19:14Z", vec![e0.clone()]),
        ("since=2026-11-25T19:14:00.001Z", vec![e2.clone()]),
        ("since=2026-11-25&until=2026-11-26", all.clone()),
        ("until=2026-11-25", vec![]),
        (
            &*format!("since={}", t0 + 30_000),
            vec![e2.clone(), e1.clone()],
        ),
    ];
    for (q, expected) in cases {
        let (status, page) = app.admin("GET", &format!("/events?{q}"), None).await;
        assert_eq!(status, StatusCode::OK, "{q}: {page}");
        assert_eq!(ids(&page), expected, "{q}");
    }
    for (q, name) in [
        ("since=2026-02-31", "since"),
        ("until=2026-11-31", "until"),
        ("since=2026-11-25T19:14", "since"),
        ("until=2026-11-25T24:30Z", "until"),
        ("since=last%20week", "since"),
    ] {
        let (status, json) = app.admin("GET", &format!("/events?{q}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {json}");
        assert_eq!(json["parameter"], json!(name), "{q}");
    }
    app.shutdown().await;
}

async fn bulk_retry_by_filter_counts_first(backend: Backend) {
    let a = TestTarget::scripted(vec![], 500).await;
    let b = TestTarget::scripted(vec![], 500).await;
    let extra = routes(&[
        Route::new("stripe", "a").url(&a.url).max_attempts(1),
        Route::new("stripe", "b")
            .url(&b.url)
            .max_attempts(1)
            .types(&["charge.*"]),
    ]) + "\n[[routes]]\nsource = \"github\"\ntarget = \"a\"\n";
    let app = spawn_app(&backend, &extra).await;
    for (i, t) in ["invoice.paid", "invoice.created", "charge.failed"]
        .iter()
        .enumerate()
    {
        event_id(&app, "stripe", &stripe_event(&format!("evt_b{i}"), t), &[]).await;
    }
    event_id(
        &app,
        "github",
        r#"{"zen":"z"}"#,
        &[("X-GitHub-Event", "ping")],
    )
    .await;
    let dead = || async {
        let (_, page) = app.admin("GET", "/deliveries?status=dead", None).await;
        page["items"].as_array().unwrap().len()
    };
    app.dispatch_until("five dead deliveries", || async { dead().await == 5 })
        .await;
    let now = now_ms();
    let counts = [
        (json!({"source": "stripe", "type": "invoice.*"}), 2),
        (json!({"source": "stripe"}), 4),
        (json!({"target": "b"}), 1),
        (json!({"source": "github", "target": "a"}), 1),
        (json!({"type": "charge.failed", "target": "a"}), 1),
        (json!({"since": (now + 3_600_000).to_string()}), 0),
        (json!({"until": (now + 3_600_000).to_string()}), 5),
        (json!({}), 5),
    ];
    for (filter, expected) in counts {
        let mut body = filter.clone();
        body["status"] = json!("dead");
        body["dry_run"] = json!(true);
        let (status, json) = app.admin("POST", "/deliveries/retry", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {json}");
        assert_eq!(
            json,
            json!({"count": expected, "dry_run": true}),
            "{filter}"
        );
    }
    assert_eq!(dead().await, 5, "a dry run changes nothing");
    let (status, json) = app
        .admin(
            "POST",
            "/deliveries/retry",
            Some(json!({"status": "dead", "source": "stripe", "type": "invoice.*"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(json, json!({"count": 2}));
    assert_eq!(dead().await, 3);
    let (_, page) = app.admin("GET", "/deliveries?status=pending", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    for (body, name) in [
        (json!({"status": "pending"}), "status"),
        (json!({"status": "dead", "since": "2026-02-31"}), "since"),
        (json!({"status": "dead", "sorce": "stripe"}), "sorce"),
    ] {
        let (status, json) = app.admin("POST", "/deliveries/retry", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
        assert!(json["detail"].as_str().unwrap().contains(name), "{json}");
    }
    app.shutdown().await;
}

async fn cancel_pending_deliveries_of_an_event_or_a_target(backend: Backend) {
    let one = TestTarget::scripted(vec![], 500).await;
    let two = TestTarget::scripted(vec![], 500).await;
    let extra = routes(&[
        Route::new("stripe", "one").url(&one.url).max_attempts(1000),
        Route::new("stripe", "two").url(&two.url).max_attempts(1000),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let e1 = event_id(&app, "stripe", &stripe_event("evt_x1", "a.b"), &[]).await;
    let e2 = event_id(&app, "stripe", &stripe_event("evt_x2", "a.b"), &[]).await;

    let (status, json) = app
        .admin(
            "POST",
            "/deliveries/cancel",
            Some(json!({"event_id": e1, "dry_run": true})),
        )
        .await;
    assert_eq!(
        (status, json),
        (StatusCode::OK, json!({"count": 2, "dry_run": true}))
    );
    let (status, json) = app
        .admin("POST", "/deliveries/cancel", Some(json!({"event_id": e1})))
        .await;
    assert_eq!((status, json), (StatusCode::ACCEPTED, json!({"count": 2})));
    let (_, detail) = app.admin("GET", &format!("/events/{e1}"), None).await;
    assert_eq!(detail["status"], json!("cancelled"));
    let (_, page) = app.admin("GET", "/events?status=cancelled", None).await;
    assert_eq!(ids(&page), vec![e1.clone()]);

    let (status, json) = app
        .admin("POST", "/deliveries/cancel", Some(json!({"target": "two"})))
        .await;
    assert_eq!((status, json), (StatusCode::ACCEPTED, json!({"count": 1})));
    let (_, page) = app.admin("GET", "/deliveries?status=cancelled", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cancelled = page["items"][0]["delivery_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = app
        .admin("POST", &format!("/deliveries/{cancelled}/retry"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "only dead deliveries are retried"
    );

    // Cancelled deliveries are never sent; the rest still are.
    one.set_status(200);
    two.set_status(200);
    app.dispatch_until("e2 delivered to one", || async {
        app.store
            .deliveries_of(&e2)
            .await
            .unwrap()
            .iter()
            .any(|d| d.status == "delivered")
    })
    .await;
    assert_eq!(one.webhook_ids(), vec![e2.clone()]);
    assert_eq!(two.count(), 0);
    let (_, targets) = app.admin("GET", "/targets", None).await;
    let two_view = targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "two")
        .unwrap();
    assert_eq!(
        (two_view["cancelled"].clone(), two_view["pending"].clone()),
        (json!(2), json!(0))
    );
    app.shutdown().await;
}

async fn a_cancel_must_name_what_it_cancels(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    for (body, status) in [
        (json!({}), StatusCode::BAD_REQUEST),
        (json!({"dry_run": true}), StatusCode::BAD_REQUEST),
        (
            json!({"event_id": "evt_00000000000000000000000000ff"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"target": "one", "status": "dead"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, json) = app
            .admin("POST", "/deliveries/cancel", Some(body.clone()))
            .await;
        assert_eq!(got, status, "{body}: {json}");
    }
    app.shutdown().await;
}

async fn a_conflict_shows_both_bodies(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let stored = event_id(&app, "stripe", &stripe_event("evt_k1", "a.b"), &[]).await;
    let (status, _) = app
        .ingest(
            "stripe",
            &stripe_event("evt_k1", "a.changed"),
            &[("X-Note", "second")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, page) = app.admin("GET", "/conflicts", None).await;
    let id = page["items"][0]["conflict_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, c) = app.admin("GET", &format!("/conflicts/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["event_id"], json!(stored));
    assert_eq!(c["stored"]["payload"]["type"], json!("a.b"));
    assert_eq!(c["received"]["payload"]["type"], json!("a.changed"));
    assert_eq!(
        c["received"]["body_text"],
        json!(stripe_event("evt_k1", "a.changed"))
    );
    assert!(c["received"]["headers"].to_string().contains("second"));
    assert_ne!(c["stored"]["sha256"], c["received"]["sha256"]);
    let (status, _) = app
        .admin("GET", "/conflicts/cfl_00000000000000000000000000ff", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

crate::backend_tests!(
    unknown_query_parameters_are_named_by_every_call,
    provider_event_id_finds_the_event,
    provider_event_id_matches_page_with_a_cursor,
    the_provider_event_id_lookup_is_one_index_search,
    unknown_sources_and_targets_are_named_the_same_everywhere,
    one_status_vocabulary,
    the_last_page_has_no_cursor,
    time_filters_take_rfc3339_dates_and_epoch_ms,
    bulk_retry_by_filter_counts_first,
    cancel_pending_deliveries_of_an_event_or_a_target,
    a_cancel_must_name_what_it_cancels,
    a_conflict_shows_both_bodies,
);
