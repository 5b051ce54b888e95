//! The command line: `check-config` and `migrate`.

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
