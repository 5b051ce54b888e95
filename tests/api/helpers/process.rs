//! The real `hookgate` binary as a child process: started on port 0 (it
//! logs the address it bound), its stderr collected, stopped by signal.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Signer;

/// What one ingest request got back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub provider_id: String,
    /// `None`: no HTTP answer at all (connection refused or cut).
    pub status: Option<u16>,
    pub event_id: Option<String>,
    pub retry_after: bool,
    pub body: String,
}

impl Answer {
    /// Within the contract under a storage fault: 200 with an event ID, or
    /// 503 with `Retry-After`. `no_answer_ok` for when the process is killed.
    pub fn keeps_contract(&self, no_answer_ok: bool) -> bool {
        match self.status {
            Some(200) => self.event_id.is_some(),
            Some(503) => self.retry_after,
            None => no_answer_ok,
            Some(_) => false,
        }
    }
}

/// Signs one Stripe event, padded with `pad` bytes, and POSTs it.
pub async fn send_stripe(
    client: &reqwest::Client,
    base: &str,
    provider_id: &str,
    pad: usize,
) -> Answer {
    let body = format!(
        "{{\"id\":\"{provider_id}\",\"object\":\"event\",\"type\":\"invoice.paid\",\"pad\":\"{}\"}}",
        "x".repeat(pad)
    );
    let sent = post_signed(client, base, "stripe", &body, super::now_secs()).await;
    let mut answer = Answer {
        provider_id: provider_id.to_string(),
        status: None,
        event_id: None,
        retry_after: false,
        body: String::new(),
    };
    let Ok(resp) = sent else { return answer };
    let status = resp.status().as_u16();
    answer.retry_after = resp.headers().contains_key("retry-after");
    // A body cut off by a crash leaves the outcome unknown: no answer.
    let Ok(text) = resp.text().await else {
        return answer;
    };
    answer.status = Some(status);
    if status == 200 {
        answer.event_id = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["event_id"].as_str().map(str::to_string));
    }
    answer.body = text;
    answer
}

/// POSTs `body` to `{base}/ingest/{source}`, signed at `at` (seconds) as
/// that source of the standard test configuration would sign it.
pub async fn post_signed(
    client: &reqwest::Client,
    base: &str,
    source: &str,
    body: &str,
    at: i64,
) -> reqwest::Result<reqwest::Response> {
    let mut req = client
        .post(format!("{base}/ingest/{source}"))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    for (k, v) in Signer::test_source(source).headers(body.as_bytes(), at) {
        req = req.header(k, v);
    }
    req.send().await
}

/// The real `hookgate` binary serving a config file, its stderr collected.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
}

pub fn spawn_binary(config_path: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
    spawn_binary_via(&[], config_path, args, env)
}

/// [`spawn_binary`] started through `wrapper` (for example
/// `["prlimit", "--nofile=256:256"]`), which then execs hookgate.
pub fn spawn_binary_via(
    wrapper: &[&str],
    config_path: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Proc {
    let mut cmd = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut cmd = Command::new(program);
            cmd.args(rest).arg(env!("CARGO_BIN_EXE_hookgate"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_hookgate")),
    };
    cmd.arg("serve")
        .args(args)
        .arg("-c")
        .arg(config_path)
        .env("HOOKGATE_LOG_FORMAT", "json")
        // Delivered attempts are DEBUG lines; some tests count them.
        .env("RUST_LOG", "info,hookgate::dispatch=debug")
        .env_remove("HOOKGATE_DATABASE_URL")
        .env_remove("HOOKGATE_LISTEN")
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn hookgate");
    let stderr = child.stderr.take().unwrap();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("hookgate listening") {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if let Some(addr) = v.get("addr").and_then(Value::as_str) {
                        let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                    }
                }
            }
            sink.lock().unwrap().push(line);
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => addr,
        Err(_) => {
            let _ = child.kill();
            panic!("hookgate did not start; logs: {:?}", logs.lock().unwrap());
        }
    };
    Proc { child, addr, logs }
}

impl Proc {
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sigkill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn sigterm(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "hookgate did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hookgate listen` on a port it picks itself (port 0): the address it
/// prints on start is the one it bound, so no other process can take it
/// in between. Its stdout is collected; it is killed when dropped.
pub struct Listen {
    child: Child,
    /// Where to send deliveries.
    pub url: String,
    out: Arc<Mutex<String>>,
}

impl Listen {
    pub fn start(args: &[&str]) -> Listen {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .args(["listen", "-c", "/nonexistent/hookgate.toml"])
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn hookgate listen");
        let out = Arc::new(Mutex::new(String::new()));
        let (sink, stdout) = (out.clone(), child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // "hookgate listen: receiving on http://127.0.0.1:PORT/ (...)",
                // or with --json {"listening":"http://127.0.0.1:PORT/"}.
                let json = serde_json::from_str::<Value>(&line).ok();
                let started = match json.as_ref().and_then(|v| v["listening"].as_str()) {
                    Some(url) => Some(url.to_string()),
                    None => line
                        .split("receiving on ")
                        .nth(1)
                        .and_then(|rest| rest.split_whitespace().next())
                        .map(str::to_string),
                };
                if let Some(base) = started {
                    let _ = tx.send(base.trim_end_matches('/').to_string());
                }
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!("hookgate listen did not start: {}", out.lock().unwrap());
            }
        };
        Listen {
            child,
            url: format!("{base}/hooks"),
            out,
        }
    }

    /// Everything printed so far.
    pub fn printed(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
