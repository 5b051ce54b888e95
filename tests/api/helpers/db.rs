//! The two stores the tests run on, and a fresh database per test: a SQLite
//! file in a temporary folder, or a new Postgres database when
//! `HOOKGATE_TEST_DATABASE_URL` is set.

use sqlx::Connection;

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// The Postgres backend when `HOOKGATE_TEST_DATABASE_URL` is set. In CI
    /// (CI set) its absence is a failure, never a silent skip.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("HOOKGATE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres(url)),
            _ if std::env::var("CI").is_ok() => {
                panic!(
                    "CI is set but HOOKGATE_TEST_DATABASE_URL is not: Postgres cases would not run"
                )
            }
            _ => None,
        }
    }

    /// `sqlite` or `postgres`, for what a test prints.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database that already exists (and outlives the test).
    pub fn existing(url: &str) -> TestDb {
        TestDb {
            url: url.to_string(),
            _dir: None,
        }
    }

    pub async fn new(backend: &Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/hookgate.db", dir.path().display());
                TestDb {
                    url,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres(base) => {
                let (prefix, rest) = base.rsplit_once('/').expect("a database URL has a path");
                let (db, query) = match rest.split_once('?') {
                    Some((d, q)) => (d, format!("?{q}")),
                    None => (rest, String::new()),
                };
                let name = format!("{db}_t{:016x}", rand::random::<u64>());
                let mut conn = sqlx::PgConnection::connect(base)
                    .await
                    .expect("connect to test Postgres");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                TestDb {
                    url: format!("{prefix}/{name}{query}"),
                    _dir: None,
                }
            }
        }
    }
}
