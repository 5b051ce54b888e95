//! The one construction step: a loaded [`Config`] becomes the running parts
//! (each source's provider and keys, each target's delivery spec, the
//! routing table, the trusted proxies). Validation is this construction: a
//! part that cannot be built is an error naming its key, and what is built
//! is what runs, so nothing is built twice. Start-up
//! (`Application::build`), `hookgate check-config` and `hookgate replay`
//! all start here.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use crate::app::Source;
use crate::client_ip::Cidrs;
use crate::config::{check_unique_name, Config, ConfigError, SourceConfig};
use crate::dispatch::TargetSpec;
use crate::providers::Provider;
use crate::routes::Routes;

/// The configuration with its running parts built.
pub struct Wiring {
    pub config: Arc<Config>,
    /// By source name.
    pub sources: HashMap<String, Source>,
    /// In configuration order.
    pub targets: Vec<TargetSpec>,
    pub routes: Routes,
    pub trusted_proxies: Cidrs,
}

impl Wiring {
    /// Builds every part; the first that cannot be built is the error, in
    /// the order of the file's tables.
    pub fn build(config: Config) -> Result<Wiring, ConfigError> {
        Self::build_all(config).map_err(|mut errors| errors.remove(0))
    }

    /// Builds every part, collecting every part that cannot be built (never
    /// an empty list), so `check-config` can name them all at once.
    pub fn build_all(config: Config) -> Result<Wiring, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let trusted_proxies =
            Cidrs::parse(&config.server.trusted_proxies, "server.trusted_proxies")
                .map_err(|e| errors.push(e))
                .unwrap_or_default();
        let mut source_names = HashSet::new();
        let mut sources = HashMap::new();
        for (i, s) in config.sources.iter().enumerate() {
            let key = format!("sources[{i}]");
            if let Err(e) = check_unique_name(&mut source_names, &s.name, &key, "source") {
                errors.push(e);
            }
            match source(s, &key) {
                Ok(built) => {
                    sources.insert(s.name.clone(), built);
                }
                Err(e) => errors.push(e),
            }
        }
        let mut names = HashSet::new();
        let mut targets = Vec::new();
        for (i, t) in config.targets.iter().enumerate() {
            let key = format!("targets[{i}]");
            if let Err(e) = check_unique_name(&mut names, &t.name, &key, "target") {
                errors.push(e);
            }
            match TargetSpec::from_config(t, &key) {
                Ok(spec) => targets.push(spec),
                Err(e) => errors.push(e),
            }
        }
        // Routes are checked against the declared names, so a source that
        // failed to build is one error, not one more per route naming it.
        let routes = Routes::build(
            &config.routes,
            |s| provider_of(&config, &sources, s),
            |t| names.contains(t),
        )
        .map_err(|e| errors.extend(e));
        match routes {
            Ok(routes) if errors.is_empty() => Ok(Wiring {
                config: Arc::new(config),
                sources,
                targets,
                routes,
                trusted_proxies,
            }),
            _ => Err(errors),
        }
    }
}

/// Names the built parts; the configuration shows its secrets redacted.
impl fmt::Debug for Wiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wiring")
            .field("config", &self.config)
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field(
                "targets",
                &self.targets.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

/// The provider of the source named `name` for the routing table: the built
/// source's, else (its building failed, which is reported on its own) the
/// provider it names, so its routes are still checked.
fn provider_of(
    config: &Config,
    built: &HashMap<String, Source>,
    name: &str,
) -> Option<&'static str> {
    if let Some(source) = built.get(name) {
        return Some(source.provider.name());
    }
    let declared = config.sources.iter().find(|s| s.name == name)?;
    crate::providers::provider_names().find(|p| *p == declared.provider)
}

