//! The logs of the real binary written to a file, as under systemd or a
//! redirect: no colour codes, the shipped development secrets named in one
//! warning line, and a start-up line with the URLs to use.

use std::time::{Duration, Instant};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_is_plain_and_warns_once() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/hookgate.toml");
    let db = TestDb::new(&Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("hookgate.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["serve", "--no-dispatcher", "-c", shipped])
        .env("HOOKGATE_LISTEN", "127.0.0.1:0")
        .env("HOOKGATE_DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .env_remove("HOOKGATE_LOG_FORMAT")
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read(&log_path).unwrap();
        if String::from_utf8_lossy(&log).contains("hookgate listening") {
            break log;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("hookgate did not start: {}", String::from_utf8_lossy(&log));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    let _ = child.wait();
    let text = String::from_utf8(log).unwrap();
    assert!(
        !text.contains('\u{1b}'),
        "ANSI escape in a file log:\n{text}"
    );

    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("development value"))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning line:\n{text}");
    let config = parse_config(&std::fs::read_to_string(shipped).unwrap());
    let mut keys = vec!["admin.token".to_string()];
    for (i, source) in config.sources.iter().enumerate() {
        keys.push(format!("sources[{i}].secrets ({})", source.name));
    }
    keys.push("targets[0].signing_secret (example)".to_string());
    for key in &keys {
        assert!(
            warnings[0].contains(key.as_str()),
            "{key} in {}",
            warnings[0]
        );
    }

    let listening = text
        .lines()
        .find(|l| l.contains("hookgate listening"))
        .unwrap();
    let base = listening
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|addr| format!("http://{addr}"))
        .unwrap_or_else(|| panic!("no addr in {listening}"));
    for url in ["/ingest/{source}", "/console", "/admin/v1", "/metrics"] {
        assert!(
            listening.contains(&format!("{base}{url}")),
            "{base}{url} in {listening}"
        );
    }
}
