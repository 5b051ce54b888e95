//! The checks serde cannot express, over plain data: limits above zero, a
//! listen address that parses, a database scheme we speak, names operators
//! can type. Each names the key to change. Also how a target URL may be
//! shown without leaking a credential.

use std::collections::HashSet;

use super::{Config, ConfigError};

impl Config {
    /// The checks of `[server]`, `[database]`, `[admin]` and `[dispatcher]`;
    /// the first problem found is returned. Sources, targets and routes are
    /// checked by building them (the `wiring` module).
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        server
            .listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| ConfigError::new("server.listen", format!("not a socket address: {e}")))?;
        above_zero(
            "server",
            [
                ("max_body_bytes", server.max_body_bytes as u64),
                ("request_timeout_ms", server.request_timeout_ms),
                ("header_timeout_ms", server.header_timeout_ms),
                ("idle_timeout_ms", server.idle_timeout_ms),
                ("max_connections", server.max_connections as u64),
            ],
        )?;
        if server.max_inflight_body_bytes < server.max_body_bytes {
            return Err(ConfigError::new(
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
            return Err(ConfigError::new(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        above_zero(
            "database",
            [("max_connections", u64::from(self.database.max_connections))],
        )?;
        if self
            .admin
            .token
            .as_ref()
            .is_some_and(|t| t.expose().is_empty())
        {
            return Err(ConfigError::new("admin.token", "must not be empty"));
        }
        let d = &self.dispatcher;
        above_zero(
            "dispatcher",
            [
                ("retry_base_ms", d.retry_base_ms),
                ("poll_interval_ms", d.poll_interval_ms),
                ("batch_size", u64::from(d.batch_size)),
            ],
        )?;
        if d.retry_max_ms < d.retry_base_ms {
            return Err(ConfigError::new(
                "dispatcher.retry_max_ms",
                "must be at least dispatcher.retry_base_ms",
            ));
        }
        Ok(())
    }
}

/// The first of `section`'s `values` that is 0, named by its key.
fn above_zero<const N: usize>(section: &str, values: [(&str, u64); N]) -> Result<(), ConfigError> {
    match values.iter().find(|(_, value)| *value == 0) {
        Some((key, _)) => Err(ConfigError::new(
            format!("{section}.{key}"),
            "must be above 0",
        )),
        None => Ok(()),
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
