//! Test harness: a real hookgate on port 0 over a fresh database (SQLite
//! file, or a new Postgres database when `HOOKGATE_TEST_DATABASE_URL` is
//! set), real local target servers, and the real binary for crash tests.
//!
//! - [`config`]: the test configuration and routes, built with named parts;
//! - [`db`]: the backends and a fresh database per test;
//! - [`app`]: the in-process app and the calls tests make to it;
//! - [`targets`]: local HTTP targets that record what they receive;
//! - [`process`]: the real binary as a child process;
//! - [`cluster`]: private PostgreSQL primaries and standbys (failover);
//! - [`proxy`]: a TCP proxy that can be switched between servers and held;
//! - [`adapter`]: the only place that builds hookgate's parts or signs
//!   like a provider, so the rest does not depend on how they are built.

mod adapter;
mod app;
mod cluster;
mod config;
mod db;
mod process;
mod proxy;
mod targets;

pub use adapter::{
    at_any_second, connect_store, now_ms, now_secs, parse_config, provider_names, prune_once,
    Roles, Signer, PROVIDER_ID_LOOKUP_SQL, STEPPED,
};
pub use app::*;
pub use cluster::*;
pub use config::*;
pub use db::*;
pub use process::*;
pub use proxy::*;
pub use targets::*;

/// Declares one `#[tokio::test]` per backend for each named
/// `async fn(Backend)`: `sqlite::name` always, `postgres::name` when
/// `HOOKGATE_TEST_DATABASE_URL` is set.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::helpers::Backend::postgres() {
                        Some(backend) => super::$name(backend).await,
                        None => eprintln!("HOOKGATE_TEST_DATABASE_URL is not set: Postgres case skipped"),
                    }
                }
            )*
        }
    };
}
