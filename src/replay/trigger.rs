//! `hookgate trigger SOURCE EVENT_TYPE [--set PATH=VALUE]...`: one event of
//! a type, as `stripe trigger` sends one. The first fixture of that type for
//! the source's provider is the template; it gets a fresh event ID (where
//! the provider carries it in the body; header IDs are fresh on every
//! signing anyway) and fresh timestamps (body fields named like `created`
//! or `created_at`, and headers holding an RFC 3339 time), then the
//! overrides, then it is signed and sent like a `replay`.
//!
//! An override's PATH is a JSON pointer (`/data/object/amount_paid`) or a
//! dotted path (`data.object.amount_paid`, `items.0.sku`); missing objects
//! on the way are created. VALUE is JSON when it parses (`2900`, `true`,
//! `{"a":1}`), else a string. Form bodies (Twilio) take field names.

use std::path::PathBuf;

use serde_json::Value;

use super::{fixtures, ingest_url, send_or_print, signing_source, Prepared};
use crate::ids::{fresh_id, fresh_uuid};
use crate::time::{format_ms, UnixMs};
use crate::wiring::Wiring;

#[derive(Debug, Clone)]
pub struct Options {
    pub source: String,
    pub event_type: String,
    /// `PATH=VALUE` each.
    pub overrides: Vec<String>,
    pub url: Option<String>,
    /// The fixtures folder, one folder per provider inside.
    pub fixtures: PathBuf,
    pub print_curl: bool,
    pub json: bool,
}

/// Body fields that hold when the event happened (compared without `_` and
/// case), refreshed to now in the unit they had.
const TIME_FIELDS: &[&str] = &[
    "created",
    "createdat",
    "updatedat",
    "occurredat",
    "timestamp",
    "time",
    "eventtime",
    "eventts",
    "sentat",
    "triggeredat",
    "webhooktimestamp",
];

/// Runs `hookgate trigger`; whether the request got a 2xx.
pub async fn run(wiring: &Wiring, opts: &Options) -> Result<bool, String> {
    let source = signing_source(wiring, &opts.source)?;
    let provider = &source.provider;
    let folder = fixtures::folder_of(provider.name());
    let file = fixtures::fixture_of_type(&opts.fixtures, folder, &opts.event_type)?;
    let raw = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let overrides = opts
        .overrides
        .iter()
        .map(|o| parse_override(o))
        .collect::<Result<Vec<_>, _>>()?;
    let now = UnixMs::now();
    let body = if file.extension().is_some_and(|e| e == "form") {
        edit_form(&raw, &overrides)?
    } else {
        edit_json(&raw, provider.body_id_pointer(), &overrides, now)
            .map_err(|e| format!("{}: {e}", file.display()))?
    };
    let mut headers: Vec<(String, String)> = fixtures::fixture_headers(&file)?
        .into_iter()
        .map(|(k, v)| {
            let v = fresh_time_text(&v, now).unwrap_or(v);
            (k, v)
        })
        .collect();
    let key = source.keys.first().unwrap_or_default().to_vec();
    let (body, signed) = provider.prepare(&key, &body, now);
    headers.extend(signed);
    let url = ingest_url(wiring, opts.url.as_deref(), &opts.source);
    let prepared = vec![Prepared {
        file,
        body,
        headers,
    }];
    Ok(send_or_print(&url, prepared, opts.print_curl, 1, opts.json).await)
}

/// One `--set`: the JSON pointer it names and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub pointer: String,
    pub value: Value,
}

pub fn parse_override(text: &str) -> Result<Override, String> {
    let (path, value) = text
        .split_once('=')
        .ok_or_else(|| format!("--set {text:?}: expected PATH=VALUE"))?;
    if path.is_empty() {
        return Err(format!("--set {text:?}: the path is empty"));
    }
    let pointer = if path.starts_with('/') {
        path.to_string()
    } else {
        path.split('.')
            .map(|part| format!("/{}", part.replace('~', "~0").replace('/', "~1")))
            .collect()
    };
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok(Override { pointer, value })
}

/// The fixture with a fresh ID at `id_pointer`, fresh times and the
/// overrides applied, pretty-printed in its own key order.
fn edit_json(
    raw: &[u8],
    id_pointer: Option<&str>,
    overrides: &[Override],
    now: UnixMs,
) -> Result<Vec<u8>, String> {
    let mut json: Value =
        serde_json::from_slice(raw).map_err(|e| format!("not a JSON body: {e}"))?;
    if let Some(slot) = id_pointer.and_then(|p| json.pointer_mut(p)) {
        *slot = fresh_like(slot);
    }
    refresh_times(&mut json, now);
    for o in overrides {
        set(&mut json, &o.pointer, o.value.clone())?;
    }
    serde_json::to_vec_pretty(&json).map_err(|e| e.to_string())
}

/// A new ID in the shape of `old`: the same prefix up to its last `_`
/// (`evt_`), a UUID for a UUID, digits for a number.
fn fresh_like(old: &Value) -> Value {
    match old {
        Value::String(s) if s.len() == 36 && s.matches('-').count() == 4 => {
            Value::String(fresh_uuid())
        }
        Value::String(s) => {
            let prefix = s.rfind('_').map_or("", |i| &s[..=i]);
            Value::String(format!("{prefix}{}", &fresh_id("")[..24]))
        }
        Value::Number(_) => Value::from(rand::random::<u32>() as u64 + 1_000_000_000),
        other => other.clone(),
    }
}

