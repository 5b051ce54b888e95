//! The command line: `check-config`, `migrate`, `completions` and `man`.

use std::process::Command;

fn hookgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .env_remove("HOOKGATE_CONFIG")
        .env_remove("HOOKGATE_DATABASE_URL")
        .env_remove("HOOKGATE_LISTEN")
        .env_remove("HOOKGATE_ADMIN_TOKEN")
        .output()
        .expect("run hookgate")
}

#[test]
fn check_config_accepts_the_shipped_file() {
    let out = hookgate(&[
        "check-config",
        "-c",
        concat!(env!("CARGO_MANIFEST_DIR"), "/hookgate.toml"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "stripe", "github", "svix", "shopify", "slack", "gitlab", "acme", "example",
    ] {
        assert!(stdout.contains(name), "{name} listed: {stdout}");
    }
    assert!(
        !stdout.contains("whsec_dev_stripe_secret"),
        "no secrets printed"
    );
}

#[test]
fn check_config_names_the_bad_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[sources]]\nname = \"s\"\nprovider = \"github\"\n",
            "sources[0].secrets",
        ),
        (
            "[[routes]]\nsource = \"x\"\ntarget = \"y\"\n",
            "routes[0].source",
        ),
        ("[server]\nlisten = \"127.0.0.1:1\"\nbogus = 1\n", "bogus"),
        (
            "[admin]\ntoken = \"${HOOKGATE_TEST_UNSET_VARIABLE}\"\n",
            "HOOKGATE_TEST_UNSET_VARIABLE",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = hookgate(&["check-config", "-c", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
}

#[test]
fn migrate_creates_the_sqlite_file_and_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/folder/hg.db");
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let out = hookgate(&["migrate", "-c", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db.exists());
    // Running it again is a no-op.
    assert!(hookgate(&["migrate", "-c", path.to_str().unwrap()])
        .status
        .success());
}

/// Writes `text` as a config file in `dir` and runs `check-config` on it.
fn check_config(dir: &std::path::Path, text: &str, json: bool) -> std::process::Output {
    let path = dir.join("hookgate.toml");
    std::fs::write(&path, text).unwrap();
    let mut args = vec!["check-config", "-c", path.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    hookgate(&args)
}

/// A config with four mistakes in four places: a zero limit, a source with
/// an unknown provider, a target whose URL does not parse and a route to a
/// target that does not exist.
const FOUR_MISTAKES: &str = r#"
[server]
max_connections = 0

[[sources]]
name = "billing"
provider = "stripee"
secrets = ["x"]

[[targets]]
name = "ledger"
url = "not a url"

[[sources]]
name = "shop"
provider = "github"
secrets = ["y"]

[[routes]]
source = "shop"
target = "nowhere"
"#;

#[test]
fn check_config_lists_every_error_at_once_naming_entries() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_config(dir.path(), FOUR_MISTAKES, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("4 error(s)"), "{stderr}");
    for needle in [
        "server.max_connections:",
        "sources[0].provider (source \"billing\"):",
        "targets[0].url (target \"ledger\"):",
        "routes[0].target (route shop -> nowhere):",
    ] {
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
}

#[test]
fn check_config_json_prints_one_object_per_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = check_config(dir.path(), FOUR_MISTAKES, true);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let keys: Vec<&str> = lines
        .iter()
        .filter(|l| l["kind"] == "error")
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 4, "{lines:?}");
    assert!(keys.contains(&"sources[0].provider"), "{keys:?}");
    let named: Vec<&str> = lines.iter().filter_map(|l| l["named"].as_str()).collect();
    assert!(
        named.contains(&"targets[0].url (target \"ledger\")"),
        "{named:?}"
    );
    let last = lines.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["valid"], &last["errors"]),
        (
            &serde_json::json!("result"),
            &serde_json::json!(false),
            &serde_json::json!(4)
        )
    );
    // A valid file: its parts, one per line, and a valid result.
    let out = check_config(
        dir.path(),
        "[[sources]]\nname = \"s\"\nprovider = \"github\"\nsecrets = [\"x\"]\n",
        true,
    );
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["kind"], "source", "{stdout}");
    assert_eq!(lines[0]["provider"], "github");
    assert_eq!(lines.last().unwrap()["valid"], true);
}

#[test]
fn check_config_refuses_a_sqlite_folder_that_cannot_be_created() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a folder of the path should be.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    let text = format!(
        "[database]\nurl = \"sqlite://{}/data/hg.db\"\n",
        file.display()
    );
    let out = check_config(dir.path(), &text, false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("database.url"), "{stderr}");
    assert!(stderr.contains("not a folder"), "{stderr}");
    // A folder that does not exist yet but can be made is fine, and is
    // not made by the check.
    let fine = dir.path().join("later/data/hg.db");
    let text = format!("[database]\nurl = \"sqlite://{}\"\n", fine.display());
    let out = check_config(dir.path(), &text, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !dir.path().join("later").exists(),
        "check-config creates nothing"
    );
}

#[test]
fn bash_sources_the_completions() {
    let script = format!(
        "source <('{}' completions bash) && complete -p hookgate",
        env!("CARGO_BIN_EXE_hookgate")
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("complete "), "{stdout}");
    assert!(stdout.trim_end().ends_with(" hookgate"), "{stdout}");
    // The script knows the commands.
    let script = hookgate(&["completions", "bash"]);
    let text = String::from_utf8_lossy(&script.stdout);
    for command in ["trigger", "replay", "check-config", "completions"] {
        assert!(text.contains(command), "{command} completed");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = hookgate(&["completions", shell]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
}

#[test]
fn the_man_page_documents_every_command() {
    let out = hookgate(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH hookgate 1"),
        "{page}"
    );
    for section in [
        "HOOKGATE TRIGGER",
        "HOOKGATE REPLAY",
        "HOOKGATE CHECK-CONFIG",
    ] {
        assert!(page.contains(section), "{section} in the man page");
    }
    assert!(
        page.contains("\\-\\-concurrency"),
        "replay's options are listed"
    );
}
