//! Target protection through the public surface: a rate limit held across
//! a burst and across processes, the circuit breaker (open, cool-down, one
//! probe, close) and pause and resume across a restart.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

/// One target's entry in `GET /admin/v1/targets` at `base`.
async fn target_view(client: &reqwest::Client, base: &str, name: &str) -> Value {
    let (status, list) = admin_call(client, base, "GET", "/targets").await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name} in {list}"))
        .clone()
}

/// An admin API call to the hookgate at `base`; status and JSON.
async fn admin_call(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
) -> (u16, Value) {
    let resp = client
        .request(method.parse().unwrap(), format!("{base}/admin/v1{path}"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().await.unwrap()).unwrap(),
    )
}

/// Sends `n` Stripe events `{prefix}{i}` to `base`, one after another, so
/// their ingest order is `0..n`; returns their event IDs in that order.
async fn send_in_order(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let body = stripe_event(&format!("{prefix}{i}"), "invoice.paid");
        let resp = post_signed(client, base, "stripe", &body, now_secs())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let json: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        ids.push(json["event_id"].as_str().unwrap().to_string());
    }
    ids
}

/// The value of one sample of the Prometheus page at `base`.
async fn metric(client: &reqwest::Client, base: &str, sample: &str) -> Option<f64> {
    let page = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    page.lines()
        .find_map(|l| l.strip_prefix(sample))
        .and_then(|v| v.trim().parse().ok())
}

/// Every delivery to `target` was sent once and delivered: no attempt was
/// charged for waiting.
async fn each_delivered_at_first_attempt(app: &TestApp, target: &str, n: usize) {
    eventually("every attempt recorded", || outbox_empty(&app.store)).await;
    let (status, page) = app
        .admin(
            "GET",
            &format!("/deliveries?target={target}&limit=500"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), n);
    for d in items {
        assert_eq!(d["status"], "delivered", "{d}");
        assert_eq!(
            d["attempt_count"], 1,
            "waiting for the rate is not an attempt: {d}"
        );
    }
}

/// How long from `started` to the last request `target` received, with
/// every request a different delivery.
fn span_to_last_arrival(target: &TestTarget, started: Instant, n: usize) -> Duration {
    let received = target.received();
    let ids: HashSet<String> = target.webhook_ids().into_iter().collect();
    assert_eq!(ids.len(), n, "none lost");
    assert_eq!(received.len(), n, "none repeated");
    received.iter().map(|r| r.at).max().unwrap() - started
}

async fn rate_limit_holds_20_per_second(backend: Backend) {
    let limited = TestTarget::start().await;
    let route = Route::new("stripe", "limited")
        .url(&limited.url)
        .rate_limit("20/s");
    let app = spawn_app(&backend, &route.toml()).await;
    let stop = CancellationToken::new();
    let running = tokio::spawn(app.dispatcher.clone().run(stop.clone()));
    let client = reqwest::Client::new();
    let started = Instant::now();
    send_in_order(&client, &app.base, "evt_rate_", 100).await;
    eventually("100 deliveries arrived", || async {
        limited.count() >= 100
    })
    .await;
    let took = span_to_last_arrival(&limited, started, 100);
    println!("rate limit 20/s ({}): 100 deliveries from the first send to the last arrival took {took:?}", backend.name());
    // A burst of one second's worth (20), then 80 more at 20/s.
    assert!(took >= Duration::from_secs(4), "{took:?}");
    each_delivered_at_first_attempt(&app, "limited", 100).await;
    let view = target_view(&client, &app.base, "limited").await;
    assert_eq!(view["rate_limit"], "20/s");
    stop.cancel();
    running.await.unwrap();
    app.shutdown().await;
}

/// Two dispatchers stepped at once, as two processes would run; how many
/// attempts they made.
async fn step_both(app: &TestApp, other: &std::sync::Arc<hookgate::dispatch::Dispatcher>) -> usize {
    let (a, b) = tokio::join!(app.dispatcher.run_once(), other.run_once());
    a.unwrap() + b.unwrap()
}

