//! The fixture files `replay` and `trigger` read: `fixtures/<provider>/`
//! holds bodies (`<name>.json`, or `<name>.form` for form posts) with
//! `<name>.headers.json` beside them, and `fixtures/expected.json` names the
//! event type each body yields (`"stripe/invoice.paid": "invoice.paid"`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The fixture bodies named by the arguments: files as given, folders as
/// their `*.json` files (not `*.headers.json`) and `*.form` files (form
/// bodies, as Twilio sends), in name order.
pub fn fixture_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(bodies_in(path)?);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or folder", path.display()));
        }
    }
    if files.is_empty() {
        return Err("no fixture files found".into());
    }
    Ok(files)
}

/// The body files of one folder, in name order.
fn bodies_in(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| is_body_file(p))
        .collect();
    found.sort();
    Ok(found)
}

fn is_body_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    (name.ends_with(".json") && !name.ends_with(".headers.json")) || name.ends_with(".form")
}

/// A body file's name without `.json` or `.form`.
fn stem(file: &Path) -> &str {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.strip_suffix(".json")
        .or_else(|| name.strip_suffix(".form"))
        .unwrap_or(name)
}

/// `<name>.headers.json` beside `<name>.json`, if there is one.
pub fn fixture_headers(file: &Path) -> Result<Vec<(String, String)>, String> {
    let path = file.with_file_name(format!("{}.headers.json", stem(file)));
    if !path.exists() {
        return Ok(vec![("Content-Type".into(), "application/json".into())]);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let map: serde_json::Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a JSON object: {e}", path.display()))?;
    Ok(map
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// The fixture folder of a provider: its name, except that `svix` shares
/// the Standard Webhooks folder.
pub fn folder_of(provider: &str) -> &str {
    match provider {
        "svix" => "standard-webhooks",
        other => other,
    }
}

/// The fixture folder the arguments come from (a folder, or the folder of
/// the files), when they all come from one.
pub fn common_folder(paths: &[PathBuf]) -> Option<String> {
    let mut folders = paths.iter().map(|p| {
        let dir = if p.is_dir() { p.as_path() } else { p.parent()? };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let dir = dir.canonicalize().ok()?;
        Some(dir.file_name()?.to_str()?.to_string())
    });
    let first = folders.next()??;
    folders
        .all(|f| f.as_deref() == Some(first.as_str()))
        .then_some(first)
}

/// The first fixture (in name order) of `folder` under `root` whose event
/// type is `event_type`: by `expected.json` when it lists the file, else by
/// the file name. The error lists the types that folder has.
pub fn fixture_of_type(root: &Path, folder: &str, event_type: &str) -> Result<PathBuf, String> {
    let dir = root.join(folder);
    let files =
        bodies_in(&dir).map_err(|e| format!("{e} (set --fixtures to the fixtures folder)"))?;
    let expected: BTreeMap<String, String> = std::fs::read_to_string(root.join("expected.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let type_of = |file: &Path| {
        let name = stem(file);
        expected
            .get(&format!("{folder}/{name}"))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    if let Some(file) = files.iter().find(|f| type_of(f) == event_type) {
        return Ok(file.clone());
    }
    let mut types: Vec<String> = files.iter().map(|f| type_of(f)).collect();
    types.sort();
    types.dedup();
    Err(format!(
        "no {folder} fixture of type {event_type:?} in {}; it has: {}",
        dir.display(),
        types.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
    }

    #[test]
    fn finds_a_fixture_by_its_event_type() {
        let file = fixture_of_type(&root(), "stripe", "invoice.paid").unwrap();
        assert!(file.ends_with("stripe/invoice.paid.json"), "{file:?}");
        // Bitbucket's types differ from the file names: expected.json decides.
        let file = fixture_of_type(&root(), "bitbucket", "repo:push").unwrap();
        assert!(file.ends_with("bitbucket/repo.push.json"), "{file:?}");
        let err = fixture_of_type(&root(), "stripe", "nope").unwrap_err();
        assert!(err.contains("invoice.paid"), "lists the types: {err}");
    }

    #[test]
    fn names_the_folder_of_the_arguments() {
        let stripe = root().join("stripe");
        assert_eq!(
            common_folder(std::slice::from_ref(&stripe)).as_deref(),
            Some("stripe")
        );
        let file = stripe.join("invoice.paid.json");
        assert_eq!(common_folder(&[file]).as_deref(), Some("stripe"));
        assert_eq!(common_folder(&[stripe, root().join("github")]), None);
    }
}
