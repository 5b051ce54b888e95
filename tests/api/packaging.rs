//! What ships besides the binary: the systemd unit in `packaging/` passes
//! `systemd-analyze verify` and keeps its hardening.

use std::path::Path;
use std::process::Command;

use crate::tools;

#[test]
fn the_systemd_unit_verifies_and_is_hardened() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/hookgate.service"),
    )
    .unwrap();
    for setting in [
        "DynamicUser=yes",
        "StateDirectory=hookgate",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "SystemCallFilter=@system-service",
    ] {
        assert!(unit.contains(setting), "the unit sets {setting:?}");
    }
    let Some(analyze) = tools::systemd_analyze() else {
        return;
    };
    // verify checks that ExecStart's binary exists: point it at this build.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookgate.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/hookgate", env!("CARGO_BIN_EXE_hookgate")),
    )
    .unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .expect("run systemd-analyze verify");
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {said}");
    assert!(said.trim().is_empty(), "no warnings: {said}");
    // The exposure score systemd computes from the sandboxing settings
    // (0 best, 10 worst), at most 2.0 ("OK").
    let out = Command::new(&analyze)
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&path)
        .output()
        .expect("run systemd-analyze security");
    let said = String::from_utf8_lossy(&out.stdout);
    let score = said
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_default()
        .to_string();
    eprintln!("{score}");
    assert!(out.status.success(), "exposure above 2.0: {said}");
}
