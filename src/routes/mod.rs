//! Routing: which targets an event goes to, and what each receives.
//!
//! The `[[routes]]` entries are built once into a table by source. An event
//! of a source goes to every target whose route takes it, in the order the
//! routes are configured: the route's `event_types` must match (`*` globs,
//! or all types when a route lists none), then its `filter`, a jq
//! expression, must give a first output that is neither `false` nor `null`.
//! A route's `ordering_key` is evaluated at ingest with the filter and
//! stored with the delivery; its `transform` runs when the delivery is sent.
//!
//! Rooms: [`jq`] compiles and evaluates expressions, [`sandbox`] is the
//! pool of worker processes every evaluation runs in (time, memory and
//! output bounded), [`document`] builds the event document expressions see.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::config::{ConfigError, RouteConfig};

pub mod document;
pub mod jq;
pub mod sandbox;

pub use document::EventParts;
use sandbox::{Outcome, Sandbox};

/// The routing table, built once from `[[routes]]`.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_source: HashMap<String, Vec<Route>>,
    /// The provider of each source that has routes, for event documents.
    providers: HashMap<String, &'static str>,
    sandbox: Arc<Option<Sandbox>>,
}

/// One configured route.
#[derive(Debug, Clone)]
pub struct Route {
    /// `routes[i] (source -> target)`, as logs, errors and the admin API name it.
    pub label: String,
    pub target: String,
    /// `None` takes every event type.
    pub event_types: Option<Vec<String>>,
    pub filter: Option<Expression>,
    pub transform: Option<Expression>,
    pub ordering_key: Option<Expression>,
}

/// A route's jq expression: its text and its number in the sandbox.
#[derive(Debug, Clone)]
pub struct Expression {
    pub text: String,
    index: usize,
}

impl Route {
    fn matches(&self, event_type: &str) -> bool {
        match &self.event_types {
            None => true,
            Some(globs) => globs.iter().any(|g| glob_match(g, event_type)),
        }
    }
}

/// Where an event goes: one delivery per target, and the errors of
/// expressions that failed on it (kept with the event).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub deliveries: Vec<Routed>,
    pub errors: Vec<RouteError>,
}

/// One delivery an event gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub target: String,
    pub ordering_key: Option<String>,
}

/// An expression that failed on an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RouteError {
    /// `routes[i] (source -> target)`.
    pub route: String,
    pub target: String,
    /// `filter` or `ordering_key`.
    pub key: String,
    pub error: String,
}

/// What the route tester says of one route.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RouteTest {
    pub route: String,
    pub target: String,
    pub applies: bool,
    /// Why it applies or not, in words.
    pub why: String,
    /// The body the target would receive: the transform's output, or the
    /// event's body as received (as the document shows it).
    #[schema(value_type = Object)]
    pub body: Option<Value>,
    /// The ordering key, when the route has one and it gave a key.
    pub ordering_key: Option<String>,
}

/// The route errors counter: every expression failure is counted.
fn count_error(source: &str, target: &str, key: &'static str) {
    metrics::counter!("hookgate_route_errors_total", "source" => source.to_string(), "target" => target.to_string(), "expression" => key)
        .increment(1);
}

/// An expression's output as an ordering key: strings as they are,
/// numbers and other values as their JSON text; null or no output is no key.
fn key_of(output: Option<Value>) -> Option<String> {
    match output {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    }
}

fn applies(output: &Option<Value>) -> bool {
    !matches!(output, None | Some(Value::Null) | Some(Value::Bool(false)))
}

