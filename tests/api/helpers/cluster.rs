//! Private PostgreSQL clusters for the failover tests: a primary and a
//! streaming standby made from the installed server binaries (`initdb`,
//! `pg_basebackup -R`), in a temporary folder, on free loopback ports.
//! Postgres refuses to run as root, so when the tests do (CI), every
//! cluster command runs as the `postgres` OS user, who then owns the folder.

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::process::Command;

/// The tools the failover tests need from a PostgreSQL server installation.
const TOOLS: &[&str] = &["initdb", "pg_ctl", "pg_basebackup", "postgres"];

/// Where the server binaries are and whom they run as.
#[derive(Debug)]
pub struct PgBin {
    dir: PathBuf,
    /// The OS user cluster commands run as (`runuser -u`), when not ourselves.
    run_as: Option<String>,
}

impl PgBin {
    /// The installed server binaries, or `None` after printing why the
    /// caller is skipped. In CI (CI set) their absence is a failure.
    pub fn find(test: &str) -> Option<Arc<PgBin>> {
        match Self::locate() {
            Ok(bin) => Some(Arc::new(bin)),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("{test}: {why}; CI must install them (.ci/run)")
            }
            Err(why) => {
                eprintln!("{test} skipped: {why}");
                None
            }
        }
    }

    fn locate() -> Result<PgBin, String> {
        // Debian and Ubuntu keep each major version apart, newest first;
        // elsewhere the tools are on PATH.
        let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse().ok()?;
                Some((version, e.path().join("bin")))
            })
            .collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
        let path = std::env::var_os("PATH").unwrap_or_default();
        let candidates = dirs
            .into_iter()
            .map(|(_, d)| d)
            .chain(std::env::split_paths(&path));
        let dir = candidates
            .into_iter()
            .find(|d| TOOLS.iter().all(|t| d.join(t).is_file()))
            .ok_or_else(|| {
                format!(
                    "the PostgreSQL server tools ({}) are not installed",
                    TOOLS.join(", ")
                )
            })?;
        let root = std::fs::metadata("/proc/self")
            .map(|m| m.uid())
            .unwrap_or(1)
            == 0;
        let run_as = if root {
            if !Path::new("/usr/sbin/runuser").exists() && !Path::new("/sbin/runuser").exists() {
                return Err("running as root and runuser is not installed".into());
            }
            os_user_ids("postgres").ok_or("running as root and there is no postgres OS user")?;
            Some("postgres".to_string())
        } else {
            None
        };
        Ok(PgBin { dir, run_as })
    }

    /// A temporary folder the cluster commands' user owns.
    pub fn folder(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        if let Some(user) = &self.run_as {
            let (uid, gid) = os_user_ids(user).unwrap();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        dir
    }

    /// Runs one tool to completion; panics with its output when it fails.
    async fn run(&self, cwd: &Path, tool: &str, args: &[&str]) {
        let program = self.dir.join(tool);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(&program);
                cmd
            }
            None => Command::new(&program),
        };
        let out = cmd
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The uid and gid of an OS user.
fn os_user_ids(user: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| {
        let out = std::process::Command::new("id")
            .args([flag, user])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One running cluster. Stopped (immediate mode) when dropped.
pub struct Cluster {
    bin: Arc<PgBin>,
    folder: Arc<tempfile::TempDir>,
    data: PathBuf,
    pub port: u16,
    log: PathBuf,
}

impl Cluster {
    /// A new primary: `initdb`, loopback only, trust authentication (also
    /// for replication), `synchronous_commit = on`, started.
    pub async fn primary(bin: &Arc<PgBin>, folder: &Arc<tempfile::TempDir>) -> Cluster {
        let cluster = Cluster::at(bin, folder, "primary");
        let data = cluster.data.to_str().unwrap();
        bin.run(
            folder.path(),
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )
        .await;
        cluster.configure(&format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sockets}'\n\
             max_connections = 60\nshared_buffers = 16MB\nmax_wal_senders = 4\n\
             synchronous_commit = on\n\
             # The tests kill processes, never the machine: what the OS holds survives.\n\
             fsync = off\n",
            port = cluster.port,
            sockets = folder.path().display(),
        ));
        cluster.start().await;
        cluster
    }

    /// A hot standby of `primary`, streaming from `via` (a proxy in front of
    /// the primary): `pg_basebackup -R` through it, so the standby keeps
    /// connecting there. It reports itself as `standby1`.
    pub async fn standby(primary: &Cluster, via: u16) -> Cluster {
        let cluster = Cluster::at(&primary.bin, &primary.folder, "standby");
        let port = via.to_string();
        primary
            .bin
            .run(
                primary.folder.path(),
                "pg_basebackup",
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-D",
                    cluster.data.to_str().unwrap(),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ],
            )
            .await;
        cluster.configure(&format!(
            "port = {}\ncluster_name = 'standby1'\n",
            cluster.port
        ));
        cluster.start().await;
        cluster
    }

    fn at(bin: &Arc<PgBin>, folder: &Arc<tempfile::TempDir>, name: &str) -> Cluster {
        Cluster {
            bin: bin.clone(),
            folder: folder.clone(),
            data: folder.path().join(name),
            port: free_port(),
            log: folder.path().join(format!("{name}.log")),
        }
    }

    /// Appends settings to postgresql.conf (later lines win).
    fn configure(&self, settings: &str) {
        use std::io::Write;
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .unwrap();
        writeln!(conf, "\n{settings}").unwrap();
    }

    async fn pg_ctl(&self, args: &[&str]) {
        let mut all = vec!["-D", self.data.to_str().unwrap(), "-w", "-t", "60"];
        all.extend_from_slice(args);
        self.bin.run(self.folder.path(), "pg_ctl", &all).await;
    }

    async fn start(&self) {
        let log = self.log.to_str().unwrap().to_string();
        self.pg_ctl(&["-l", &log, "start"]).await;
    }

    /// Ends recovery: the standby becomes a primary (`pg_ctl promote`,
    /// waiting until it accepts writes).
    pub async fn promote(&self) {
        self.pg_ctl(&["promote"]).await;
    }

    /// Kills the postmaster with SIGKILL, as a crash of the server would;
    /// its backends notice and exit without answering anyone.
    pub fn sigkill(&self) {
        let pidfile = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap();
        let pid = pidfile.lines().next().unwrap().trim().to_string();
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill -KILL {pid}");
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one statement on `database` over a connection of its own.
    pub async fn execute(&self, database: &str, sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&self.url(database))
            .await
            .unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.ok();
    }

    /// Polls a query answering one integer until `ready` holds (30 s at most).
    pub async fn wait_for(&self, what: &str, sql: &str, ready: impl Fn(i64) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        loop {
            let value: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
            if ready(value) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (last {value}); log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        conn.close().await.ok();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A killed postmaster has nothing to stop; that failure is fine.
        let data = self.data.to_str().unwrap();
        let pg_ctl = self.bin.dir.join("pg_ctl");
        let mut cmd = match &self.bin.run_as {
            Some(user) => {
                let mut cmd = std::process::Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(&pg_ctl);
                cmd
            }
            None => std::process::Command::new(&pg_ctl),
        };
        let _ = cmd
            .args(["-D", data, "-m", "immediate", "-w", "stop"])
            .current_dir(self.folder.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
