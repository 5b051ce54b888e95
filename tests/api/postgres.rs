//! Postgres-only behaviour: outages answered 503 and healed by reconnecting,
//! several processes sharing one database, split roles.

use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// `postgres://user@host:port/db` -> (`host:port`, URL with the proxy's port).
fn through_proxy(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h.to_string()),
        None => (String::new(), authority.to_string()),
    };
    let host = hostport.split(':').next().unwrap();
    let upstream = if hostport.contains(':') {
        hostport.clone()
    } else {
        format!("{hostport}:5432")
    };
    (upstream, format!("{scheme}://{user}{host}:{port}/{path}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_answers_503_and_recovers() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let real = TestDb::new(&backend).await;
    let (upstream, _) = through_proxy(&real.url, 0);
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&upstream)
        .unwrap()
        .next();
    let proxy = Proxy::start(upstream).await;
    let (_, proxied) = through_proxy(&real.url, proxy.port);
    let db = TestDb::existing(&proxied);
    let app = spawn_app_with(db, TestConfig::new(), STEPPED).await;

    let (status, json) = app
        .ingest("stripe", &stripe_event("evt_pg_up", "invoice.paid"), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{json}");

    // Every connection dropped, new ones refused: a database restart.
    proxy.switch(None);
    let body = stripe_event("evt_pg_down", "invoice.paid");
    let headers = app.signed_headers("stripe", body.as_bytes(), &[]);
    let (status, json, resp_headers) = app.post_raw("/ingest/stripe", body.clone(), &headers).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert!(resp_headers.contains_key("retry-after"));
    assert_eq!(app.get("/readyz").await.status(), 503);

    proxy.switch(upstream);
    // The pool reconnects by itself; the provider's retry is then accepted.
    eventually("ready again", || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    let (status, json) = app.ingest("stripe", &body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(
        json["duplicate"],
        serde_json::json!(false),
        "the 503'd request was not stored"
    );
    app.shutdown().await;
}

/// Status and JSON of a Stripe event signed at `t` and POSTed to `base`.
async fn send_at(client: &reqwest::Client, base: &str, body: &str, t: i64) -> (u16, Value) {
    let resp = post_signed(client, base, "stripe", body, t).await.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().await.unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_database() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = TestDb::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let a = TestTarget::start().await;
    let b = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "a").url(&a.url).max_in_flight(8),
        Route::new("stripe", "b").url(&b.url).max_in_flight(8),
    ]);
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .with(&extra)
        .write(&path);
    let one = spawn_binary(&path, &[], &[]);
    let two = spawn_binary(&path, &[], &[]);
    let client = reqwest::Client::new();

    // Every event goes to BOTH processes at the same time, as a provider
    // retrying through a load balancer would.
    let mut answers: HashMap<String, Vec<(u16, Value)>> = HashMap::new();
    for chunk in (0..500).collect::<Vec<_>>().chunks(10) {
        let mut tasks = Vec::new();
        for i in chunk {
            let id = format!("evt_scale_{i}");
            let body = stripe_event(&id, "invoice.paid");
            let t = now_secs();
            for base in [one.base(), two.base()] {
                let (client, body, id) = (client.clone(), body.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    (id, send_at(&client, &base, &body, t).await)
                }));
            }
        }
        for t in tasks {
            let (id, answer) = t.await.unwrap();
            answers.entry(id).or_default().push(answer);
        }
    }
    let mut fresh = 0;
    for (id, pair) in &answers {
        assert!(pair.iter().all(|(s, _)| *s == 200), "{id}: {pair:?}");
        assert_eq!(
            pair[0].1["event_id"], pair[1].1["event_id"],
            "{id}: one stored event"
        );
        fresh += pair
            .iter()
            .filter(|(_, j)| j["duplicate"] == serde_json::json!(false))
            .count();
    }
    let store = connect_store(&db.url).await;
    eventually("both targets got 500", || async {
        a.count() >= 500 && b.count() >= 500
    })
    .await;
    eventually("outbox drained", || async {
        store
            .backlog()
            .await
            .unwrap()
            .iter()
            .all(|b| b.pending == 0)
    })
    .await;
    let counts = store.counts().await.unwrap();
    let mut duplicate_deliveries = 0;
    for target in [&a, &b] {
        let ids = target.webhook_ids();
        let unique: HashSet<&String> = ids.iter().collect();
        duplicate_deliveries += ids.len() - unique.len();
        assert_eq!(unique.len(), 500);
    }
    println!(
        "scale-out: {} events sent to both processes, {} stored ({} duplicates stored), {} new answers, {} deliveries at a, {} at b, {} duplicate deliveries",
        answers.len(),
        counts.events,
        counts.events - 500,
        fresh,
        a.count(),
        b.count(),
        duplicate_deliveries
    );
    assert_eq!(answers.len(), 500);
    assert_eq!(counts.events, 500);
    assert_eq!(fresh, 500, "exactly one new answer per event");
    assert_eq!(duplicate_deliveries, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_roles_ingest_and_dispatch() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = TestDb::new(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let target = TestTarget::start().await;
    let path = dir.path().join("hookgate.toml");
    TestConfig::new()
        .database(&db.url)
        .route(&Route::new("stripe", "t").url(&target.url))
        .write(&path);
    let mut ingest = spawn_binary(&path, &["--no-dispatcher"], &[]);
    let client = reqwest::Client::new();
    let body = stripe_event("evt_split", "invoice.paid");
    let (status, json) = send_at(&client, &ingest.base(), &body, now_secs()).await;
    assert_eq!(status, 200, "{json}");
    let event_id = json["event_id"].as_str().unwrap().to_string();
    // Once the ingest-only process has stopped (finishing anything it had
    // started), its whole life is in the store: the delivery is as ingest
    // wrote it, never attempted.
    let exit = ingest.sigterm();
    assert_eq!(exit.code(), Some(0), "clean exit; logs: {}", ingest.logs());
    let store = connect_store(&db.url).await;
    let deliveries = store.deliveries_of(&event_id).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].status, "pending",
        "an ingest-only process does not dispatch"
    );
    assert_eq!(deliveries[0].attempts, 0, "nor attempts a delivery");
    assert!(store.attempts_of(&event_id).await.unwrap().is_empty());
    assert_eq!(target.count(), 0);

    let dispatch = spawn_binary(&path, &["--no-ingest"], &[]);
    let resp = client
        .post(format!("{}/ingest/stripe", dispatch.base()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        404,
        "a dispatch-only process serves no ingest"
    );
    eventually("delivered by the dispatch-only process", || async {
        target.count() == 1
    })
    .await;
    assert_eq!(target.received()[0].header("x-hookgate-attempt"), "1");

    // Both roles at once, as deployed: what an ingest-only process takes
    // while the dispatch-only one runs is delivered by the latter.
    let ingest = spawn_binary(&path, &["--no-dispatcher"], &[]);
    let body = stripe_event("evt_split_live", "invoice.paid");
    let (status, json) = send_at(&client, &ingest.base(), &body, now_secs()).await;
    assert_eq!(status, 200, "{json}");
    eventually("the second event delivered while both run", || async {
        target.count() == 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_store_answers_503_in_time_and_retries_store_each_event_once() {
    use sqlx::Connection;
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let app = std::sync::Arc::new(spawn_app(&backend, "").await);
    // Every ingest transaction blocks on this lock, so no commit can finish
    // and every request runs into acquire_timeout_ms.
    let url = app.db_url().to_string();
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let bodies: Vec<(String, String)> = (0..12)
        .map(|i| {
            let id = format!("evt_pool_{i}");
            let body = stripe_event(&id, "invoice.paid");
            (id, body)
        })
        .collect();
    let mut tasks = Vec::new();
    for (_, body) in &bodies {
        let (app, body) = (app.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let headers = app.signed_headers("stripe", body.as_bytes(), &[]);
            app.post_raw("/ingest/stripe", body, &headers).await
        }));
    }
    let mut answered_503 = 0;
    for task in tasks {
        let (status, json, headers) = task.await.unwrap();
        // Nothing can commit while the lock is held: no 200 is possible.
        assert_eq!(status, 503, "a blocked store answers 503: {json}");
        assert!(headers.contains_key("retry-after"));
        assert_eq!(json["error"], serde_json::json!("unavailable"));
        answered_503 += 1;
    }
    lock.commit().await.unwrap();
    // The provider retries. A commit that was already under way when the
    // request gave up may have gone through: the retry is then a duplicate of
    // it. Either way each event ends up stored exactly once.
    let mut duplicates = 0;
    for (id, body) in &bodies {
        let headers = app.signed_headers("stripe", body.as_bytes(), &[]);
        let (status, json, _) = app.post_raw("/ingest/stripe", body.clone(), &headers).await;
        assert_eq!(status, 200, "{id}: the retry is accepted: {json}");
        duplicates += usize::from(json["duplicate"] == serde_json::json!(true));
    }
    let stored = app
        .store
        .list_events(&hookgate::store::EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    for (id, _) in &bodies {
        let copies = stored.iter().filter(|e| &e.provider_event_id == id).count();
        assert_eq!(copies, 1, "{id} stored exactly once");
    }
    println!(
        "blocked store: {answered_503} answered 503 while blocked; on retry {duplicates} were \
         already committed, {} newly stored",
        bodies.len() - duplicates
    );
}
