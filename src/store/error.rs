//! Store errors: whether the caller may retry (`Unavailable`, answered 503)
//! or not, always with the cause kept.

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The store cannot take writes now (down, pool exhausted, disk full,
    /// locked): the caller should retry later. Ingest answers 503.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
    #[error("store error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::Protocol(_) => {
                Error::Unavailable(e.to_string())
            }
            E::RowNotFound => Error::NotFound,
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let postgres = db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some();
                let transient = if postgres {
                    postgres_transient(&code)
                } else {
                    sqlite_transient(&code)
                };
                if transient {
                    Error::Unavailable(e.to_string())
                } else {
                    Error::Internal(e.to_string())
                }
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}

/// SQLite result codes that pass: BUSY, LOCKED, READONLY, IOERR, FULL,
/// CANTOPEN (extended codes keep the primary code in the low byte).
fn sqlite_transient(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// Postgres SQLSTATEs that say "not now" rather than "never": the server is
/// unreachable or is not (or no longer) the primary, so a retry can succeed
/// once the connection lands on a primary that accepts writes.
fn postgres_transient(code: &str) -> bool {
    // 08: connection exceptions. 53: insufficient resources (disk full, too
    // many connections). 57: operator intervention (57P01 admin_shutdown,
    // 57P02 crash_shutdown, 57P03 cannot_connect_now: starting up, shutting
    // down or in recovery, 57014 query_canceled by a timeout).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57")
        // A standby in recovery (a proxy or DNS name still pointing at it
        // during a failover) refuses every write with read_only_sql_transaction.
        || code == "25006"
        // lock_not_available, serialization_failure (also recovery
        // conflicts on a standby), deadlock_detected.
        || code == "55P03"
        || code == "40001"
        || code == "40P01"
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_is_not_the_primary_is_unavailable_not_broken() {
        for code in [
            "25006", "57P01", "57P02", "57P03", "08006", "08001", "53300",
        ] {
            assert!(postgres_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22P02", "42601"] {
            assert!(!postgres_transient(code), "{code}");
        }
    }

    #[test]
    fn sqlite_busy_full_and_read_only_are_unavailable() {
        for code in ["5", "6", "8", "10", "13", "14", "261", "1032"] {
            assert!(sqlite_transient(code), "{code}");
        }
        for code in ["1", "19", "2067"] {
            assert!(!sqlite_transient(code), "{code}");
        }
    }
}
