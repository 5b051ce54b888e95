//! Routes with jq expressions, through the public surface: filters decided
//! at ingest (and `unrouted`), transforms at send time, expression errors
//! kept and never retried in a storm, the evaluation limit, and the route
//! tester (admin API and CLI) agreeing with what ingest does.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const LIVE_PAID: &str = ".body.livemode and .body.data.object.amount_paid > 0";

fn invoice(id: &str, livemode: bool, amount: i64) -> String {
    json!({"id": id, "object": "event", "type": "invoice.paid", "livemode": livemode,
        "data": {"object": {"id": "in_1", "customer": "cus_42", "amount_paid": amount}}})
    .to_string()
}

async fn targets_of(app: &TestApp, event_id: &str) -> Vec<String> {
    let mut t: Vec<String> = app
        .store
        .deliveries_of(event_id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.target)
        .collect();
    t.sort();
    t
}

async fn a_filter_decides_which_routes_take_an_event(backend: Backend) {
    let billing = TestTarget::start().await;
    let audit = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "billing")
            .url(&billing.url)
            .filter(LIVE_PAID),
        Route::new("stripe", "audit")
            .url(&audit.url)
            .filter(r#".event_type | startswith("invoice.")"#),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let cases = [
        ("evt_live", true, 2000, vec!["audit", "billing"]),
        ("evt_test", false, 2000, vec!["audit"]),
        ("evt_zero", true, 0, vec!["audit"]),
    ];
    for (id, live, amount, want) in cases {
        let (status, body) = app.ingest("stripe", &invoice(id, live, amount), &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["deliveries"], want.len(), "{id}: {body}");
        let event_id = body["event_id"].as_str().unwrap();
        assert_eq!(targets_of(&app, event_id).await, want, "{id}");
    }
    app.dispatch_until("deliveries sent", || async {
        billing.count() == 1 && audit.count() == 3
    })
    .await;
    assert_eq!(
        billing.received()[0].header("x-hookgate-provider-event-id"),
        "evt_live",
        "exactly one delivery, to the route that took it"
    );
    app.shutdown().await;
}

async fn an_event_no_route_takes_is_stored_unrouted(backend: Backend) {
    let billing = TestTarget::start().await;
    let extra = routes(&[Route::new("stripe", "billing")
        .url(&billing.url)
        .filter(LIVE_PAID)]);
    let app = spawn_app(&backend, &extra).await;
    let (status, body) = app
        .ingest("stripe", &invoice("evt_unrouted", false, 10), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deliveries"], 0);
    let event_id = body["event_id"].as_str().unwrap().to_string();
    let (_, list) = app.admin("GET", "/events?status=unrouted", None).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [event_id.as_str()]);
    let (_, detail) = app.admin("GET", &format!("/events/{event_id}"), None).await;
    assert_eq!(detail["status"], "unrouted");
    assert_eq!(detail["route_errors"], json!([]));
    // Stored as received all the same, and its duplicate is recognised.
    assert_eq!(detail["payload"]["id"], "evt_unrouted");
    let (_, again) = app
        .ingest("stripe", &invoice("evt_unrouted", false, 10), &[])
        .await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(app.dispatcher.run_once().await.unwrap(), 0);
    assert_eq!(billing.count(), 0);
    app.shutdown().await;
}

