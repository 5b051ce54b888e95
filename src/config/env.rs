//! `${VAR}` substitution: every string of the TOML tree may name
//! environment variables (`${VAR}`, `${VAR:-default}`, `$$` for a literal
//! `$`), so secrets stay out of the file. The environment is passed in as
//! a lookup function, so tests need not touch the process environment.

use super::ConfigError;

/// The environment, as a lookup function so tests need not touch the
/// process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for the command line.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Replaces `${VAR}` (and `${VAR:-default}`) in every string of the tree;
/// `$$` stands for a literal `$`.
pub(super) fn substitute(
    value: &mut toml::Value,
    path: &str,
    env: Env<'_>,
) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(s) => {
            *s = expand(s, env).map_err(|var| {
                ConfigError::new(
                    path,
                    format!("environment variable {var} is not set (referenced as ${{{var}}})"),
                )
            })?;
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{path}[{i}]"), env)?;
            }
        }
        toml::Value::Table(table) => {
            for (k, item) in table.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                substitute(item, &child, env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands one string; on an unset variable without default, returns its name.
fn expand(input: &str, env: Env<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push('$');
                rest = after;
                continue;
            };
            let inner = &body[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match env(name).filter(|v| !v.is_empty() || default.is_none()) {
                Some(v) => out.push_str(&v),
                None => match default {
                    Some(d) => out.push_str(d),
                    None => return Err(name.to_string()),
                },
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// An environment with no variable set, for tests.
#[cfg(test)]
pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn expands_variables_and_names_unset_ones() {
        let env = |n: &str| (n == "A").then(|| "x".to_string());
        assert_eq!(expand("p${A}q", &env).unwrap(), "pxq");
        assert_eq!(expand("$${A}", &env).unwrap(), "${A}");
        assert_eq!(expand("${B:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(expand("${B}", &env).unwrap_err(), "B");
        let err = Config::from_toml("[admin]\ntoken = \"${NOPE_TOKEN}\"\n", &no_env).unwrap_err();
        assert_eq!(err.key, "admin.token");
        assert!(err.message.contains("NOPE_TOKEN"), "{err}");
    }
}