/// Sets every [`TIME_FIELDS`] field in the tree to `now`: seconds stay
/// seconds, milliseconds stay milliseconds, RFC 3339 text stays text.
fn refresh_times(json: &mut Value, now: UnixMs) {
    match json {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let name = key.replace('_', "").to_ascii_lowercase();
                if TIME_FIELDS.contains(&name.as_str()) {
                    if let Some(fresh) = fresh_time(value, now) {
                        *value = fresh;
                        continue;
                    }
                }
                refresh_times(value, now);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| refresh_times(v, now)),
        _ => {}
    }
}

fn fresh_time(value: &Value, now: UnixMs) -> Option<Value> {
    match value {
        Value::Number(n) => match n.as_i64()? {
            1_000_000_000..=99_999_999_999 => Some(Value::from(now.as_secs())),
            1_000_000_000_000..=99_999_999_999_999 => Some(Value::from(now.as_millis())),
            _ => None,
        },
        Value::String(s) => fresh_time_text(s, now).map(Value::String),
        _ => None,
    }
}

/// `now` in RFC 3339 when `text` is an RFC 3339 time.
fn fresh_time_text(text: &str, now: UnixMs) -> Option<String> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|_| format_ms(now.as_millis()))
}

/// Puts `value` at `pointer`, creating missing objects on the way; an
/// array index must exist or be the length (append).
fn set(json: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let mut here = json;
    let parts: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = parts.split_last() else {
        *here = value;
        return Ok(());
    };
    for part in path {
        here = child(here, part, pointer)?;
    }
    match here {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) => {
            let i = index(last, items.len(), pointer)?;
            if i == items.len() {
                items.push(value);
            } else {
                items[i] = value;
            }
        }
        _ => return Err(format!("--set {pointer}: {last:?} is inside a non-object")),
    }
    Ok(())
}

fn child<'a>(here: &'a mut Value, part: &str, pointer: &str) -> Result<&'a mut Value, String> {
    if here.is_null() {
        *here = Value::Object(Default::default());
    }
    match here {
        Value::Object(map) => Ok(map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Default::default()))),
        Value::Array(items) => {
            let i = index(part, items.len(), pointer)?;
            if i == items.len() {
                items.push(Value::Object(Default::default()));
            }
            Ok(&mut items[i])
        }
        _ => Err(format!("--set {pointer}: {part:?} is inside a non-object")),
    }
}

fn index(part: &str, len: usize, pointer: &str) -> Result<usize, String> {
    part.parse::<usize>()
        .ok()
        .filter(|i| *i <= len)
        .ok_or_else(|| format!("--set {pointer}: {part:?} is not an index up to {len}"))
}

/// A form body with each override setting one field (its first segment).
fn edit_form(raw: &[u8], overrides: &[Override]) -> Result<Vec<u8>, String> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(raw).map_err(|e| format!("not a form body: {e}"))?;
    for o in overrides {
        let name = o.pointer.trim_start_matches('/').to_string();
        let value = match &o.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match pairs.iter_mut().find(|(k, _)| *k == name) {
            Some(pair) => pair.1 = value,
            None => pairs.push((name, value)),
        }
    }
    serde_urlencoded::to_string(&pairs)
        .map(String::into_bytes)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_are_pointers_or_dotted_and_values_json_or_text() {
        let o = parse_override("data.object.amount_paid=2900").unwrap();
        assert_eq!(o.pointer, "/data/object/amount_paid");
        assert_eq!(o.value, json!(2900));
        let o = parse_override("/data/object/currency=eur").unwrap();
        assert_eq!(
            (o.pointer.as_str(), o.value),
            ("/data/object/currency", json!("eur"))
        );
        let o = parse_override("meta={\"a\":[1]}").unwrap();
        assert_eq!(o.value, json!({"a": [1]}));
        assert!(parse_override("no-equals-sign").is_err());
    }

    #[test]
    fn edits_keep_the_key_order_and_refresh_ids_and_times() {
        let raw = br#"{"id":"evt_old","zeta":1,"created":1700000000,"data":{"object":{"b":1,"a":2,"created_at":"2024-01-01T00:00:00Z"}}}"#;
        let now = UnixMs::from_secs(1_800_000_000);
        let overrides = [
            parse_override("data.object.a=3").unwrap(),
            parse_override("data.new.deep=x").unwrap(),
            parse_override("/list=[]").unwrap(),
        ];
        let out = edit_json(raw, Some("/id"), &overrides, now).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        let id = v["id"].as_str().unwrap();
        assert!(id.starts_with("evt_") && id != "evt_old", "{id}");
        assert_eq!(v["created"], json!(1_800_000_000));
        assert_eq!(
            v["data"]["object"]["created_at"],
            "2027-01-15T08:00:00.000Z"
        );
        assert_eq!(v["data"]["object"]["a"], 3);
        assert_eq!(v["data"]["new"]["deep"], "x");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "zeta", "created", "data", "list"]);
        let inner: Vec<&String> = v["data"]["object"].as_object().unwrap().keys().collect();
        assert_eq!(inner, ["b", "a", "created_at"]);
    }

    #[test]
    fn arrays_take_existing_indexes_or_one_more() {
        let mut v = json!({"items": [{"sku": "a"}]});
        set(&mut v, "/items/0/sku", json!("b")).unwrap();
        set(&mut v, "/items/1/sku", json!("c")).unwrap();
        assert_eq!(v, json!({"items": [{"sku": "b"}, {"sku": "c"}]}));
        assert!(set(&mut v, "/items/5/sku", json!("d")).is_err());
        assert!(set(&mut v, "/items/0/sku/x", json!("d")).is_err());
    }

    #[test]
    fn form_bodies_take_field_names() {
        let out = edit_form(
            b"From=%2B1555&Body=hi",
            &[parse_override("Body=hello there").unwrap()],
        )
        .unwrap();
        assert_eq!(out, b"From=%2B1555&Body=hello+there");
    }
}
