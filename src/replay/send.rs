//! Sending prepared requests for `replay` and `trigger`: up to
//! `concurrency` in flight, one line per answer (text or JSON) as answers
//! arrive, a progress bar on stderr when it is a terminal, and a summary.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use tokio::task::JoinSet;

use super::Prepared;

/// What one request got.
#[derive(Debug, Clone)]
pub struct Answer {
    pub file: String,
    /// `None`: no HTTP answer (connection refused, timeout).
    pub status: Option<u16>,
    /// The event ID(s) the gateway gave, comma-separated; `-` for none.
    pub event_id: String,
    /// `new`, `duplicate`, `handshake`, mixed counts, or why it failed.
    pub outcome: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn text(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "error".to_string(), |s| s.to_string());
        format!(
            "{}\t{status}\t{}\t{}",
            self.file, self.event_id, self.outcome
        )
    }

    fn json(&self) -> Value {
        let ids: Vec<&str> = self.event_id.split(',').filter(|id| *id != "-").collect();
        json!({
            "kind": "result",
            "file": self.file,
            "status": self.status,
            "ok": self.ok(),
            "event_ids": ids,
            "outcome": self.outcome,
        })
    }
}

/// The counts `replay` ends with.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub sent: u64,
    pub ok: u64,
    pub duplicate: u64,
    pub errors: u64,
    pub elapsed_secs: f64,
}

impl Summary {
    fn add(&mut self, a: &Answer) {
        self.sent += 1;
        if a.ok() {
            self.ok += 1;
            if a.outcome == "duplicate" {
                self.duplicate += 1;
            }
        } else {
            self.errors += 1;
        }
    }

    pub fn rate(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.sent as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    pub fn text(&self) -> String {
        format!(
            "sent {}, 2xx {}, duplicate {}, errors {}, {:.1} req/s",
            self.sent,
            self.ok,
            self.duplicate,
            self.errors,
            self.rate()
        )
    }

    pub fn json(&self) -> Value {
        json!({
            "kind": "summary",
            "sent": self.sent,
            "ok": self.ok,
            "duplicate": self.duplicate,
            "errors": self.errors,
            "elapsed_ms": (self.elapsed_secs * 1000.0).round() as u64,
            "rate_per_sec": (self.rate() * 10.0).round() / 10.0,
        })
    }
}

/// Sends every request, `concurrency` at a time, printing each answer as
/// it comes (stdout) and a summary (stdout with `json`, else stderr, so
/// stdout stays one line per request).
pub async fn send_all(
    url: &str,
    prepared: Vec<Prepared>,
    concurrency: usize,
    json: bool,
) -> Summary {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(prepared.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {elapsed}")
        {
            bar.set_style(style);
        }
        bar
    });
    let client = reqwest::Client::new();
    let url: Arc<str> = Arc::from(url);
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut waiting = prepared.into_iter();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some(p) = waiting.next() else { break };
            in_flight.spawn(send_one(client.clone(), url.clone(), p));
        }
        let Some(done) = in_flight.join_next().await else {
            break;
        };
        let answer = done.unwrap_or_else(|e| Answer {
            file: "-".into(),
            status: None,
            event_id: "-".into(),
            outcome: format!("task failed: {e}"),
        });
        summary.add(&answer);
        let line = if json {
            answer.json().to_string()
        } else {
            answer.text()
        };
        match &bar {
            Some(bar) => {
                bar.suspend(|| println!("{line}"));
                bar.inc(1);
            }
            None => println!("{line}"),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary.elapsed_secs = started.elapsed().as_secs_f64();
    if json {
        println!("{}", summary.json());
    } else {
        eprintln!("{}", summary.text());
    }
    summary
}

async fn send_one(client: reqwest::Client, url: Arc<str>, p: Prepared) -> Answer {
    let mut req = client.post(&*url).body(p.body);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    let file = p.file.display().to_string();
    let resp = match req.send().await {
        Ok(resp) => resp,
        Err(e) => {
            return Answer {
                file,
                status: None,
                event_id: "-".into(),
                outcome: e.to_string(),
            }
        }
    };
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    // Providers that need their own acknowledgement (Discord) get the
    // outcome in headers.
    let (acked_id, acked_duplicate) = (
        header("x-hookgate-event-id"),
        header("x-hookgate-duplicate"),
    );
    let json: Value = resp
        .text()
        .await
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let ok = (200..300).contains(&status);
    let (event_id, outcome) = outcome(&json, acked_id, acked_duplicate, ok);
    Answer {
        file,
        status: Some(status),
        event_id,
        outcome,
    }
}

/// The event ID(s) and the outcome of one answer: a batch lists its event
/// IDs comma-separated, `new`/`duplicate` when all agree, else the counts.
fn outcome(
    json: &Value,
    acked_id: Option<String>,
    acked_duplicate: Option<String>,
    ok: bool,
) -> (String, String) {
    if let Some(events) = json["events"].as_array() {
        let ids: Vec<&str> = events
            .iter()
            .map(|e| e["event_id"].as_str().unwrap_or("-"))
            .collect();
        let (new, dup) = (
            json["accepted"].as_i64().unwrap_or(0),
            json["duplicates"].as_i64().unwrap_or(0),
        );
        let conflicts = json["conflicts"].as_i64().unwrap_or(0);
        let what = match (new, dup, conflicts) {
            (_, 0, 0) => "new".to_string(),
            (0, _, 0) => "duplicate".to_string(),
            _ => format!("{new} new, {dup} duplicate, {conflicts} conflict"),
        };
        return (
            if ids.is_empty() {
                "-".into()
            } else {
                ids.join(",")
            },
            what,
        );
    }
    if let Some(id) = acked_id {
        let what = if acked_duplicate.as_deref() == Some("true") {
            "duplicate"
        } else {
            "new"
        };
        return (id, what.to_string());
    }
    let event_id = json["event_id"].as_str().unwrap_or("-").to_string();
    // A 2xx that is not an ingest outcome is a handshake's answer (JSON such
    // as Slack's, plain text, or nothing).
    let what = match json["duplicate"].as_bool() {
        Some(true) => "duplicate".to_string(),
        Some(false) => "new".to_string(),
        None if ok => "handshake".to_string(),
        None => json["detail"].as_str().unwrap_or("").to_string(),
    };
    (event_id, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u16>, outcome: &str) -> Answer {
        Answer {
            file: "f".into(),
            status,
            event_id: "-".into(),
            outcome: outcome.into(),
        }
    }

    #[test]
    fn the_summary_counts_each_kind_of_answer() {
        let mut s = Summary::default();
        for a in [
            answer(Some(200), "new"),
            answer(Some(200), "duplicate"),
            answer(Some(401), "bad signature"),
            answer(None, "connection refused"),
        ] {
            s.add(&a);
        }
        s.elapsed_secs = 2.0;
        assert_eq!((s.sent, s.ok, s.duplicate, s.errors), (4, 2, 1, 2));
        assert_eq!(s.text(), "sent 4, 2xx 2, duplicate 1, errors 2, 2.0 req/s");
        assert_eq!(s.json()["rate_per_sec"], 2.0);
    }

    #[test]
    fn a_batch_answer_lists_its_events() {
        let body = json!({"events": [{"event_id": "a"}, {"event_id": "b"}], "accepted": 2, "duplicates": 0});
        assert_eq!(
            outcome(&body, None, None, true),
            ("a,b".to_string(), "new".to_string())
        );
    }
}