fn source(config: &SourceConfig, key: &str) -> Result<Source, ConfigError> {
    let (provider, keys) = Provider::from_config(config, key)?;
    let allow_ips = match &config.allow_ips {
        Some(list) => Some(Cidrs::parse(list, &format!("{key}.allow_ips"))?),
        None => None,
    };
    Ok(Source {
        provider,
        keys,
        tolerance: config.tolerance_secs,
        allow_ips,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::no_env;

    /// Loads and builds, as `hookgate check-config` does.
    fn build(text: &str) -> Result<Wiring, ConfigError> {
        Wiring::build(Config::from_toml(text, &no_env)?)
    }

    /// Each config text fails, naming its key.
    fn assert_each_names_its_key(cases: &[(&str, &str)]) {
        for (text, key) in cases {
            let err = build(text).unwrap_err();
            assert_eq!(err.key, *key, "{text}: {err}");
        }
    }

    #[test]
    fn validation_names_the_key() {
        let cases = [
            ("[[sources]]\nname = \"a\"\nprovider = \"nope\"\nsecrets = [\"x\"]\n", "sources[0].provider"),
            ("[[sources]]\nname = \"a\"\nprovider = \"github\"\n", "sources[0].secrets"),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\n[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\n",
                "sources[1].name",
            ),
            ("[[targets]]\nname = \"t\"\nurl = \"not a url\"\n", "targets[0].url"),
            ("[[targets]]\nname = \"t\"\nurl = \"http://h/\"\nrate_limit = \"fast\"\n", "targets[0].rate_limit"),
            ("[[targets]]\nname = \"t\"\nurl = \"http://h/\"\nrate_limit = \"0/s\"\n", "targets[0].rate_limit"),
            ("[[routes]]\nsource = \"a\"\ntarget = \"b\"\n", "routes[0].source"),
            ("[server]\nlisten = \"nowhere\"\n", "server.listen"),
            ("[database]\nurl = \"mysql://x\"\n", "database.url"),
            ("[dispatcher]\npoll_interval_ms = 0\n", "dispatcher.poll_interval_ms"),
            ("[dispatcher]\nretry_base_ms = 10\nretry_max_ms = 5\n", "dispatcher.retry_max_ms"),
            // Provider-specific keys on a provider that does not read them.
            ("[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\npublic_url = \"https://h.example/x\"\n", "sources[0].public_url"),
            ("[[sources]]\nname = \"a\"\nprovider = \"stripe\"\nsecrets = [\"x\"]\ntoken_header = \"X-Token\"\n", "sources[0].token_header"),
            ("[[sources]]\nname = \"a\"\nprovider = \"slack\"\nsecrets = [\"x\"]\nevent_id_pointer = \"/id\"\n", "sources[0].event_id_pointer"),
            ("[[sources]]\nname = \"a\"\nprovider = \"generic-hmac\"\nsecrets = [\"x\"]\nsignature_header = \"X-S\"\nevent_type_pointer = \"type\"\n", "sources[0].event_type_pointer"),
        ];
        assert_each_names_its_key(&cases);
    }

    #[test]
    fn public_key_sources_are_validated_naming_the_key() {
        let cases = [
            ("[[sources]]\nname = \"d\"\nprovider = \"discord\"\n", "sources[0].public_keys"),
            ("[[sources]]\nname = \"d\"\nprovider = \"discord\"\npublic_keys = [\"zz\"]\n", "sources[0].public_keys[0]"),
            ("[[sources]]\nname = \"s\"\nprovider = \"stripe\"\nsecrets = [\"x\"]\npublic_keys = [\"k\"]\n", "sources[0].public_keys"),
            ("[[sources]]\nname = \"s\"\nprovider = \"github\"\nsecrets = [\"x\"]\nsns_ca_file = \"ca.pem\"\n", "sources[0].sns_ca_file"),
            ("[[sources]]\nname = \"a\"\nprovider = \"aws-sns\"\nsns_cert_hosts = [\"sns..com\"]\n", "sources[0].sns_cert_hosts[0]"),
            ("[[sources]]\nname = \"t\"\nprovider = \"twitch\"\n", "sources[0].secrets"),
            ("[[sources]]\nname = \"w\"\nprovider = \"standard-webhooks\"\n", "sources[0].secrets"),
        ];
        assert_each_names_its_key(&cases);
        // Public keys alone are enough where the provider verifies with them.
        let ok = "[[sources]]\nname = \"w\"\nprovider = \"standard-webhooks\"\npublic_keys = [\"whpk_ebVWLo/mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ=\"]\n\n[[sources]]\nname = \"a\"\nprovider = \"aws-sns\"\n";
        build(ok).unwrap();
    }

    #[test]
    fn new_server_keys_have_defaults_and_are_checked() {
        let config = build("").unwrap().config;
        assert_eq!(config.server.header_timeout_ms, 10_000);
        assert_eq!(config.server.idle_timeout_ms, 60_000);
        assert_eq!(config.server.max_connections, 10_000);
        assert_each_names_its_key(&[
            ("[server]\nheader_timeout_ms = 0\n", "server.header_timeout_ms"),
            ("[server]\nidle_timeout_ms = 0\n", "server.idle_timeout_ms"),
            ("[server]\nmax_connections = 0\n", "server.max_connections"),
            ("[server]\ntrusted_proxies = [\"proxy\"]\n", "server.trusted_proxies[0]"),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets = [\"x\"]\nallow_ips = [\"10.0.0.0/33\"]\n",
                "sources[0].allow_ips[0]",
            ),
            (
                "[[sources]]\nname = \"a\"\nprovider = \"github\"\nsecrets_file = \"/nonexistent/hookgate-secrets\"\n",
                "sources[0].secrets_file",
            ),
        ]);
    }
}