/// Steps both dispatchers until `done` holds (30 s at most).
async fn step_until<F: Fn() -> bool>(
    app: &TestApp,
    other: &std::sync::Arc<hookgate::dispatch::Dispatcher>,
    what: &str,
    done: F,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        if step_both(app, other).await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn circuit_opens_probes_once_and_closes(backend: Backend) {
    let flaky = TestTarget::scripted(Vec::new(), 500).await;
    let healthy = TestTarget::start().await;
    let cooldown = Duration::from_millis(1_000);
    let extra = routes(&[
        Route::new("stripe", "flaky")
            .url(&flaky.url)
            .max_in_flight(1)
            .max_attempts(100)
            .circuit(3, cooldown.as_millis() as u64),
        Route::new("stripe", "healthy").url(&healthy.url),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let other = app.another_dispatcher();
    let client = reqwest::Client::new();
    send_in_order(&client, &app.base, "evt_cb_a", 4).await;

    // One dispatcher at first, so the failing target sees one request at a
    // time and the circuit opens at exactly the third failure.
    app.dispatch_until("three failures and four healthy deliveries", || async {
        flaky.count() >= 3 && healthy.count() >= 4
    })
    .await;
    assert_eq!(flaky.count(), 3);
    let view = target_view(&client, &app.base, "flaky").await;
    assert_eq!(view["circuit"], "open", "{view}");
    assert_eq!(view["consecutive_failures"], 3);
    assert!(view["circuit_changed_at"].is_string(), "{view}");
    let sample = "hookgate_target_circuit_open{target=\"flaky\"}";
    assert_eq!(metric(&client, &app.base, sample).await, Some(1.0));
    assert_eq!(
        target_view(&client, &app.base, "healthy").await["circuit"],
        "closed"
    );

    // While it is open, the other target keeps receiving.
    send_in_order(&client, &app.base, "evt_cb_b", 4).await;
    step_until(
        &app,
        &other,
        "the healthy target gets the new events",
        || healthy.count() >= 8,
    )
    .await;
    // After the cool-down one probe, taken by one of the two dispatchers;
    // it fails, and the circuit opens again.
    step_until(&app, &other, "the first probe", || flaky.count() >= 4).await;
    assert_eq!(
        flaky.count(),
        4,
        "one probe, though two dispatchers claimed"
    );
    let view = target_view(&client, &app.base, "flaky").await;
    assert_eq!(view["circuit"], "open", "the probe failed: {view}");
    assert_eq!(view["consecutive_failures"], 4);

    // The target recovers: the next probe closes the circuit, the backlog drains.
    flaky.set_status(200);
    let store = app.store.clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let backlog = store.backlog().await.unwrap();
        if backlog.iter().all(|b| b.pending == 0) {
            break;
        }
        assert!(Instant::now() < deadline, "timed out draining: {backlog:?}");
        if step_both(&app, &other).await == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let view = target_view(&client, &app.base, "flaky").await;
    assert_eq!(view["circuit"], "closed", "{view}");
    assert_eq!(view["consecutive_failures"], 0);
    assert_eq!(metric(&client, &app.base, sample).await, Some(0.0));

    let received = flaky.received();
    let at: Vec<Instant> = received.iter().map(|r| r.at).collect();
    println!(
        "circuit ({}): {} requests to the failing target; gaps before the two probes {:?} and {:?} (cool-down {cooldown:?})",
        backend.name(),
        at.len(),
        at[3] - at[2],
        at[4] - at[3]
    );
    // Nothing was sent during either cool-down: three failures, one
    // probe, then the healthy probe and the rest.
    assert!(
        at[3] - at[2] >= cooldown,
        "first probe after {:?}",
        at[3] - at[2]
    );
    assert!(
        at[4] - at[3] >= cooldown,
        "second probe after {:?}",
        at[4] - at[3]
    );
    let delivered: Vec<String> = flaky.webhook_ids().split_off(4);
    let unique: HashSet<&String> = delivered.iter().collect();
    assert_eq!(delivered.len(), 8, "{delivered:?}");
    assert_eq!(unique.len(), 8, "each delivered once");
    assert_eq!(healthy.count(), 8);
    app.shutdown().await;
}

/// A config with `held` (paused in the test, one delivery at a time) and
/// `free`, both routed every Stripe event.
fn pause_config(
    db: &TestDb,
    dir: &Path,
    held: &TestTarget,
    free: &TestTarget,
) -> std::path::PathBuf {
    let path = dir.join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .with(&routes(&[
            Route::new("stripe", "held").url(&held.url).max_in_flight(1),
            Route::new("stripe", "free").url(&free.url),
        ]))
        .write(&path);
    path
}

async fn pause_holds_across_a_restart_and_resume_delivers_once(backend: Backend) {
    let db = TestDb::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let (held, free) = (TestTarget::start().await, TestTarget::start().await);
    let path = pause_config(&db, dir.path(), &held, &free);
    let client = reqwest::Client::new();
    let mut proc = spawn_binary(&path, &[], &[]);

    let (status, view) = admin_call(&client, &proc.base(), "POST", "/targets/held/pause").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["paused"], true);
    let (status, err) = admin_call(&client, &proc.base(), "POST", "/targets/nope/pause").await;
    assert_eq!(
        (status, err["error"].as_str()),
        (404, Some("unknown_target"))
    );

    let mut sent = send_in_order(&client, &proc.base(), "evt_pause_a", 10).await;
    // Claims cover every target in one transaction: once `free` has them
    // all, the dispatcher has passed over `held`'s deliveries too.
    eventually("the unpaused target got 10", || async {
        free.count() >= 10
    })
    .await;
    assert_eq!(held.count(), 0, "nothing is sent to a paused target");
    let sample = "hookgate_target_paused{target=\"held\"}";
    assert_eq!(metric(&client, &proc.base(), sample).await, Some(1.0));

    assert_eq!(proc.sigterm().code(), Some(0), "{}", proc.logs());
    let proc = spawn_binary(&path, &[], &[]);
    assert_eq!(
        target_view(&client, &proc.base(), "held").await["paused"],
        true,
        "the pause survives a restart"
    );
    sent.extend(send_in_order(&client, &proc.base(), "evt_pause_b", 5).await);
    eventually("the unpaused target got 15", || async {
        free.count() >= 15
    })
    .await;
    assert_eq!(held.count(), 0, "still nothing after the restart");

    let (status, view) = admin_call(&client, &proc.base(), "POST", "/targets/held/resume").await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["paused"], false);
    let store = connect_store(&db.url).await;
    eventually("the outbox drained", || outbox_empty(&store)).await;
    // With the outbox empty nothing more can be sent: what arrived is all.
    let got = held.webhook_ids();
    println!(
        "pause ({}): after resume the held target got {} deliveries",
        backend.name(),
        got.len()
    );
    assert_eq!(got.len(), 15, "each exactly once");
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 15);
    // In the order they would have gone: by ingest time.
    let mut received_at = Vec::new();
    for id in &got {
        received_at.push(store.event(id).await.unwrap().unwrap().received_at);
    }
    assert!(received_at.windows(2).all(|w| w[0] <= w[1]), "{got:?}");
    assert_eq!(
        sent.iter().collect::<HashSet<_>>(),
        got.iter().collect::<HashSet<_>>()
    );
    assert_eq!(metric(&client, &proc.base(), sample).await, Some(0.0));
}