async fn a_failing_filter_skips_its_route_and_keeps_the_error(backend: Backend) {
    let billing = TestTarget::start().await;
    let audit = TestTarget::start().await;
    let extra = routes(&[
        // A number cannot be matched with `test`: a runtime error.
        Route::new("stripe", "billing")
            .url(&billing.url)
            .filter(r#".body.data.object.amount_paid | test("^2")"#),
        Route::new("stripe", "audit").url(&audit.url),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let (status, body) = app
        .ingest("stripe", &invoice("evt_err", true, 2000), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event_id = body["event_id"].as_str().unwrap();
    assert_eq!(targets_of(&app, event_id).await, ["audit"]);
    let (_, detail) = app.admin("GET", &format!("/events/{event_id}"), None).await;
    let errors = detail["route_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{detail}");
    assert_eq!(errors[0]["route"], "routes[0] (stripe -> billing)");
    assert_eq!(errors[0]["key"], "filter");
    assert!(
        errors[0]["error"].as_str().unwrap().contains("2000"),
        "{detail}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hookgate_route_errors_total")
                && l.contains("target=\"billing\"")
                && l.contains("expression=\"filter\"")
                // Both backends' cases share this test process's recorder.
                && l.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()) >= Some(1.0)),
        "{metrics}"
    );
    app.shutdown().await;
}

/// Verifies a Standard Webhooks signature over `body` as a target would.
fn signature_for(body: &[u8], event_id: &str, ts: i64) -> String {
    Signer::with_secret("standard-webhooks", TARGET_SIGNING_SECRET, "")
        .headers_as(body, ts, event_id)
        .into_iter()
        .find(|(k, _)| k == "webhook-signature")
        .map(|(_, v)| v)
        .unwrap()
}

async fn a_transform_shapes_what_the_target_receives(backend: Backend) {
    let slack = TestTarget::start().await;
    let extra = routes(&[Route::new("stripe", "notifier")
        .url(&slack.url)
        .signing_secret(TARGET_SIGNING_SECRET)
        .transform(r#"{text: "\(.event_type) for \(.body.data.object.customer)", amount: .body.data.object.amount_paid, source}"#)]);
    let app = spawn_app(&backend, &extra).await;
    let sent = invoice("evt_shaped", true, 2000);
    let (status, body) = app.ingest("stripe", &sent, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event_id = body["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("transformed delivery", || async { slack.count() == 1 })
        .await;
    let got = &slack.received()[0];
    assert_eq!(got.header("content-type"), "application/json");
    let received: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        received,
        json!({"text": "invoice.paid for cus_42", "amount": 2000, "source": "stripe"})
    );
    // The signature covers the bytes sent, not the stored event.
    let ts: i64 = got.header("webhook-timestamp").parse().unwrap();
    assert_eq!(
        got.header("webhook-signature"),
        signature_for(&got.body, &event_id, ts)
    );
    // The stored event is unchanged, and the attempt names the route.
    let (_, detail) = app.admin("GET", &format!("/events/{event_id}"), None).await;
    assert_eq!(detail["body_text"], sent);
    let delivery = &detail["deliveries"][0];
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["transformed_by"], "routes[0] (stripe -> notifier)");
    assert_eq!(
        delivery["attempts"][0]["transformed_by"],
        "routes[0] (stripe -> notifier)"
    );
    app.shutdown().await;
}

async fn a_failing_transform_is_dead_at_once_and_a_retry_uses_the_fixed_one(backend: Backend) {
    let target = TestTarget::start().await;
    let broken = routes(&[Route::new("stripe", "notifier")
        .url(&target.url)
        .max_attempts(5)
        .transform(".body.data.object.amount_paid | ascii_downcase")]);
    // Kept for both runs (a SQLite database lives in its temporary folder).
    let db = TestDb::new(&backend).await;
    let app = spawn_app_with(
        TestDb::existing(&db.url),
        TestConfig::new().with(&broken),
        STEPPED,
    )
    .await;
    let (status, body) = app
        .ingest("stripe", &invoice("evt_broken", true, 2000), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event_id = body["event_id"].as_str().unwrap().to_string();
    assert_eq!(app.dispatcher.run_once().await.unwrap(), 1);
    // Dead with the jq error, after one attempt and no request.
    assert_eq!(app.dispatcher.run_once().await.unwrap(), 0);
    let (_, detail) = app.admin("GET", &format!("/events/{event_id}"), None).await;
    let delivery = &detail["deliveries"][0];
    assert_eq!(delivery["status"], "dead", "{detail}");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "no retries: {detail}");
    let error = attempts[0]["error"].as_str().unwrap();
    assert!(
        error.contains("transform of routes[0] (stripe -> notifier)"),
        "{error}"
    );
    assert_eq!(attempts[0]["status_code"], Value::Null);
    assert_eq!(target.count(), 0, "nothing was sent");
    let delivery_id = delivery["delivery_id"].as_str().unwrap().to_string();
    // The operator fixes the expression and restarts on the same database.
    app.shutdown().await;
    let fixed = routes(&[Route::new("stripe", "notifier")
        .url(&target.url)
        .transform("{amount: .body.data.object.amount_paid}")]);
    let app = spawn_app_with(
        TestDb::existing(&db.url),
        TestConfig::new().with(&fixed),
        STEPPED,
    )
    .await;
    let (status, _) = app
        .admin("POST", &format!("/deliveries/{delivery_id}/retry"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.dispatch_until("retried with the fixed transform", || async {
        target.count() == 1
    })
    .await;
    let got: Value = serde_json::from_slice(&target.received()[0].body).unwrap();
    assert_eq!(got, json!({"amount": 2000}));
    app.shutdown().await;
}

async fn a_runaway_expression_is_cut_and_ingest_keeps_answering(backend: Backend) {
    let target = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "billing")
            .url(&target.url)
            .filter("last(range(1e15)) > 0"),
        Route::new("github", "deployer").url(&target.url),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let runaway_body = invoice("evt_runaway", true, 1);
    let runaway = app.ingest("stripe", &runaway_body, &[]);
    let other = async {
        // While the runaway runs, the gateway answers other requests.
        let health = app.get("/healthz").await.status();
        let push = json!({"ref": "refs/heads/main"}).to_string();
        let (status, _) = app
            .ingest("github", &push, &[("X-GitHub-Event", "push")])
            .await;
        (health, status)
    };
    let ((status, body), (health, push_status)) = tokio::join!(runaway, other);
    assert_eq!(health, 200);
    assert_eq!(push_status, StatusCode::OK);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deliveries"], 0, "the runaway filter did not take it");
    let event_id = body["event_id"].as_str().unwrap();
    let (_, detail) = app.admin("GET", &format!("/events/{event_id}"), None).await;
    let error = detail["route_errors"][0]["error"].as_str().unwrap();
    assert!(error.contains("ran longer than"), "{error}");
    // The worker was replaced: the next evaluation works.
    let (status, body) = app
        .ingest("stripe", &invoice("evt_after", true, 1), &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.shutdown().await;
}

fn bad_expression_is_refused_at_start_naming_the_route() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new()
        .with(&routes(&[
            Route::new("stripe", "billing").url("http://127.0.0.1:9/x"),
            Route::new("github", "deployer")
                .url("http://127.0.0.1:9/y")
                .filter(r#".body.ref == "refs/heads/main" and"#),
        ]))
        .write(&config);
    let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["check-config", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("routes[1].filter"), "{stderr}");
    assert!(stderr.contains("\"github\" to \"deployer\""), "{stderr}");
    assert!(stderr.contains("expected"), "{stderr}");
}

async fn the_route_tester_answers_without_storing(backend: Backend) {
    let extra = routes(&[
        Route::new("stripe", "billing")
            .url("http://127.0.0.1:9/b")
            .types(&["invoice.*"])
            .filter(LIVE_PAID)
            .ordering_key(".body.data.object.customer"),
        Route::new("stripe", "notifier")
            .url("http://127.0.0.1:9/n")
            .transform("{text: .event_type}"),
        Route::new("stripe", "refunds")
            .url("http://127.0.0.1:9/r")
            .types(&["charge.refunded"]),
    ]);
    let app = spawn_app(&backend, &extra).await;
    let body: Value = serde_json::from_str(&invoice("evt_tested", false, 2000)).unwrap();
    let (status, tested) = app
        .admin(
            "POST",
            "/routes/test",
            Some(json!({"source": "stripe", "body": body})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    assert_eq!(tested["event_type"], "invoice.paid");
    let routes = tested["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3);
    assert_eq!(routes[0]["target"], "billing");
    assert_eq!(routes[0]["applies"], false);
    assert!(
        routes[0]["why"].as_str().unwrap().contains("false"),
        "{tested}"
    );
    assert_eq!(routes[1]["applies"], true);
    assert_eq!(routes[1]["body"], json!({"text": "invoice.paid"}));
    assert_eq!(routes[2]["applies"], false);
    assert!(routes[2]["why"]
        .as_str()
        .unwrap()
        .contains("charge.refunded"));
    let live: Value = serde_json::from_str(&invoice("evt_tested", true, 2000)).unwrap();
    let (_, tested) = app
        .admin(
            "POST",
            "/routes/test",
            Some(json!({"source": "stripe", "body": live})),
        )
        .await;
    assert_eq!(tested["routes"][0]["applies"], true);
    assert_eq!(tested["routes"][0]["ordering_key"], "cus_42");
    assert_eq!(
        tested["routes"][0]["body"], live,
        "no transform: the body as sent"
    );
    assert_eq!(
        app.store.counts().await.unwrap().events,
        0,
        "nothing stored"
    );
    let (status, _) = app
        .admin(
            "POST",
            "/routes/test",
            Some(json!({"source": "nope", "body": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app.admin("GET", "/routes", None).await;
    assert_eq!(listed[0]["filter"], LIVE_PAID);
    assert_eq!(listed[1]["transform"], "{text: .event_type}");
    app.shutdown().await;
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// `hookgate route-test --json` for one fixture folder.
fn route_test_cli(config: &Path, source: &str, folder: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["route-test", "--json", "--source", source, "-c"])
        .arg(config)
        .arg(folder)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every fixture folder through a filtered config: what `hookgate
/// route-test` says each fixture would reach is what ingest then does.
async fn the_route_tester_agrees_with_ingest_on_every_fixture(backend: Backend) {
    let target = TestTarget::start().await;
    let sources = crate::test_keys::sources();
    // SNS and PayPal verify with a certificate that ingest fetches over
    // HTTPS before verifying (`Scheme::preflight`); the route tester never
    // fetches, so their fixtures cannot be tested by it (and their sources
    // need a certificate server, see `sns.rs`).
    let folders: Vec<(&str, &str)> = crate::fixtures::SOURCES
        .iter()
        .copied()
        .filter(|(_, source)| !matches!(*source, "sns" | "paypal"))
        .collect();
    let mut extra = sources.clone();
    for (_, source) in &folders {
        extra += &Route::new(source, &format!("even_{source}"))
            .url(&target.url)
            .filter("(.event_type | length) % 2 == 0")
            .toml();
        extra += &Route::new(source, &format!("shaped_{source}"))
            .url(&target.url)
            .filter(r#".body != null and (.event_type | test("\\.") )"#)
            .transform("{type: .event_type, provider}")
            .toml();
    }
    let app = spawn_app(&backend, &extra).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new().with(&extra).write(&config);
    let (mut compared, mut taken) = (0, 0);
    for (folder, source) in folders {
        let path = fixtures_dir().join(folder);
        let tested = route_test_cli(&config, source, &path);
        assert!(!tested.is_empty(), "{folder}");
        let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .args(["replay", "--source", source, "--url", &app.base, "-c"])
            .arg(&config)
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{folder}: {stdout}");
        // file -> the IDs of the events it became.
        let replayed: HashMap<String, String> = stdout
            .lines()
            .map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                (cols[0].to_string(), cols[2].to_string())
            })
            .collect();
        for t in tested {
            if t.get("error").is_some() {
                // Only handshakes cannot be tested; ingest answers them unstored.
                assert!(t["error"].as_str().unwrap().contains("handshake"), "{t}");
                continue;
            }
            let file = t["file"].as_str().unwrap();
            // A batch is tested by its first event; all of them are delivered.
            let mut ids = replayed[file].split(',');
            let event_id = ids.next().unwrap();
            for other in ids {
                taken += targets_of(&app, other).await.len();
            }
            let want: BTreeSet<String> = t["routes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["applies"] == true)
                .map(|r| r["target"].as_str().unwrap().to_string())
                .collect();
            let got: BTreeSet<String> = targets_of(&app, event_id).await.into_iter().collect();
            assert_eq!(got, want, "{file}: tester and ingest agree");
            taken += got.len();
            compared += 1;
        }
    }
    assert!(compared >= 100, "compared {compared} fixtures");
    assert!(
        taken > 0 && taken < 2 * compared,
        "filters took some and refused some: {taken} of {}",
        2 * compared
    );
    // What the shaped routes deliver is what the tester showed.
    app.dispatch_until("deliveries sent", || async { target.count() == taken })
        .await;
    let shaped: HashMap<String, usize> = target
        .received()
        .iter()
        .filter(|r| r.header("content-type") == "application/json")
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter(|v| v.get("provider").is_some())
        .fold(HashMap::new(), |mut m, v| {
            *m.entry(v["provider"].as_str().unwrap().to_string())
                .or_default() += 1;
            m
        });
    println!("route tester: {compared} fixtures agree with ingest, {taken} deliveries, transformed by provider: {shaped:?}");
    app.shutdown().await;
}

#[test]
fn bad_expressions_are_refused_at_start() {
    bad_expression_is_refused_at_start_naming_the_route();
}

crate::backend_tests!(
    a_filter_decides_which_routes_take_an_event,
    an_event_no_route_takes_is_stored_unrouted,
    a_failing_filter_skips_its_route_and_keeps_the_error,
    a_transform_shapes_what_the_target_receives,
    a_failing_transform_is_dead_at_once_and_a_retry_uses_the_fixed_one,
    a_runaway_expression_is_cut_and_ingest_keeps_answering,
    the_route_tester_answers_without_storing,
    the_route_tester_agrees_with_ingest_on_every_fixture,
);