impl Routes {
    /// Builds the table; a route naming a source that `provider_of` does
    /// not know (it names each source's provider) or a target `is_target`
    /// does not know, a second route between the same pair, an empty
    /// pattern or an expression that does not compile is an error naming
    /// its key; every such error is returned, in configuration order.
    pub fn build(
        routes: &[RouteConfig],
        provider_of: impl Fn(&str) -> Option<&'static str>,
        is_target: impl Fn(&str) -> bool,
    ) -> Result<Routes, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut providers = HashMap::new();
        let mut pairs = HashSet::new();
        let mut by_source: HashMap<String, Vec<Route>> = HashMap::new();
        let mut expressions = Vec::new();
        for (i, route) in routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            let Some(provider) = provider_of(&route.source) else {
                errors.push(ConfigError::new(
                    format!("{key}.source"),
                    format!("unknown source {:?}", route.source),
                ));
                continue;
            };
            providers.insert(route.source.clone(), provider);
            if !is_target(&route.target) {
                errors.push(ConfigError::new(
                    format!("{key}.target"),
                    format!("unknown target {:?}", route.target),
                ));
                continue;
            }
            if !pairs.insert((route.source.as_str(), route.target.as_str())) {
                errors.push(ConfigError::new(
                    key,
                    format!(
                        "duplicate route from {:?} to {:?}; list several event_types in one route",
                        route.source, route.target
                    ),
                ));
                continue;
            }
            if let Some(globs) = &route.event_types {
                if globs.iter().any(|g| g.is_empty()) {
                    errors.push(ConfigError::new(
                        format!("{key}.event_types"),
                        "empty pattern",
                    ));
                    continue;
                }
            }
            let label = format!("{key} ({} -> {})", route.source, route.target);
            let mut compile =
                |name: &str, text: &Option<String>| -> Result<Option<Expression>, ConfigError> {
                    let Some(text) = text else { return Ok(None) };
                    jq::Expr::compile(text).map_err(|e| {
                        ConfigError::new(
                            format!("{key}.{name}"),
                            format!(
                                "the jq expression of the route from {:?} to {:?} is wrong: {e}",
                                route.source, route.target
                            ),
                        )
                    })?;
                    expressions.push(text.clone());
                    Ok(Some(Expression {
                        text: text.clone(),
                        index: expressions.len() - 1,
                    }))
                };
            let compiled = [
                ("filter", &route.filter),
                ("transform", &route.transform),
                ("ordering_key", &route.ordering_key),
            ]
            .map(|(name, text)| {
                compile(name, text).unwrap_or_else(|e| {
                    errors.push(e);
                    None
                })
            });
            let [filter, transform, ordering_key] = compiled;
            by_source
                .entry(route.source.clone())
                .or_default()
                .push(Route {
                    label,
                    target: route.target.clone(),
                    event_types: route.event_types.clone(),
                    filter,
                    transform,
                    ordering_key,
                });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let sandbox = (!expressions.is_empty()).then(|| Sandbox::new(expressions));
        Ok(Routes {
            by_source,
            providers,
            sandbox: Arc::new(sandbox),
        })
    }

    /// The provider of a source that has routes ("" for another).
    pub fn provider_of(&self, source: &str) -> &'static str {
        self.providers.get(source).copied().unwrap_or_default()
    }

    /// The routes of `source`, in configuration order.
    pub fn of(&self, source: &str) -> &[Route] {
        self.by_source.get(source).map_or(&[], Vec::as_slice)
    }

    /// Every route, by source, in configuration order within a source.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Route)> {
        self.by_source
            .iter()
            .flat_map(|(s, routes)| routes.iter().map(move |r| (s.as_str(), r)))
    }

    /// Whether any route of `source` matching `event_type` needs the event
    /// document at ingest (a filter or an ordering key).
    pub fn needs_document(&self, source: &str, event_type: &str) -> bool {
        self.of(source)
            .iter()
            .any(|r| r.matches(event_type) && (r.filter.is_some() || r.ordering_key.is_some()))
    }

    /// Where an event of `source` goes, with no expression to run: the
    /// targets whose `event_types` match. Only for routes without filters
    /// or ordering keys (see [`Routes::needs_document`]).
    pub fn targets(&self, source: &str, event_type: &str) -> Vec<String> {
        self.of(source)
            .iter()
            .filter(|r| r.matches(event_type))
            .map(|r| r.target.clone())
            .collect()
    }

    /// Where an event goes: `event_types`, then each filter, and the
    /// ordering keys of the routes that take it. `Err` only when the
    /// expressions could not be run at all (no worker could be started).
    pub async fn decide(&self, parts: &EventParts<'_>) -> Result<Decision, String> {
        let matching: Vec<&Route> = self
            .of(parts.source)
            .iter()
            .filter(|r| r.matches(parts.event_type))
            .collect();
        let mut which = Vec::new();
        for r in &matching {
            which.extend(r.filter.iter().chain(&r.ordering_key).map(|e| e.index));
        }
        let mut outcomes = self.run(&which, parts).await?.into_iter();
        let mut decision = Decision::default();
        for r in matching {
            let mut error = |key: &'static str, e: String| {
                count_error(parts.source, &r.target, key);
                decision.errors.push(RouteError {
                    route: r.label.clone(),
                    target: r.target.clone(),
                    key: key.to_string(),
                    error: e,
                });
            };
            let filtered = r
                .filter
                .as_ref()
                .map(|_| outcomes.next().expect("one per expression"));
            let key = r
                .ordering_key
                .as_ref()
                .map(|_| outcomes.next().expect("one per expression"));
            let takes = match filtered {
                None => true,
                Some(Ok(output)) => applies(&output),
                Some(Err(e)) => {
                    error("filter", e);
                    false
                }
            };
            if !takes {
                continue;
            }
            let ordering_key = match key {
                None => None,
                Some(Ok(output)) => key_of(output),
                Some(Err(e)) => {
                    error("ordering_key", e);
                    None
                }
            };
            decision.deliveries.push(Routed {
                target: r.target.clone(),
                ordering_key,
            });
        }
        Ok(decision)
    }

    /// The route from `source` to `target`, if configured.
    pub fn route(&self, source: &str, target: &str) -> Option<&Route> {
        self.of(source).iter().find(|r| r.target == target)
    }

    /// The body a delivery from `source` to `target` is sent with, when its
    /// route transforms: `Some(Ok(json))`, or `Some(Err(why))` when the
    /// expression failed or gave no output. `None`: send the stored body.
    pub async fn transform(
        &self,
        target: &str,
        parts: &EventParts<'_>,
    ) -> Option<(String, Result<Vec<u8>, String>)> {
        let route = self.route(parts.source, target)?;
        let expr = route.transform.as_ref()?;
        let result = match self.run(&[expr.index], parts).await {
            Err(e) => Err(e),
            Ok(mut outcomes) => match outcomes.pop().expect("one per expression") {
                Ok(Some(v)) => Ok(serde_json::to_vec(&v).expect("a JSON value serializes")),
                Ok(None) => Err("the transform gave no output".to_string()),
                Err(e) => Err(e),
            },
        };
        if result.is_err() {
            count_error(parts.source, target, "transform");
        }
        Some((
            route.label.clone(),
            result.map_err(|e| format!("transform of {}: {e}", route.label)),
        ))
    }

    /// The route tester: for every route of the event's source, whether it
    /// applies and why, with the transformed body and the ordering key.
    /// Nothing is counted or stored.
    pub async fn test(&self, parts: &EventParts<'_>) -> Result<Vec<RouteTest>, String> {
        let routes = self.of(parts.source);
        let mut which = Vec::new();
        for r in routes.iter().filter(|r| r.matches(parts.event_type)) {
            which.extend(
                r.filter
                    .iter()
                    .chain(&r.transform)
                    .chain(&r.ordering_key)
                    .map(|e| e.index),
            );
        }
        let mut outcomes = self.run(&which, parts).await?.into_iter();
        let document: Value = serde_json::from_slice(&parts.document()).unwrap_or_default();
        let mut tests = Vec::with_capacity(routes.len());
        for r in routes {
            let mut test = RouteTest {
                route: r.label.clone(),
                target: r.target.clone(),
                applies: false,
                why: String::new(),
                body: None,
                ordering_key: None,
            };
            if !r.matches(parts.event_type) {
                test.why = format!(
                    "event type {:?} matches none of {:?}",
                    parts.event_type,
                    r.event_types.as_deref().unwrap_or_default()
                );
                tests.push(test);
                continue;
            }
            let mut next = |e: &Option<Expression>| -> Option<Outcome> {
                e.as_ref()
                    .map(|_| outcomes.next().expect("one per expression"))
            };
            let (filtered, transformed, key) =
                (next(&r.filter), next(&r.transform), next(&r.ordering_key));
            match filtered {
                None => {
                    test.applies = true;
                    test.why = "the event type matches and the route has no filter".into();
                }
                Some(Ok(output)) if applies(&output) => {
                    test.applies = true;
                    test.why = format!("the filter gave {}", show(&output));
                }
                Some(Ok(output)) => test.why = format!("the filter gave {}", show(&output)),
                Some(Err(e)) => test.why = format!("the filter failed: {e}"),
            }
            if !test.applies {
                tests.push(test);
                continue;
            }
            match transformed {
                None => test.body = Some(document["body"].clone()),
                Some(Ok(Some(v))) => test.body = Some(v),
                Some(Ok(None)) => {
                    test.applies = false;
                    test.why = "the transform gave no output: the delivery would be dead".into();
                }
                Some(Err(e)) => {
                    test.applies = false;
                    test.why = format!("the transform failed (the delivery would be dead): {e}");
                }
            }
            match key {
                Some(Ok(output)) => test.ordering_key = key_of(output),
                Some(Err(e)) => test.why.push_str(&format!(
                    "; the ordering key failed (delivered unordered): {e}"
                )),
                None => {}
            }
            tests.push(test);
        }
        Ok(tests)
    }

    async fn run(&self, which: &[usize], parts: &EventParts<'_>) -> Result<Vec<Outcome>, String> {
        match (&*self.sandbox, which.is_empty()) {
            (_, true) => Ok(Vec::new()),
            (Some(sandbox), false) => sandbox.run(which, &parts.document()).await,
            (None, false) => unreachable!("expressions exist only with a sandbox"),
        }
    }
}

