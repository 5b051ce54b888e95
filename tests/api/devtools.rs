//! The developer tools through the real binary: `trigger` (a fixture of a
//! type, fresh IDs, overrides, signed and delivered), `replay`'s NDJSON
//! output, concurrency, summary and source inference, and `listen`'s
//! compact and JSON styles.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::*;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .env_remove("HOOKGATE_FIXTURES")
        .output()
        .expect("run hookgate")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn ndjson(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect()
}

/// `hookgate trigger` with `config`, sending to `base`, fixtures from the
/// repository, then `rest` (options, source, event type).
fn trigger(config: &Path, base: &str, rest: &[&str]) -> Output {
    let fixtures = fixtures_dir();
    let mut args = vec![
        "trigger",
        "-c",
        config.to_str().unwrap(),
        "--url",
        base,
        "--fixtures",
        fixtures.to_str().unwrap(),
    ];
    args.extend(rest);
    run(&args)
}

/// The keys of a JSON object, in their order.
fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// (source, event type, overrides, pointer to check, the value it must have)
const TRIGGERS: &[(&str, &str, &[&str], &str, &str)] = &[
    (
        "stripe",
        "invoice.paid",
        &["data.object.amount_paid=4242", "/data/object/currency=eur"],
        "/data/object/amount_paid",
        "4242",
    ),
    (
        "github",
        "push",
        &["repository.name=triggered-repo"],
        "/repository/name",
        "\"triggered-repo\"",
    ),
    (
        "shopify",
        "orders/paid",
        &[
            "total_price=\"99.00\"",
            "note_attributes=[{\"name\":\"gift\"}]",
        ],
        "/total_price",
        "\"99.00\"",
    ),
];

