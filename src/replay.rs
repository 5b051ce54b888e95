//! `hookgate replay`: sign fixture payloads exactly as a source's provider
//! would (first secret, current time, fresh delivery IDs) and POST them to a
//! running gateway, like `stripe trigger` for every provider.
//!
//! Rooms: [`fixtures`] reads the fixture folders, [`send`] sends with a
//! bounded concurrency and reports, [`trigger`] builds one event of a
//! given type from a fixture (`hookgate trigger`).

use std::path::PathBuf;

use serde_json::Value;

use crate::app::Source;
use crate::ids::fresh_id;
use crate::time::UnixMs;
use crate::wiring::Wiring;

pub mod fixtures;
pub mod send;
pub mod trigger;

pub use fixtures::{fixture_files, fixture_headers};

#[derive(Debug, Clone)]
pub struct Options {
    /// `None`: the one configured source of the fixture folder's provider.
    pub source: Option<String>,
    pub url: Option<String>,
    pub count: u32,
    pub unique: bool,
    pub print_curl: bool,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// NDJSON output.
    pub json: bool,
    pub paths: Vec<PathBuf>,
}

/// One request `replay` made (or, with `--print-curl`, would make).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub file: PathBuf,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// The source named by `--source`, else the one configured source whose
/// provider's fixture folder the arguments come from.
pub fn source_name(wiring: &Wiring, opts: &Options) -> Result<String, String> {
    if let Some(name) = &opts.source {
        return Ok(name.clone());
    }
    let folder = fixtures::common_folder(&opts.paths)
        .ok_or("--source is needed: the fixtures do not all come from one provider's folder")?;
    let mut candidates: Vec<&str> = wiring
        .config
        .sources
        .iter()
        .filter(|s| fixtures::folder_of(&s.provider) == folder)
        .map(|s| s.name.as_str())
        .collect();
    candidates.sort();
    match candidates.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!(
            "no configured source has the provider of fixture folder {folder:?}: pass --source"
        )),
        many => Err(format!(
            "sources {} all have the provider of fixture folder {folder:?}: pass --source",
            many.join(", ")
        )),
    }
}

/// The configured source `name`, ready to sign with.
pub fn signing_source<'a>(wiring: &'a Wiring, name: &str) -> Result<&'a Source, String> {
    let source = wiring
        .sources
        .get(name)
        .ok_or_else(|| format!("no source named {name:?} in the configuration"))?;
    source.provider.signing_ready(&source.keys)?;
    Ok(source)
}

/// Where to POST for `source`: `--url` as given (a bare gateway address
/// gets the source's ingest path), else the configured listen address.
pub fn ingest_url(wiring: &Wiring, url: Option<&str>, source: &str) -> String {
    match url {
        Some(u) if reqwest::Url::parse(u).is_ok_and(|p| p.path() == "/") => {
            format!("{}/ingest/{source}", u.trim_end_matches('/'))
        }
        Some(u) => u.to_string(),
        None => {
            let listen = wiring
                .config
                .server
                .listen
                .replace("0.0.0.0", "127.0.0.1")
                .replace("[::]", "[::1]");
            format!("http://{listen}/ingest/{source}")
        }
    }
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
    let name = source_name(wiring, opts)?;
    let source = signing_source(wiring, &name)?;
    let provider = &source.provider;
    let key = source.keys.first().unwrap_or_default().to_vec();
    let url = ingest_url(wiring, opts.url.as_deref(), &name);
    let mut prepared = Vec::new();
    for file in fixture_files(&opts.paths)? {
        let raw = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let extra = fixtures::fixture_headers(&file)?;
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

/// Sends `prepared` (or prints them as curl commands); whether every
/// request got a 2xx.
pub async fn send_or_print(
    url: &str,
    prepared: Vec<Prepared>,
    print_curl: bool,
    concurrency: usize,
    json: bool,
) -> bool {
    if print_curl {
        for p in &prepared {
            println!("{}", curl_command(url, p));
        }
        return true;
    }
    let summary = send::send_all(url, prepared, concurrency, json).await;
    summary.errors == 0
}

/// Runs `hookgate replay`; returns whether every request got a 2xx.
pub async fn run(wiring: &Wiring, opts: &Options) -> Result<bool, String> {
    let (url, prepared) = prepare(wiring, opts)?;
    Ok(send_or_print(&url, prepared, opts.print_curl, opts.concurrency, opts.json).await)
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