/// An output as the tester describes it (at most 80 characters of it).
fn show(output: &Option<Value>) -> String {
    match output {
        None => "no output".to_string(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 80 {
                format!("{}...", text.chars().take(80).collect::<String>())
            } else {
                text
            }
        }
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
    fn every_wrong_route_is_reported_naming_its_key() {
        let route = |target: &str, filter: Option<&str>, transform: Option<&str>| RouteConfig {
            source: "s".into(),
            target: target.into(),
            event_types: None,
            filter: filter.map(str::to_string),
            transform: transform.map(str::to_string),
            ordering_key: None,
        };
        let errors = Routes::build(
            &[
                route("a", Some(".x and"), Some("{")),
                route("nope", None, None),
                route("b", Some(".ok"), None),
                route("b", None, None),
            ],
            |_| Some("stripe"),
            |t| t != "nope",
        )
        .unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "routes[0].filter",
                "routes[0].transform",
                "routes[1].target",
                "routes[3]"
            ]
        );
    }

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
            filter: None,
            transform: None,
            ordering_key: None,
        };
        let routes = Routes::build(
            &[
                route("b", Some(&["invoice.*"])),
                route("a", None),
                route("c", Some(&["charge.refunded"])),
            ],
            |_| Some("stripe"),
            |_| true,
        )
        .unwrap();
        assert_eq!(routes.targets("s", "invoice.paid"), ["b", "a"]);
        assert_eq!(routes.targets("s", "charge.refunded"), ["a", "c"]);
        assert!(routes.targets("other", "invoice.paid").is_empty());
    }
}
