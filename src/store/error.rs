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
                // SQLite: BUSY, LOCKED, IOERR, FULL, CANTOPEN (primary codes,
                // extended codes keep the primary in the low byte). Postgres:
                // connection exceptions (08), insufficient resources (53),
                // operator intervention (57), lock timeouts (55P03).
                let sqlite_transient = code
                    .parse::<i32>()
                    .map(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14))
                    .unwrap_or(false);
                let pg_transient = code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57")
                    || code == "55P03"
                    || code == "40001"
                    || code == "40P01";
                if sqlite_transient || pg_transient {
                    Error::Unavailable(e.to_string())
                } else {
                    Error::Internal(e.to_string())
                }
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration failed: {e}"))
    }
}