crate::backend_tests!(
    rate_limit_holds_20_per_second,
    circuit_opens_probes_once_and_closes,
    pause_holds_across_a_restart_and_resume_delivers_once,
);

/// The budget is the database's: two dispatcher processes on one Postgres
/// hold 20/s together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_is_shared_by_two_processes() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = TestDb::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let limited = TestTarget::start().await;
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .route(
            &Route::new("stripe", "limited")
                .url(&limited.url)
                .rate_limit("20/s"),
        )
        .write(&path);
    let one = spawn_binary(&path, &[], &[]);
    let two = spawn_binary(&path, &["--no-ingest"], &[]);
    let client = reqwest::Client::new();
    let started = Instant::now();
    send_in_order(&client, &one.base(), "evt_rate2_", 100).await;
    eventually("100 deliveries arrived", || async {
        limited.count() >= 100
    })
    .await;
    let took = span_to_last_arrival(&limited, started, 100);
    let sent_by = |p: &Proc| p.logs().matches("\"delivery attempt\"").count();
    println!(
        "rate limit 20/s over two processes: 100 deliveries took {took:?} ({} sent by one, {} by two)",
        sent_by(&one),
        sent_by(&two)
    );
    assert!(took >= Duration::from_secs(4), "{took:?}");
    let store = connect_store(&db.url).await;
    eventually("every attempt recorded", || async {
        store.counts().await.unwrap().attempts >= 100
    })
    .await;
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.attempts, 100, "no attempt charged for waiting");
    let failed = store.delivery_counts().await.unwrap();
    assert!(failed.iter().all(|c| c.sub == "delivered"), "{failed:?}");
}
