//! The checks serde cannot express, over plain data: limits above zero, a
//! listen address that parses, a database scheme we speak, names operators
//! can type. Each names the key to change. Also how a target URL may be
//! shown without leaking a credential.

use std::collections::HashSet;

use super::{Config, ConfigError};

impl Config {
    /// The checks of `[server]`, `[database]`, `[admin]` and `[dispatcher]`,
    /// every problem found (none: the values are usable). Sources, targets
    /// and routes are checked by building them (the `wiring` module).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut problems = Vec::new();
        let server = &self.server;
        if let Err(e) = server.listen.parse::<std::net::SocketAddr>() {
            problems.push(ConfigError::new(
                "server.listen",
                format!("not a socket address: {e}"),
            ));
        }
        above_zero(
            &mut problems,
            "server",
            [
                ("max_body_bytes", server.max_body_bytes as u64),
                ("request_timeout_ms", server.request_timeout_ms),
                ("header_timeout_ms", server.header_timeout_ms),
                ("idle_timeout_ms", server.idle_timeout_ms),
                ("max_connections", server.max_connections as u64),
            ],
        );
        if server.max_inflight_body_bytes < server.max_body_bytes {
            problems.push(ConfigError::new(
                "server.max_inflight_body_bytes",
                format!(
                    "must be at least server.max_body_bytes ({}), or a body of the largest allowed size could never be received",
                    server.max_body_bytes
                ),
            ));
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            problems.push(ConfigError::new(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        above_zero(
            &mut problems,
            "database",
            [("max_connections", u64::from(self.database.max_connections))],
        );
        if self
            .admin
            .token
            .as_ref()
            .is_some_and(|t| t.expose().is_empty())
        {
            problems.push(ConfigError::new("admin.token", "must not be empty"));
        }
        let d = &self.dispatcher;
        above_zero(
            &mut problems,
            "dispatcher",
            [
                ("retry_base_ms", d.retry_base_ms),
                ("poll_interval_ms", d.poll_interval_ms),
                ("batch_size", u64::from(d.batch_size)),
            ],
        );
        if d.retry_max_ms < d.retry_base_ms {
            problems.push(ConfigError::new(
                "dispatcher.retry_max_ms",
                "must be at least dispatcher.retry_base_ms",
            ));
        }
        problems
    }

    /// `key` followed by the name of the entry it points into, for messages
    /// listing many problems: `sources[2].secrets (source "billing")`,
    /// `routes[0].target (route stripe -> ledger)`. Other keys as they are.
    pub fn name_entry(&self, key: &str) -> String {
        let entry = key.split_once('[').and_then(|(table, rest)| {
            let i: usize = rest.split_once(']')?.0.parse().ok()?;
            match table {
                "sources" => Some(format!("source {:?}", self.sources.get(i)?.name)),
                "targets" => Some(format!("target {:?}", self.targets.get(i)?.name)),
                "routes" => {
                    let r = self.routes.get(i)?;
                    Some(format!("route {} -> {}", r.source, r.target))
                }
                _ => None,
            }
        });
        match entry {
            Some(entry) => format!("{key} ({entry})"),
            None => key.to_string(),
        }
    }
}

/// Adds a problem for each of `section`'s `values` that is 0, named by its key.
fn above_zero<const N: usize>(
    problems: &mut Vec<ConfigError>,
    section: &str,
    values: [(&str, u64); N],
) {
    for (key, _) in values.iter().filter(|(_, value)| *value == 0) {
        problems.push(ConfigError::new(
            format!("{section}.{key}"),
            "must be above 0",
        ));
    }
}

/// The name of the `what` (`source`, `target`) at `key` (`sources[2]`):
/// 1-64 characters of `[A-Za-z0-9_-]`, and not one an earlier entry in
/// `seen` already has.
pub fn check_unique_name<'a>(
    seen: &mut HashSet<&'a str>,
    name: &'a str,
    key: &str,
    what: &str,
) -> Result<(), ConfigError> {
    let key = format!("{key}.name");
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(ConfigError::new(
            key,
            format!("{name:?} must be 1-64 characters of a-z, A-Z, 0-9, '-' and '_'"),
        ));
    }
    if !seen.insert(name) {
        return Err(ConfigError::new(
            key,
            format!("duplicate {what} name {name:?}"),
        ));
    }
    Ok(())
}

/// A target URL as it may be shown in logs, errors and the admin API:
/// scheme, host, port and path, without credentials, query or fragment
/// (either may carry a token).
pub fn redact_url(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(u) if u.has_host() => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            )
        }
        // Not a URL we can take apart: still drop what could be a secret.
        _ => {
            let cut = raw.find(['?', '#']).unwrap_or(raw.len());
            let text = &raw[..cut];
            match (text.find("://"), text.rfind('@')) {
                (Some(s), Some(at)) if at > s => {
                    format!("{}[redacted]@{}", &text[..s + 3], &text[at + 1..])
                }
                (None, Some(at)) => format!("[redacted]@{}", &text[at + 1..]),
                _ => text.to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_budget_holds_at_least_one_largest_body() {
        let text = "[server]\nmax_body_bytes = 2048\nmax_inflight_body_bytes = 1024\n";
        let err = crate::config::Config::from_toml(text, &|_| None).unwrap_err();
        assert!(
            err.to_string().contains("server.max_inflight_body_bytes"),
            "{err}"
        );
        let text = "[server]\nmax_body_bytes = 2048\nmax_inflight_body_bytes = 2048\n";
        let config = crate::config::Config::from_toml(text, &|_| None).unwrap();
        assert_eq!(config.server.max_inflight_body_bytes, 2048);
        let default = crate::config::Config::from_toml("", &|_| None).unwrap();
        assert_eq!(default.server.max_inflight_body_bytes, 268_435_456);
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("https://u:p4ss@h.example:8443/a/b?token=t0k#f"),
            "https://h.example:8443/a/b"
        );
        assert_eq!(redact_url("http://h/x"), "http://h/x");
        let odd = redact_url("ftp:/u:p4ss@h/x?token=t0k");
        assert!(!odd.contains("p4ss") && !odd.contains("t0k"), "{odd}");
        let bad = redact_url("not a url u:p4ss@h?token=t0k");
        assert!(!bad.contains("p4ss") && !bad.contains("t0k"), "{bad}");
    }
}
