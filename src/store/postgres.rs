//! The scale-out store: any number of `hookgate serve` processes share one
//! Postgres database. Claims use `FOR UPDATE SKIP LOCKED` plus a lease, so
//! dispatchers in different processes never lease the same delivery; the
//! pool reconnects by itself when Postgres comes back.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{ClaimRequest, Claimed, Error, Result};
use crate::config::DatabaseConfig;

pub struct PostgresStore {
    pub(crate) writer: PgPool,
    /// The same pool as `writer`: Postgres needs no split.
    pub(crate) reader: PgPool,
}

impl PostgresStore {
    pub async fn connect(config: &DatabaseConfig) -> Result<PostgresStore> {
        let options = PgConnectOptions::from_str(&config.url)
            .map_err(|e| Error::Internal(format!("database.url: {e}")))?
            .application_name("hookgate");
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_millis(config.acquire_timeout_ms))
            .connect_with(options)
            .await?;
        Ok(PostgresStore {
            writer: pool.clone(),
            reader: pool,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        // sqlx takes an advisory lock, so processes starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn claim(&self, req: &ClaimRequest<'_>) -> Result<Vec<Claimed>> {
        const CLAIM: &str =
            "WITH due AS (SELECT id FROM deliveries WHERE target = $4 AND status = 'pending' \
             AND next_attempt_at <= $3 AND locked_until <= $3 ORDER BY next_attempt_at LIMIT $5 \
             FOR UPDATE SKIP LOCKED), \
             leased AS (UPDATE deliveries d SET locked_until = $1, lock_owner = $2, \
             attempts = d.attempts + 1, updated_at = $3 FROM due WHERE d.id = due.id \
             RETURNING d.id, d.event_id, d.target, d.attempts) \
             SELECT l.id AS delivery_id, l.event_id, l.target, l.attempts AS attempt, e.source, \
             e.event_type, e.provider_event_id, e.content_type, e.body \
             FROM leased l JOIN events e ON e.id = l.event_id";
        Ok(sqlx::query_as::<_, Claimed>(CLAIM)
            .bind(req.lease_until)
            .bind(req.owner)
            .bind(req.now)
            .bind(req.target)
            .bind(req.limit)
            .fetch_all(&self.writer)
            .await?)
    }

    super::shared_methods!();

    pub async fn close(&self) {
        self.writer.close().await;
    }
}
