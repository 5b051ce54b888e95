//! `hookgate check-config`: every problem of a configuration at once, each
//! naming its key and the entry by name (`sources[1].secrets (source
//! "billing")`),
//! else what it configures. Text, or with `--json` one object per line
//! (`kind`: `source`, `target`, `route`, `warning`, `error`, then one
//! `result`).

use serde_json::{json, Value};

use super::{CheckArgs, CliError};
use crate::config::{process_env, redact_url, resolve_path, Config, ConfigError};
use crate::wiring::Wiring;

pub fn run(args: &CheckArgs) -> Result<(), CliError> {
    let path = resolve_path(args.config.config.as_deref(), &process_env);
    // A file that cannot be read or parsed has one problem: it stops here.
    let config = Config::load_unchecked(&path, &process_env)?;
    let mut problems = config.problems();
    if config.database.url.starts_with("sqlite:") {
        if let Some(why) = crate::store::sqlite::folder_problem(&config.database.url) {
            problems.push(ConfigError::new("database.url", why));
        }
    }
    let wiring = match Wiring::build_all(config.clone()) {
        Ok(wiring) => Some(wiring),
        Err(errors) => {
            problems.extend(errors);
            None
        }
    };
    let json = args.output.json;
    match wiring {
        Some(wiring) if problems.is_empty() => {
            report(&wiring.config, json);
            Ok(())
        }
        _ => {
            if json {
                for e in &problems {
                    line(json!({
                        "kind": "error", "key": e.key, "named": config.name_entry(&e.key),
                        "message": e.message,
                    }));
                }
                line(json!({"kind": "result", "valid": false, "errors": problems.len()}));
            }
            Err(CliError::Configs(
                problems
                    .iter()
                    .map(|e| format!("{}: {}", config.name_entry(&e.key), e.message))
                    .collect(),
            ))
        }
    }
}

fn line(value: Value) {
    println!("{value}");
}

/// What a valid configuration sets up, and its shipped development values.
fn report(config: &Config, json: bool) {
    let backend = if config.database.url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let admin = config.admin.token.is_some();
    if !json {
        println!("configuration is valid");
        println!("listen: {}", config.server.listen);
        println!("database: {backend}");
        println!(
            "admin API: {}",
            if admin { "on" } else { "off (no admin.token)" }
        );
        println!("sources:");
    }
    for s in &config.sources {
        if json {
            line(json!({
                "kind": "source", "name": s.name, "provider": s.provider,
                "secrets": s.secrets.len(), "ingest_path": format!("/ingest/{}", s.name),
            }));
        } else {
            println!(
                "  {} ({}, {} secret(s)) -> POST /ingest/{}",
                s.name,
                s.provider,
                s.secrets.len(),
                s.name
            );
        }
    }
    if !json {
        println!("targets:");
    }
    for t in &config.targets {
        let url = redact_url(&t.url);
        let signed = t.signing_secret.is_some();
        if json {
            line(json!({
                "kind": "target", "name": t.name, "url": url,
                "max_attempts": t.max_attempts, "signed": signed,
            }));
        } else {
            let signed = if signed { ", signed" } else { "" };
            println!(
                "  {} -> {url} (max_attempts {}{signed})",
                t.name, t.max_attempts
            );
        }
    }
    if !json {
        println!("routes:");
    }
    for r in &config.routes {
        if json {
            line(json!({
                "kind": "route", "source": r.source, "target": r.target,
                "event_types": r.event_types,
            }));
        } else {
            let types = r
                .event_types
                .as_ref()
                .map_or_else(|| "*".to_string(), |t| t.join(", "));
            println!("  {} -> {} [{types}]", r.source, r.target);
        }
    }
    for place in config.shipped_development_values() {
        let message = format!(
            "{place} uses the development value shipped in hookgate.toml: anyone can sign with it; replace it"
        );
        if json {
            line(json!({"kind": "warning", "message": message}));
        } else {
            eprintln!("warning: {message}");
        }
    }
    if json {
        line(json!({
            "kind": "result", "valid": true, "errors": 0, "listen": config.server.listen,
            "database": backend, "admin_api": admin,
        }));
    }
}
