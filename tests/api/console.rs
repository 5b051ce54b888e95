//! The operator console: its assets and their headers, and a real browser
//! (Debian's chromium driven by Playwright) using it against a real
//! hookgate with real events, including hostile ones.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;
use crate::tools;

/// GETs a console asset and checks it carries its content type and the
/// strict policy; returns its body.
async fn strict_asset(app: &TestApp, path: &str, content_type: &str) -> String {
    let resp = app.get(path).await;
    assert_eq!(resp.status(), 200, "{path}");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .unwrap_or_else(|| panic!("{path}: {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(header("content-type").starts_with(content_type), "{path}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{path}: {directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{path}: {csp}");
    resp.text().await.unwrap()
}

/// The modules a script imports by relative path (`from './api.js'`).
fn relative_imports(js: &str) -> Vec<String> {
    js.split("from './")
        .skip(1)
        .map(|rest| rest.split('\'').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn console_is_served_with_a_strict_policy() {
    let app = spawn_app(&Backend::Sqlite, "").await;
    let html = strict_asset(&app, "/console", "text/html").await;
    strict_asset(&app, "/console/console.css", "text/css").await;
    // The page itself holds no inline script, style or event handler, and
    // loads nothing from elsewhere.
    assert_eq!(html.matches("<script").count(), 1, "one script tag");
    assert!(html.contains(r#"<script type="module" src="console/main.js"></script>"#));
    for banned in [
        " style=",
        " onclick=",
        " onload=",
        " onerror=",
        "http://",
        "https://",
    ] {
        assert!(!html.contains(banned), "index.html has {banned:?}");
    }
    // Every script the page loads, following the imports from main.js, is
    // served the same way and never hands text to the HTML parser.
    let mut todo = vec!["main.js".to_string()];
    let mut seen = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        let js = strict_asset(&app, &format!("/console/{name}"), "text/javascript").await;
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "import(",
        ] {
            assert!(!js.contains(banned), "{name} uses {banned}");
        }
        todo.extend(relative_imports(&js));
        seen.push(name);
    }
    assert!(seen.len() > 1, "main.js imports the rest: {seen:?}");
    // A name that is not an asset is not served.
    let resp = app.get("/console/console.js").await;
    assert_eq!(resp.status(), 404, "no such asset");
    // No token is needed for the assets, and none of them holds data.
    let resp = app.get("/console/").await;
    assert_eq!(resp.status(), 200, "the redirect leads to the console");
    app.shutdown().await;
}

fn fail(status_body: &'static str) -> Reply {
    Reply {
        status: 500,
        status_body,
        headers: vec![],
    }
}

/// A Stripe event body whose ID, type and content are attacks on a page
/// that would render them as HTML.
fn hostile_event() -> String {
    json!({
        "id": "evt_<script>window.__pwned='id'</script>",
        "object": "event",
        "type": "customer.<img src=x onerror=\"window.__pwned='type'\">",
        "data": {"object": {
            "name": "<script>window.__pwned='body'</script>",
            "description": "<img src=x onerror=\"window.__pwned='img';alert(1)\">",
        }},
    })
    .to_string()
}

/// The filter of the console test's transforming route.
const ROUTE_FILTER: &str = ".body.data.object.amount_paid > 1000";

async fn console_in_a_real_browser(backend: Backend) {
    let (Some(python), Some(chromium)) = (tools::python_with("playwright"), tools::chromium())
    else {
        return;
    };
    let billing = TestTarget::start().await;
    let flaky = TestTarget::scripted(vec![fail("upstream timeout")], 200).await;
    let ledger = TestTarget::scripted((0..3).map(|_| fail("ledger down")).collect(), 200).await;
    let notifier = TestTarget::start().await;
    let extra = routes(&[
        Route::new("stripe", "billing")
            .url(&billing.url)
            .types(&["invoice.*", "customer.*"]),
        Route::new("stripe", "flaky")
            .url(&flaky.url)
            .max_attempts(1)
            .types(&["charge.*"]),
        Route::new("github", "ledger")
            .url(&ledger.url)
            .max_attempts(1),
        Route::new("stripe", "notifier")
            .url(&notifier.url)
            .types(&["invoice.*"])
            .filter(ROUTE_FILTER)
            .transform("{text: .event_type}")
            .ordering_key(".body.data.object.id"),
    ]);
    let db = TestDb::new(&backend).await;
    let app = spawn_app_with(db, TestConfig::new().with(&extra), Roles::default()).await;

    // 500 older events for the paging and rendering checks.
    let day_ago = now_ms() - 86_400_000;
    for chunk in 0..5 {
        let batch: Vec<_> = (0..100)
            .map(|i| {
                let n = chunk * 100 + i;
                app.verified_stripe_event(
                    &stripe_event(&format!("evt_seed_{n:04}"), "seed.bulk"),
                    day_ago + n,
                )
            })
            .collect();
        app.store.ingest_batch(&batch).await.unwrap();
    }
    // Today's events: delivered invoices, a charge whose delivery dies, three
    // GitHub pushes whose deliveries die, a hostile event and a conflict.
    for id in [
        "evt_1R2d4bKJ8sV0aPq9Lm3nXy7Z",
        "evt_1R2d4cKJ8sV0aPq9Qw8eRt5U",
    ] {
        let (status, _) = app
            .ingest("stripe", &stripe_event(id, "invoice.paid"), &[])
            .await;
        assert_eq!(status, 200);
    }
    let charge_pid = "evt_1R2d4fKJ8sV0aPq9Hn2bVc4X";
    let (_, charge) = app
        .ingest("stripe", &stripe_event(charge_pid, "charge.failed"), &[])
        .await;
    for n in 0..3 {
        let body = format!(r#"{{"ref":"refs/heads/main","after":"{n:040x}"}}"#);
        let (status, _) = app
            .ingest("github", &body, &[("X-GitHub-Event", "push")])
            .await;
        assert_eq!(status, 200);
    }
    let hostile = hostile_event();
    let (status, xss) = app
        .ingest(
            "stripe",
            &hostile,
            &[("X-Note", "<img src=x onerror=\"window.__pwned='header'\">")],
        )
        .await;
    assert_eq!(status, 200, "{xss}");
    let conflict_pid = "evt_1R2d4bKJ8sV0aPq9Lm3nXy7Z";
    let (status, _) = app
        .ingest("stripe", &stripe_event(conflict_pid, "invoice.voided"), &[])
        .await;
    assert_eq!(status, 409);
    let charge_id = charge["event_id"].as_str().unwrap().to_string();
    eventually("the charge's and the pushes' deliveries die", || async {
        let (_, page) = app.admin("GET", "/deliveries?status=dead", None).await;
        let (_, pending) = app.admin("GET", "/deliveries?status=pending", None).await;
        page["items"].as_array().unwrap().len() == 4
            && pending["items"].as_array().unwrap().is_empty()
    })
    .await;

    let shots = match std::env::var_os("HOOKGATE_SCREENSHOTS") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("hookgate-console-{}", rand::random::<u32>())),
    };
    std::fs::create_dir_all(&shots).unwrap();
    // Sent by the browser script while it watches the list. Signed now:
    // the whole run is bounded by 5 minutes, Stripe's tolerance, and Stripe
    // refuses only stale timestamps.
    let live_body = stripe_event("evt_1R2d4hKJ8sV0aPq9Ar7fQw2E", "invoice.created");
    let live_headers: serde_json::Map<String, Value> = app
        .signed_headers("stripe", live_body.as_bytes(), &[])
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let scenario = json!({
        "base": app.base,
        "token": ADMIN_TOKEN,
        "live_event": {"path": "/ingest/stripe", "body": live_body, "headers": live_headers},
        "chromium": chromium,
        "shots": shots,
        "charge_pid": charge_pid,
        "charge_event_id": charge_id,
        "hostile_pid": "evt_<script>window.__pwned='id'</script>",
        "github_events": 3,
        "conflict_pid": conflict_pid,
        "seeded": 500,
        "route_filter": ROUTE_FILTER,
    });
    let started = Instant::now();
    let run = tokio::process::Command::new(&python)
        .arg(tools::script("console.py"))
        .arg(scenario.to_string())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the browser run ends within 5 minutes")
        .expect("run the browser script");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "{text}browser run: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "the browser run failed:\n{text}");

    // What the browser did reached the targets.
    let deliveries = app.store.deliveries_of(&charge_id).await.unwrap();
    assert_eq!(deliveries[0].status, "delivered");
    assert_eq!(flaky.count(), 2, "the failed attempt and the retry");
    assert_eq!(ledger.count(), 6, "three failures, three bulk retries");
    assert!(billing.count() >= 3, "the invoices and the hostile event");
    assert!(notifier.count() >= 2, "the invoices, transformed");
    app.shutdown().await;
}

crate::backend_tests!(console_in_a_real_browser);
