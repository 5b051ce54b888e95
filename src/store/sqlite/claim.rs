//! Leases on SQLite, run by the writer inside its transaction, where the
//! compare-and-set on `locked_until` cannot interleave with another claim.

use sqlx::SqliteConnection;

use super::target_ops;
use crate::store::{sql, Claim, ClaimRequest, Claimed, Protection, Result};

/// A lease request the writer can own (a [`ClaimRequest`] without borrows).
#[derive(Debug)]
pub struct ClaimJob {
    pub target: String,
    pub limit: i64,
    pub now: i64,
    pub lease_until: i64,
    pub owner: String,
    pub protection: Protection,
}

impl From<&ClaimRequest<'_>> for ClaimJob {
    fn from(req: &ClaimRequest<'_>) -> Self {
        ClaimJob {
            target: req.target.to_string(),
            limit: req.limit,
            now: req.now,
            lease_until: req.lease_until,
            owner: req.owner.to_string(),
            protection: req.protection,
        }
    }
}

/// Leases for every request, as far as each target's protection admits,
/// answered in the same order.
pub async fn claim_all(conn: &mut SqliteConnection, requests: &[ClaimJob]) -> Result<Vec<Claim>> {
    let mut claims = Vec::with_capacity(requests.len());
    for c in requests {
        let admitted = target_ops::admit(
            conn,
            &c.target,
            &c.protection,
            c.limit,
            c.now,
            c.lease_until,
        )
        .await?;
        let leased = if admitted.limit > 0 {
            claim(conn, c, admitted.limit).await?
        } else {
            Vec::new()
        };
        target_ops::settle(conn, &c.target, &admitted, leased.len()).await?;
        claims.push(Claim {
            probe: admitted.probe && !leased.is_empty(),
            wait_until: admitted.wait_until,
            leased,
        });
    }
    Ok(claims)
}

/// Leases up to `limit` due deliveries of one target.
async fn claim(conn: &mut SqliteConnection, c: &ClaimJob, limit: i64) -> Result<Vec<Claimed>> {
    let ids: Vec<String> = sqlx::query_scalar(concat!(
        "UPDATE deliveries SET locked_until = $1, lock_owner = $2, attempts = attempts + 1, \
         updated_at = $3 WHERE id IN (SELECT id FROM deliveries d WHERE target = $4 \
         AND status = 'pending' AND next_attempt_at <= $3 AND locked_until <= $3 AND ",
        sql::key_free!(),
        " ORDER BY next_attempt_at LIMIT $5) RETURNING id"
    ))
    .bind(c.lease_until)
    .bind(&c.owner)
    .bind(c.now)
    .bind(&c.target)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let query = format!("{}{}", sql::CLAIMED_ROWS, sql::placeholders(2, ids.len()));
    let mut q = sqlx::query_as::<_, Claimed>(&query).bind(&c.owner);
    for id in &ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(&mut *conn).await?)
}
