//! Write operations shared by both backends, each run on one connection
//! inside a transaction its caller opened (and commits or abandons).
//!
//! `write_ops!(ConnectionType, Params, single_writer)` expands into free functions taking
//! `&mut ConnectionType`, spelling multi-row parameters as that backend
//! binds them fastest. None of them begins, commits or rolls back: on
//! SQLite the writer task batches many of them into one `BEGIN IMMEDIATE` ..
//! `COMMIT`, on Postgres [`super::postgres`] wraps them the same way.

/// Binds one attempt's outcome to a [`sql::RECORD_DELIVERIES`]-shaped
/// statement, whichever kind of query it is.
macro_rules! bind_outcome {
    ($q:expr, $rec:expr) => {
        $q.bind(&$rec.delivery_id)
            .bind(&$rec.owner)
            .bind($rec.outcome.delivery_status().as_str())
            .bind($rec.outcome.next_attempt_at($rec.finished_at))
            .bind($rec.status_code)
            .bind(&$rec.error)
            .bind($rec.finished_at)
    };
}
pub(crate) use bind_outcome;

macro_rules! write_ops {
    ($conn:ty, $params:expr, $single_writer:expr) => {
        /// How this backend spells multi-row parameters.
        const PARAMS: $crate::store::sql::Params = $params;
        /// One writer holds the database for the whole transaction (SQLite):
        /// what a statement reads stays true for the next one.
        const SINGLE_WRITER: bool = $single_writer;

        use $crate::store::{sql, AttemptRecord, IngestOutcome, NewEvent, Result, RetryOutcome};

        /// Several events: each gets its own outcome, exactly as if ingested
        /// alone in order (a repeat within `events` is a duplicate of the
        /// earlier one). Multi-row statements: one per chunk of events, one
        /// per chunk of their deliveries.
        pub(crate) async fn ingest(
            conn: &mut $conn,
            events: &[NewEvent],
        ) -> Result<Vec<IngestOutcome>> {
            // Every event ID is new, so a stored ID is a row inserted here.
            let mut inserted: std::collections::HashSet<&str> =
                std::collections::HashSet::with_capacity(events.len());
            for chunk in sql::chunks(events) {
                let mut q = sqlx::query(sql::INSERT_EVENTS.text(chunk.len(), PARAMS));
                for event in chunk {
                    q = q
                        .bind(event.id.as_str())
                        .bind(&event.source)
                        .bind(&event.provider_event_id)
                        .bind(&event.event_type)
                        .bind(&event.body_sha256)
                        .bind(event.body.as_ref())
                        .bind(&event.headers)
                        .bind(&event.content_type)
                        .bind(event.received_at)
                        .bind(event.deliveries.len() as i64)
                        .bind(&event.route_errors);
                }
                let rows = q.execute(&mut *conn).await?.rows_affected() as usize;
                if rows == chunk.len() {
                    inserted.extend(chunk.iter().map(|e| e.id.as_str()));
                } else if rows > 0 {
                    let text = format!(
                        "{}{}",
                        sql::INSERTED_EVENTS,
                        sql::placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_scalar::<_, String>(&text);
                    for event in chunk {
                        q = q.bind(event.id.as_str());
                    }
                    let stored: std::collections::HashSet<String> =
                        q.fetch_all(&mut *conn).await?.into_iter().collect();
                    inserted.extend(
                        chunk
                            .iter()
                            .map(|e| e.id.as_str())
                            .filter(|id| stored.contains(*id)),
                    );
                }
            }
            let deliveries: Vec<(&str, &$crate::store::NewDelivery, i64)> = events
                .iter()
                .filter(|e| inserted.contains(e.id.as_str()))
                .flat_map(|e| {
                    e.deliveries
                        .iter()
                        .map(move |d| (e.id.as_str(), d, e.received_at))
                })
                .collect();
            insert_deliveries(conn, &deliveries).await?;
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                outcomes.push(if inserted.contains(event.id.as_str()) {
                    IngestOutcome::Accepted {
                        event_id: event.id.to_string(),
                        deliveries: event.deliveries.len() as i64,
                    }
                } else {
                    existing(conn, event).await?
                });
            }
            Ok(outcomes)
        }

        /// Pending deliveries: (event_id, delivery, created_at).
        async fn insert_deliveries(
            conn: &mut $conn,
            rows: &[(&str, &$crate::store::NewDelivery, i64)],
        ) -> Result<()> {
            for chunk in sql::chunks(rows) {
                let mut q = sqlx::query(sql::INSERT_DELIVERIES.text(chunk.len(), PARAMS));
                for (event_id, d, at) in chunk {
                    q = q
                        .bind(d.id.as_str())
                        .bind(*event_id)
                        .bind(&d.target)
                        .bind(*at)
                        .bind(&d.ordering_key);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// The outcome for an event whose key is already stored: duplicate
        /// when the body is the same, else a recorded conflict.
        async fn existing(conn: &mut $conn, event: &NewEvent) -> Result<IngestOutcome> {
            let (stored_id, stored_sha, routed): (String, String, i64) =
                sqlx::query_as(sql::FIND_BY_KEY)
                    .bind(&event.source)
                    .bind(&event.provider_event_id)
                    .fetch_one(&mut *conn)
                    .await?;
            if stored_sha == event.body_sha256 {
                return Ok(IngestOutcome::Duplicate {
                    event_id: stored_id,
                    deliveries: routed,
                });
            }
            let conflict_id = $crate::ids::ConflictId::generate(event.received_at);
            sqlx::query(sql::INSERT_CONFLICT)
                .bind(conflict_id.as_str())
                .bind(&event.source)
                .bind(&event.provider_event_id)
                .bind(&stored_id)
                .bind(&stored_sha)
                .bind(&event.body_sha256)
                .bind(event.body.as_ref())
                .bind(&event.headers)
                .bind(event.received_at)
                .execute(&mut *conn)
                .await?;
            Ok(IngestOutcome::Conflict {
                event_id: stored_id,
                conflict_id: conflict_id.to_string(),
            })
        }

        /// Records attempts and their outcomes. For each record, `false`
        /// (nothing written for it) when its lease is no longer ours.
        pub(crate) async fn record(
            conn: &mut $conn,
            records: &[AttemptRecord],
        ) -> Result<Vec<bool>> {
            let mut updated = std::collections::HashSet::with_capacity(records.len());
            for chunk in sql::chunks(records) {
                // With one writer, a count of the leases still held stays
                // true until the update: when all are, the update need not
                // return which rows it changed.
                if SINGLE_WRITER {
                    let mut q =
                        sqlx::query_scalar::<_, i64>(sql::LEASES_HELD.text(chunk.len(), PARAMS));
                    for rec in chunk {
                        q = q.bind(&rec.delivery_id).bind(&rec.owner);
                    }
                    if q.fetch_one(&mut *conn).await? as usize == chunk.len() {
                        let mut q =
                            sqlx::query(sql::RECORD_HELD_DELIVERIES.text(chunk.len(), PARAMS));
                        for rec in chunk {
                            q = $crate::store::writes::bind_outcome!(q, rec);
                        }
                        q.execute(&mut *conn).await?;
                        updated.extend(chunk.iter().map(|r| r.delivery_id.clone()));
                        continue;
                    }
                }
                let mut q = sqlx::query_scalar::<_, $crate::ids::DeliveryId>(
                    sql::RECORD_DELIVERIES.text(chunk.len(), PARAMS),
                );
                for rec in chunk {
                    q = $crate::store::writes::bind_outcome!(q, rec);
                }
                updated.extend(q.fetch_all(&mut *conn).await?);
            }
            let kept: Vec<&AttemptRecord> = records
                .iter()
                .filter(|r| updated.contains(&r.delivery_id))
                .collect();
            for chunk in sql::chunks(&kept) {
                let mut q = sqlx::query(sql::INSERT_ATTEMPTS.text(chunk.len(), PARAMS));
                for rec in chunk {
                    q = q
                        .bind(&rec.delivery_id)
                        .bind(rec.attempt)
                        .bind(rec.started_at)
                        .bind(rec.duration_ms)
                        .bind(rec.status_code)
                        .bind(&rec.error)
                        .bind(&rec.response_excerpt)
                        .bind(rec.outcome.as_str())
                        .bind(&rec.transformed_by);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(records
                .iter()
                .map(|r| updated.contains(&r.delivery_id))
                .collect())
        }

        pub(crate) async fn release(
            conn: &mut $conn,
            owner: &str,
            delivery_ids: &[$crate::ids::DeliveryId],
        ) -> Result<u64> {
            if delivery_ids.is_empty() {
                return Ok(0);
            }
            let query = format!(
                "{}{}",
                sql::RELEASE,
                sql::placeholders(2, delivery_ids.len())
            );
            let mut q = sqlx::query(&query).bind(owner);
            for id in delivery_ids {
                q = q.bind(id);
            }
            Ok(q.execute(&mut *conn).await?.rows_affected())
        }

        pub(crate) async fn add_deliveries(
            conn: &mut $conn,
            event_id: &str,
            deliveries: &[$crate::store::NewDelivery],
            now: i64,
        ) -> Result<()> {
            let rows: Vec<(&str, &$crate::store::NewDelivery, i64)> =
                deliveries.iter().map(|d| (event_id, d, now)).collect();
            insert_deliveries(conn, &rows).await
        }

        pub(crate) async fn retry_delivery(
            conn: &mut $conn,
            delivery_id: &str,
            now: i64,
        ) -> Result<RetryOutcome> {
            let updated = sqlx::query(sql::RETRY_ONE)
                .bind(delivery_id)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if updated == 1 {
                return Ok(RetryOutcome::Requeued);
            }
            let status: Option<String> = sqlx::query_scalar(sql::DELIVERY_STATUS)
                .bind(delivery_id)
                .fetch_optional(&mut *conn)
                .await?;
            Ok(match status {
                Some(s) => RetryOutcome::NotDead(
                    $crate::store::DeliveryStatus::try_from(s)
                        .map_err($crate::store::Error::Internal)?,
                ),
                None => RetryOutcome::NotFound,
            })
        }

        /// One statement: the match and the change are atomic, so a delivery
        /// changing state meanwhile is either in or out.
        pub(crate) async fn bulk_change(
            conn: &mut $conn,
            change: $crate::store::BulkChange,
            m: &$crate::store::DeliveryMatch,
            now: i64,
        ) -> Result<u64> {
            let (statement, status) = match change {
                $crate::store::BulkChange::Retry => (sql::RETRY_MATCHING, "dead"),
                $crate::store::BulkChange::Cancel => (sql::CANCEL_MATCHING, "pending"),
            };
            let q = sqlx::query(statement).bind(status);
            Ok($crate::store::reads::bind_delivery_match!(q, m)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected())
        }

        pub(crate) async fn prune(conn: &mut $conn, cutoff: i64, batch: i64) -> Result<u64> {
            let events = sqlx::query(sql::PRUNE_EVENTS)
                .bind(cutoff)
                .bind(batch)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            let conflicts = sqlx::query(sql::PRUNE_CONFLICTS)
                .bind(cutoff)
                .bind(batch)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            Ok(events + conflicts)
        }

        /// A real write, so that committing it proves the store takes writes.
        pub(crate) async fn probe(conn: &mut $conn, now: i64) -> Result<()> {
            sqlx::query(sql::HEARTBEAT)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    };
}

pub(crate) use write_ops;
