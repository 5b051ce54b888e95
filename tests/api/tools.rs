//! External tools some tests drive: a Python with Playwright,
//! openapi-spec-validator and openapi-python-client (the venv `.ci/run`
//! creates), Debian's chromium, systemd's `systemd-analyze`, and `promtool`
//! and `prometheus` from Debian's `prometheus` package. In CI (`CI` set) a
//! missing tool fails the test; elsewhere the test says why it is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

fn missing(what: &str) -> Option<PathBuf> {
    if std::env::var("CI").is_ok() {
        panic!("CI is set but {what}: run .ci/run, which installs it");
    }
    eprintln!("skipped: {what} (run .ci/run once to install it)");
    None
}

/// A Python that can import `module`: `HOOKGATE_TEST_PYTHON`, else the
/// venv `.ci/run` creates.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let candidate = std::env::var_os("HOOKGATE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/.venv/bin/python"));
    let imports = Command::new(&candidate)
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if imports {
        Some(candidate)
    } else {
        missing(&format!(
            "{} cannot import {module} (set HOOKGATE_TEST_PYTHON)",
            candidate.display()
        ))
    }
}

/// Debian's chromium: `HOOKGATE_TEST_CHROMIUM`, else `/usr/bin/chromium`.
pub fn chromium() -> Option<PathBuf> {
    let candidate = std::env::var_os("HOOKGATE_TEST_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if candidate.exists() {
        Some(candidate)
    } else {
        missing(&format!(
            "no chromium at {} (set HOOKGATE_TEST_CHROMIUM)",
            candidate.display()
        ))
    }
}

/// `systemd-analyze` (Debian's `systemd` package), from PATH.
pub fn systemd_analyze() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("systemd-analyze"))
            .find(|p| p.is_file())
    });
    found.or_else(|| missing("no systemd-analyze on PATH (Debian package systemd)"))
}

/// A script under `tests/python/`.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// A program of Debian's `prometheus` package (`promtool`, `prometheus`).
pub fn prometheus_tool(name: &str) -> Option<PathBuf> {
    let candidate = PathBuf::from("/usr/bin").join(name);
    if candidate.exists() {
        Some(candidate)
    } else {
        missing(&format!(
            "no {} (Debian package prometheus)",
            candidate.display()
        ))
    }
}
