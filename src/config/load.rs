//! Reading the configuration: where the file is, the text into [`Config`]
//! (substitution, unknown keys, `HOOKGATE_*` overrides, `secrets_file`),
//! and which shipped development values it still uses.

use std::path::{Path, PathBuf};

use super::env::{substitute, Env};
use super::{Config, ConfigError, Secret};

/// Where the config comes from: `-c FILE`, else `HOOKGATE_CONFIG`, else
/// `./hookgate.toml`.
pub fn resolve_path(explicit: Option<&Path>, env: Env<'_>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| env("HOOKGATE_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("hookgate.toml"))
}

impl Config {
    /// Reads, substitutes, overrides from the environment and checks.
    pub fn load(path: &Path, env: Env<'_>) -> Result<Config, ConfigError> {
        let config = Self::load_unchecked(path, env)?;
        config.check()?;
        Ok(config)
    }

    /// [`Config::load`] without the value checks, so `check-config` can
    /// report every problem ([`Config::problems`]) at once.
    pub fn load_unchecked(path: &Path, env: Env<'_>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(path.display().to_string(), format!("cannot read: {e}"))
        })?;
        Self::from_toml_unchecked(&text, env)
    }

    pub fn from_toml(text: &str, env: Env<'_>) -> Result<Config, ConfigError> {
        let config = Self::from_toml_unchecked(text, env)?;
        config.check()?;
        Ok(config)
    }

    /// The first of [`Config::problems`].
    fn check(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    fn from_toml_unchecked(text: &str, env: Env<'_>) -> Result<Config, ConfigError> {
        let mut tree: toml::Value = toml::from_str(text)
            .map_err(|e| ConfigError::new("(file)", format!("invalid TOML: {e}")))?;
        substitute(&mut tree, "", env)?;
        let mut config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
            let path = e.path().to_string();
            ConfigError::new(
                if path == "." { "(file)".into() } else { path },
                e.into_inner().to_string(),
            )
        })?;
        if let Some(url) = env("HOOKGATE_DATABASE_URL") {
            config.database.url = url;
        }
        if let Some(listen) = env("HOOKGATE_LISTEN") {
            config.server.listen = listen;
        }
        if let Some(token) = env("HOOKGATE_ADMIN_TOKEN") {
            config.admin.token = Some(Secret::new(token));
        }
        for (i, source) in config.sources.iter_mut().enumerate() {
            if let Some(path) = source.secrets_file.clone() {
                let more = read_secrets_file(&path)
                    .map_err(|m| ConfigError::new(format!("sources[{i}].secrets_file"), m))?;
                source.secrets.extend(more);
            }
        }
        Ok(config)
    }

    /// Where this configuration still uses a value shipped in the example
    /// `hookgate.toml` (for example `sources[0].secrets (stripe)`): anyone
    /// who has read the repository can sign for those sources.
    pub fn shipped_development_values(&self) -> Vec<String> {
        let mut found = Vec::new();
        if let Some(token) = &self.admin.token {
            if is_shipped_value(token.expose()) {
                found.push("admin.token".to_string());
            }
        }
        for (i, source) in self.sources.iter().enumerate() {
            if source.secrets.iter().any(|s| is_shipped_value(s.expose())) {
                found.push(format!("sources[{i}].secrets ({})", source.name));
            }
        }
        for (i, target) in self.targets.iter().enumerate() {
            if let Some(secret) = &target.signing_secret {
                if is_shipped_value(secret.expose()) {
                    found.push(format!("targets[{i}].signing_secret ({})", target.name));
                }
            }
        }
        found
    }
}

/// The values the example `hookgate.toml` ships with (after its
/// `${VAR:-default}` defaults). A test keeps this list in step with the file.
const SHIPPED_VALUES: &[&str] = &[
    "dev-admin-token",
    "whsec_dev_stripe_secret",
    "dev-github-secret",
    "whsec_ZGV2LXN0YW5kYXJkLXdlYmhvb2tzLXNlY3JldA==",
    "dev-shopify-secret",
    "dev-slack-signing-secret",
    "dev-gitlab-token",
    "dev-acme-secret",
    "whsec_ZGV2LWV4YW1wbGUtdGFyZ2V0LXNpZ25pbmc=",
];

fn is_shipped_value(value: &str) -> bool {
    SHIPPED_VALUES.contains(&value)
}

/// Reads a secrets file: one secret a line, blank lines and `#` comments
/// skipped. The message never quotes the file's content.
fn read_secrets_file(path: &Path) -> Result<Vec<Secret>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "secrets_file can be read by other users; chmod 600 it"
                );
            }
        }
    }
    let secrets: Vec<Secret> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(Secret::new)
        .collect();
    if secrets.is_empty() {
        return Err(format!("{} holds no secret", path.display()));
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::no_env;

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml("[server]\nlisten = \"127.0.0.1:1\"\nlistn = 1\n", &no_env)
            .unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
        let err = Config::from_toml(
            "[[sources]]\nname = \"s\"\nprovider = \"github\"\nsecrets = [\"x\"]\nsecret = \"y\"\n",
            &no_env,
        )
        .unwrap_err();
        assert!(err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = |n: &str| match n {
            "HOOKGATE_LISTEN" => Some("127.0.0.1:9999".to_string()),
            "HOOKGATE_ADMIN_TOKEN" => Some("t0k".to_string()),
            _ => None,
        };
        let config = Config::from_toml("", &env).unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:9999");
        assert_eq!(config.admin.token.unwrap().expose(), "t0k");
    }

    /// Every secret and token the shipped hookgate.toml holds is known as a
    /// development value, so a new example source cannot slip past the
    /// start-up warning.
    #[test]
    fn every_shipped_secret_is_recognised() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/hookgate.toml"));
        let config = Config::load(path, &no_env).unwrap();
        let found = config.shipped_development_values();
        assert!(found.contains(&"admin.token".to_string()), "{found:?}");
        for (i, source) in config.sources.iter().enumerate() {
            let place = format!("sources[{i}].secrets ({})", source.name);
            assert!(found.contains(&place), "{place} not recognised: {found:?}");
        }
        for (i, target) in config.targets.iter().enumerate() {
            if target.signing_secret.is_some() {
                let place = format!("targets[{i}].signing_secret ({})", target.name);
                assert!(found.contains(&place), "{place} not recognised: {found:?}");
            }
        }
        let replaced =
            |n: &str| (n == "STRIPE_WEBHOOK_SECRET").then(|| "whsec_real_one".to_string());
        let config = Config::load(path, &replaced).unwrap();
        assert!(!config
            .shipped_development_values()
            .iter()
            .any(|p| p.contains("(stripe)")));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let text =
            "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"supersecretvalue\"]\n";
        let config = Config::from_toml(text, &no_env).unwrap();
        assert!(!format!("{config:?}").contains("supersecretvalue"));
    }
}