async fn trigger_delivers_the_overridden_field(backend: Backend) {
    let target = TestTarget::start().await;
    let extra = routes(
        &TRIGGERS
            .iter()
            .map(|(source, ..)| Route::new(source, &format!("sink_{source}")).url(&target.url))
            .collect::<Vec<_>>(),
    );
    let app = spawn_app(&backend, &extra).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new().write(&config);
    let fixtures = fixtures_dir();
    for (i, (source, event_type, overrides, pointer, want)) in TRIGGERS.iter().enumerate() {
        let mut args = vec!["--json", source, event_type];
        for o in *overrides {
            args.extend(["--set", o]);
        }
        let out = trigger(&config, &app.base, &args);
        assert!(out.status.success(), "{source}: {}", text(&out.stderr));
        let lines = ndjson(&out);
        assert_eq!(lines[0]["kind"], "result", "{lines:?}");
        assert_eq!(lines[0]["status"], 200, "{lines:?}");
        assert_eq!(lines[0]["outcome"], "new", "{lines:?}");
        let event_id = lines[0]["event_ids"][0].as_str().unwrap().to_string();
        let stored = app.store.event(&event_id).await.unwrap().expect("stored");
        assert_eq!(stored.event_type, *event_type);
        app.dispatch_until("delivered", || async { target.count() > i })
            .await;
        let received = target
            .received()
            .into_iter()
            .find(|r| r.header("webhook-id") == event_id)
            .expect("the triggered event arrived");
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        let want: Value = serde_json::from_str(want).unwrap();
        assert_eq!(body.pointer(pointer), Some(&want), "{source}: {body}");
        // The fixture's own key order is kept.
        let fixture_name = std::fs::read_dir(fixtures.join(source))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.ends_with(".json")
                    && !name.ends_with(".headers.json")
                    && (name.trim_end_matches(".json") == *event_type
                        || name.trim_end_matches(".json") == event_type.replace('/', "."))
            })
            .unwrap();
        let fixture: Value =
            serde_json::from_slice(&std::fs::read(&fixture_name).unwrap()).unwrap();
        let mut fixture_keys = keys(&fixture);
        let body_keys = keys(&body);
        fixture_keys.retain(|k| body_keys.contains(k));
        assert_eq!(
            body_keys[..fixture_keys.len()],
            fixture_keys[..],
            "{source}"
        );
        if *source == "stripe" {
            assert_eq!(body["data"]["object"]["currency"], "eur");
            assert_ne!(body["id"], fixture["id"], "a fresh event ID");
            assert!(body["id"].as_str().unwrap().starts_with("evt_"));
            let created = body["created"].as_i64().unwrap();
            assert!(
                (created - now_secs()).abs() < 600,
                "a fresh timestamp: {created}"
            );
        }
        if *source == "shopify" {
            assert_eq!(body["note_attributes"][0]["name"], "gift");
        }
    }
    // Each trigger is a new event: the same again is not a duplicate.
    let out = trigger(&config, &app.base, &["stripe", "invoice.paid"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\t200\t"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).ends_with("\tnew\n"),
        "{}",
        text(&out.stdout)
    );
    // An unknown type names the types there are.
    let out = trigger(&config, &app.base, &["stripe", "invoice.nope"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("invoice.paid"),
        "{}",
        text(&out.stderr)
    );
    app.shutdown().await;
}

async fn replay_json_reports_each_answer_and_a_summary(backend: Backend) {
    let app = spawn_app(&backend, "").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new().write(&config);
    let folder = fixtures_dir().join("stripe");
    let files = std::fs::read_dir(&folder)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_str().unwrap();
            name.ends_with(".json") && !name.ends_with(".headers.json")
        })
        .count();
    // No --source: the one configured Stripe source is taken.
    let out = run(&[
        "replay",
        "-c",
        config.to_str().unwrap(),
        "--url",
        &app.base,
        "--unique",
        "--count",
        "2",
        "--concurrency",
        "4",
        "--json",
        folder.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = ndjson(&out);
    let (results, summary) = lines.split_at(lines.len() - 1);
    assert_eq!(results.len(), files * 2, "{lines:?}");
    for r in results {
        assert_eq!(r["kind"], "result");
        assert_eq!(
            (&r["status"], &r["outcome"]),
            (&Value::from(200), &Value::from("new"))
        );
    }
    let summary = &summary[0];
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["sent"], files * 2);
    assert_eq!(summary["ok"], files * 2);
    assert_eq!(
        (&summary["duplicate"], &summary["errors"]),
        (&Value::from(0), &Value::from(0))
    );
    assert!(summary["rate_per_sec"].as_f64().unwrap() > 0.0, "{summary}");
    assert_eq!(
        app.store.counts().await.unwrap().events as usize,
        files * 2,
        "every answer was a stored event"
    );
    // Text: one line per request on stdout, the summary on stderr; sending
    // each fixture twice as it is makes one new and one duplicate.
    let out = run(&[
        "replay",
        "-c",
        config.to_str().unwrap(),
        "--url",
        &app.base,
        "--count",
        "2",
        "--concurrency",
        "3",
        folder.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), files * 2);
    let n = files * 2;
    assert!(
        text(&out.stderr).contains(&format!("sent {n}, 2xx {n}, duplicate {files}, errors 0, ")),
        "{}",
        text(&out.stderr)
    );
    // A refused request counts as an error and fails the command.
    let wrong = crate::fixtures::wrong_secret_config(dir.path());
    let file = folder.join("invoice.paid.json");
    let out = run(&[
        "replay",
        "-c",
        wrong.to_str().unwrap(),
        "--url",
        &app.base,
        "--json",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let lines = ndjson(&out);
    assert_eq!(lines[0]["status"], 401);
    assert_eq!(lines[1]["errors"], 1);
    app.shutdown().await;
}

#[test]
fn replay_asks_for_a_source_when_two_have_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookgate.toml");
    TestConfig::new()
        .with("\n[[sources]]\nname = \"github-two\"\nprovider = \"github\"\nsecrets = [\"x\"]\n")
        .write(&config);
    let folder = fixtures_dir().join("github");
    let out = run(&[
        "replay",
        "-c",
        config.to_str().unwrap(),
        "--url",
        "http://127.0.0.1:9",
        folder.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("github, github-two") && stderr.contains("--source"),
        "{stderr}"
    );
}

async fn listen_prints_compact_lines_and_json_in_key_order(backend: Backend) {
    let json = Listen::start(&["--json"]);
    let compact = Listen::start(&["--compact"]);
    let extra = routes(&[
        Route::new("stripe", "json").url(&json.url),
        Route::new("stripe", "compact").url(&compact.url),
    ]);
    let app = spawn_app(&backend, &extra).await;
    // Keys in an order that is not alphabetical.
    let body = r#"{"type":"invoice.paid","id":"evt_listen_order","object":"event","data":{"zeta":1,"alpha":2}}"#;
    let (_, answer) = app.ingest("stripe", body, &[]).await;
    let event_id = answer["event_id"].as_str().unwrap().to_string();
    app.dispatch_until("both printed", || async {
        json.printed().lines().count() >= 2 && compact.printed().lines().count() >= 2
    })
    .await;
    let printed = json.printed();
    let line: Value = serde_json::from_str(printed.lines().nth(1).unwrap()).unwrap();
    assert_eq!(line["webhook_id"], event_id.as_str());
    assert_eq!(line["event_type"], "invoice.paid");
    assert_eq!(line["status"], 200);
    assert_eq!(keys(&line["body"]), ["type", "id", "object", "data"]);
    assert_eq!(keys(&line["body"]["data"]), ["zeta", "alpha"]);
    let printed = compact.printed();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 2, "one line per delivery: {printed}");
    assert!(
        lines[1].contains("stripe invoice.paid") && lines[1].contains("-> 200"),
        "{printed}"
    );
    app.shutdown().await;
}

crate::backend_tests!(
    trigger_delivers_the_overridden_field,
    replay_json_reports_each_answer_and_a_summary,
    listen_prints_compact_lines_and_json_in_key_order,
);
