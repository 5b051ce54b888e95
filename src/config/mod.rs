//! Configuration as data: `hookgate.toml` with `${VAR}` substitution and
//! `HOOKGATE_*` overrides, read into plain [`Config`] values once.
//!
//! Loading happens in three steps (`load`): the text is parsed into a TOML
//! tree, every string in the tree has its `${VAR}` references replaced from
//! the environment ([`mod@env`]), and the tree is deserialized into [`Config`]
//! with unknown keys rejected. `check` then rejects what serde cannot
//! (zero limits, an unparsable listen address, an unknown database scheme).
//! What only building the running parts can prove (a provider's secrets,
//! target URLs and headers, routes naming known sources) is checked by that
//! building, once, in the `wiring` module. Nothing here depends on the modules
//! that consume the configuration.

use std::fmt;

use serde::Deserialize;

mod check;
pub mod env;
mod load;
mod types;

pub use check::{check_unique_name, redact_url};
pub use env::{process_env, Env};
pub use load::resolve_path;
pub use types::{
    AdminConfig, Config, DatabaseConfig, DispatcherConfig, RetentionConfig, RouteConfig,
    ServerConfig, SourceConfig, TargetConfig,
};

/// A configuration problem, always tied to the key (`sources[1].secrets`,
/// `server.listen`, ...) that the user has to change.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// A secret string. Its `Debug` output is redacted so that configs can be
/// logged without leaking signing keys or tokens.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
