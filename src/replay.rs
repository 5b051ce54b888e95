//! `hookgate replay`: sign fixture payloads exactly as a source's provider
//! would (first secret, current time, fresh delivery IDs) and POST them to a
//! running gateway, like `stripe trigger` for every provider.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ids::fresh_id;
use crate::time::UnixMs;
use crate::wiring::Wiring;

#[derive(Debug, Clone)]
pub struct Options {
    pub source: String,
    pub url: Option<String>,
    pub count: u32,
    pub unique: bool,
    pub print_curl: bool,
    pub paths: Vec<PathBuf>,
}

/// One request `replay` made (or, with `--print-curl`, would make).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub file: PathBuf,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// The fixture bodies named by the arguments: files as given, folders as
/// their `*.json` files (not `*.headers.json`) and `*.form` files (form
/// bodies, as Twilio sends), in name order.
pub fn fixture_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| is_body_file(p))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    if files.is_empty() {
        return Err("no fixture files found".into());
    }
    Ok(files)
}

fn is_body_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (name.ends_with(".json") && !name.ends_with(".headers.json")) || name.ends_with(".form")
}

/// `<name>.headers.json` beside `<name>.json`, if there is one.
pub(crate) fn fixture_headers(file: &Path) -> Result<Vec<(String, String)>, String> {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name
        .strip_suffix(".json")
        .or_else(|| name.strip_suffix(".form"))
        .unwrap_or(name);
    let path = file.with_file_name(format!("{stem}.headers.json"));
    if !path.exists() {
        return Ok(vec![("Content-Type".into(), "application/json".into())]);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let map: serde_json::Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a JSON object: {e}", path.display()))?;
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            other => Ok((k, other.to_string())),
        })
        .collect()
}

/// Gives the body's event ID (at `pointer`) a random suffix, so a replayed
/// fixture is a new event rather than a duplicate.
fn make_unique(body: &[u8], pointer: &str) -> Result<Vec<u8>, String> {
    let mut json: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let slot = json
        .pointer_mut(pointer)
        .ok_or_else(|| format!("no event ID at {pointer}"))?;
    let current = slot
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| slot.to_string());
    *slot = Value::String(format!("{current}_{}", &fresh_id("")[..12]));
    serde_json::to_vec_pretty(&json).map_err(|e| e.to_string())
}

/// Reads, rewrites (with `--unique`) and signs every request to send, with
/// the source's provider and keys as built from the configuration.
pub fn prepare(wiring: &Wiring, opts: &Options) -> Result<(String, Vec<Prepared>), String> {
    let Some(source) = wiring.sources.get(&opts.source) else {
        return Err(format!(
            "no source named {:?} in the configuration",
            opts.source
        ));
    };
    let (provider, keys) = (&source.provider, &source.keys);
    provider.signing_ready(keys)?;
    let key = keys.first().unwrap_or_default().to_vec();
    let url = match &opts.url {
        // A bare gateway address gets the source's ingest path.
        Some(u) if reqwest::Url::parse(u).is_ok_and(|p| p.path() == "/") => {
            format!("{}/ingest/{}", u.trim_end_matches('/'), opts.source)
        }
        Some(u) => u.clone(),
        None => {
            let listen = wiring
                .config
                .server
                .listen
                .replace("0.0.0.0", "127.0.0.1")
                .replace("[::]", "[::1]");
            format!("http://{listen}/ingest/{}", opts.source)
        }
    };
    let mut prepared = Vec::new();
    for file in fixture_files(&opts.paths)? {
        let raw = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let extra = fixture_headers(&file)?;
        for _ in 0..opts.count.max(1) {
            let body = match (opts.unique, provider.body_id_pointer()) {
                (true, Some(pointer)) => {
                    make_unique(&raw, pointer).map_err(|e| format!("{}: {e}", file.display()))?
                }
                _ => raw.clone(),
            };
            let (body, signed) = provider.prepare(&key, &body, UnixMs::now());
            let mut headers = extra.clone();
            headers.extend(signed);
            prepared.push(Prepared {
                file: file.clone(),
                body,
                headers,
            });
        }
    }
    Ok((url, prepared))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub fn curl_command(url: &str, p: &Prepared) -> String {
    let mut cmd = format!("curl -sS -X POST {}", shell_quote(url));
    for (k, v) in &p.headers {
        cmd.push_str(&format!(" -H {}", shell_quote(&format!("{k}: {v}"))));
    }
    let body = String::from_utf8_lossy(&p.body);
    cmd.push_str(&format!(" --data-binary {}", shell_quote(&body)));
    cmd
}

/// Runs `hookgate replay`; returns whether every request got a 2xx.
pub async fn run(wiring: &Wiring, opts: &Options) -> Result<bool, String> {
    let (url, prepared) = prepare(wiring, opts)?;
    if opts.print_curl {
        for p in &prepared {
            println!("{}", curl_command(&url, p));
        }
        return Ok(true);
    }
    let client = reqwest::Client::new();
    let mut all_ok = true;
    for p in prepared {
        let mut req = client.post(&url).body(p.body.clone());
        for (k, v) in &p.headers {
            req = req.header(k, v);
        }
        let name = p.file.display();
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                // Providers that need their own acknowledgement (Discord)
                // get the outcome in headers.
                let (acked_id, acked_duplicate) = (
                    header("x-hookgate-event-id"),
                    header("x-hookgate-duplicate"),
                );
                let json: Option<Value> = resp
                    .text()
                    .await
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok());
                let ok = (200..300).contains(&status);
                let json = json.unwrap_or(Value::Null);
                let (event_id, what) = outcome(&json, acked_id, acked_duplicate, ok);
                println!("{name}\t{status}\t{event_id}\t{what}");
                all_ok &= ok;
            }
            Err(e) => {
                println!("{name}\terror\t-\t{e}");
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

/// The event ID(s) and the outcome of one answer, for replay's output: a
/// batch lists its event IDs comma-separated, `new`/`duplicate` when all
/// agree, else the counts.
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

    #[test]
    fn unique_rewrites_only_the_id() {
        let out = make_unique(br#"{"id":"evt_1","type":"a"}"#, "/id").unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert!(v["id"].as_str().unwrap().starts_with("evt_1_"));
        assert_eq!(v["type"], "a");
        assert!(make_unique(b"{}", "/id").is_err());
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
