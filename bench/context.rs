//! What a run records about what it measured and where: the binary (and
//! whether it is older than its sources), the git commit, the machine, the
//! ceiling, and the JSON report that holds it all.

use super::*;

/// Refuses a missing binary, and one older than the sources it is built
/// from (unless told otherwise): numbers of old code under a new name
/// mislead.
pub(crate) fn check_binary(bin: &Path, root: &Path, allow_stale: bool) -> Result<(), String> {
    let built = std::fs::metadata(bin)
        .and_then(|m| m.modified())
        .map_err(|_| {
            format!(
                "{} not found: build it first with `cargo build --release` (bench/run.sh does)",
                bin.display()
            )
        })?;
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    // What is compiled into the binary; cargo relinks it on any change here
    // (not so for Cargo.toml, whose edits may leave the binary as it is).
    let mut stack = vec![root.join("src"), root.join("migrations")];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else if let Ok(modified) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| modified > *t) {
                newest = Some((modified, path));
            }
        }
    }
    match newest {
        Some((changed, path)) if changed > built => {
            let message = format!(
                "{} is older than {}: run `cargo build --release` (or bench/run.sh)",
                bin.display(),
                path.display()
            );
            if allow_stale {
                println!("warning: {message}; measuring it anyway (--allow-stale)");
                Ok(())
            } else {
                Err(format!("{message}, or pass --allow-stale"))
            }
        }
        _ => Ok(()),
    }
}

/// Where the measured code stands in git.
pub(crate) struct Git {
    pub(crate) commit: String,
    pub(crate) code_commit: String,
    pub(crate) dirty: bool,
}

pub(crate) fn git_head(root: &Path) -> Git {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let unknown = || "unknown".to_string();
    Git {
        commit: git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(unknown),
        code_commit: git(&[
            "log",
            "-1",
            "--format=%h",
            "--abbrev=12",
            "--",
            "src",
            "migrations",
        ])
        .unwrap_or_else(unknown),
        dirty: git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty()),
    }
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Machine {
    pub(crate) nproc: usize,
    pub(crate) cpu_model: String,
    pub(crate) mem_total_mib: u64,
    pub(crate) kernel: String,
    pub(crate) sqlite: String,
    pub(crate) postgres: Option<String>,
    pub(crate) postgres_synchronous_commit: Option<String>,
    /// The nginx target's version, when one ran.
    pub(crate) nginx: Option<String>,
    /// The 1, 5 and 15 minute load averages: other work on the machine.
    pub(crate) loadavg_start: String,
    pub(crate) loadavg_end: String,
}

impl Machine {
    pub(crate) async fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let sqlite = async {
            let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
                .await
                .ok()?;
            let row = sqlx::query("SELECT sqlite_version()")
                .fetch_one(&mut conn)
                .await
                .ok()?;
            row.try_get::<String, _>(0).ok()
        };
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: cpuinfo
                .lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map_or_else(String::new, |(_, m)| m.trim().to_string()),
            mem_total_mib: meminfo
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            sqlite: sqlite.await.unwrap_or_default(),
            postgres: None,
            postgres_synchronous_commit: None,
            nginx: None,
            loadavg_start: loadavg(),
            loadavg_end: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Ceiling {
    pub(crate) connections: usize,
    pub(crate) requests_per_s: f64,
}

impl From<&(usize, f64)> for Ceiling {
    fn from(&(connections, requests_per_s): &(usize, f64)) -> Ceiling {
        Ceiling {
            connections,
            requests_per_s,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) command: String,
    pub(crate) mode: &'static str,
    pub(crate) started: String,
    pub(crate) finished: String,
    pub(crate) commit: String,
    /// The last commit that changed what the binary is built from.
    pub(crate) code_commit: String,
    pub(crate) dirty: bool,
    pub(crate) binary: String,
    pub(crate) machine: Machine,
    pub(crate) plan: Plan,
    pub(crate) body_bytes: usize,
    pub(crate) ceiling_start: Vec<Ceiling>,
    pub(crate) ceiling_end: Vec<Ceiling>,
    pub(crate) rows: Vec<Row>,
    pub(crate) notes: Vec<String>,
}
