//! Routing: which targets an event goes to. The `[[routes]]` entries are
//! built once into a table by source; an event of a source goes to every
//! target whose route takes its event type (`*` globs, or all types when a
//! route lists none), in the order the routes are configured.

use std::collections::{HashMap, HashSet};

use crate::config::{ConfigError, RouteConfig};

/// The routing table, built once from `[[routes]]`.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_source: HashMap<String, Vec<Route>>,
}

#[derive(Debug, Clone)]
struct Route {
    target: String,
    /// `None` takes every event type.
    event_types: Option<Vec<String>>,
}

impl Route {
    fn matches(&self, event_type: &str) -> bool {
        match &self.event_types {
            None => true,
            Some(globs) => globs.iter().any(|g| glob_match(g, event_type)),
        }
    }
}

impl Routes {
    /// Builds the table; a route naming a source or target that
    /// `is_source` / `is_target` does not know, a second route between the
    /// same pair, or an empty pattern is an error naming its key.
    pub fn build(
        routes: &[RouteConfig],
        is_source: impl Fn(&str) -> bool,
        is_target: impl Fn(&str) -> bool,
    ) -> Result<Routes, ConfigError> {
        let mut pairs = HashSet::new();
        let mut by_source: HashMap<String, Vec<Route>> = HashMap::new();
        for (i, route) in routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            if !is_source(&route.source) {
                return Err(ConfigError::new(
                    format!("{key}.source"),
                    format!("unknown source {:?}", route.source),
                ));
            }
            if !is_target(&route.target) {
                return Err(ConfigError::new(
                    format!("{key}.target"),
                    format!("unknown target {:?}", route.target),
                ));
            }
            if !pairs.insert((route.source.as_str(), route.target.as_str())) {
                return Err(ConfigError::new(
                    key,
                    format!(
                        "duplicate route from {:?} to {:?}; list several event_types in one route",
                        route.source, route.target
                    ),
                ));
            }
            if let Some(globs) = &route.event_types {
                if globs.iter().any(|g| g.is_empty()) {
                    return Err(ConfigError::new(
                        format!("{key}.event_types"),
                        "empty pattern",
                    ));
                }
            }
            by_source
                .entry(route.source.clone())
                .or_default()
                .push(Route {
                    target: route.target.clone(),
                    event_types: route.event_types.clone(),
                });
        }
        Ok(Routes { by_source })
    }

    /// The targets an event of `source` with `event_type` goes to.
    pub fn targets(&self, source: &str, event_type: &str) -> Vec<String> {
        self.by_source
            .get(source)
            .into_iter()
            .flatten()
            .filter(|r| r.matches(event_type))
            .map(|r| r.target.clone())
            .collect()
    }
}

/// `*` matches any run of characters (dots included); everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last) && rest.len() >= last.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("invoice.*", "invoice.paid"));
        assert!(glob_match("*", "anything.at.all"));
        assert!(glob_match(
            "customer.*.updated",
            "customer.subscription.updated"
        ));
        assert!(!glob_match("invoice.*", "charge.refunded"));
        assert!(!glob_match("invoice.paid", "invoice.paid.extra"));
        assert!(glob_match("*.paid", "invoice.paid"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn events_go_to_matching_targets_in_route_order() {
        let route = |target: &str, types: Option<&[&str]>| RouteConfig {
            source: "s".into(),
            target: target.into(),
            event_types: types.map(|t| t.iter().map(|g| g.to_string()).collect()),
        };
        let routes = Routes::build(
            &[
                route("b", Some(&["invoice.*"])),
                route("a", None),
                route("c", Some(&["charge.refunded"])),
            ],
            |_| true,
            |_| true,
        )
        .unwrap();
        assert_eq!(routes.targets("s", "invoice.paid"), ["b", "a"]);
        assert_eq!(routes.targets("s", "charge.refunded"), ["a", "c"]);
        assert!(routes.targets("other", "invoice.paid").is_empty());
    }
}
