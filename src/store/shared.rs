//! Store methods whose SQL and code are the same on SQLite and Postgres.
//!
//! `shared_methods!()` expands inside each backend's `impl` block, where
//! `self.writer` and `self.reader` are that backend's pools (the same pool on
//! Postgres). Only what truly differs (connecting, migrating, claiming) is
//! written per backend.

macro_rules! shared_methods {
    () => {
        pub async fn ping(&self) -> $crate::store::Result<()> {
            sqlx::query("SELECT 1").execute(&self.reader).await?;
            Ok(())
        }

        pub async fn ingest(
            &self,
            event: &$crate::store::NewEvent,
        ) -> $crate::store::Result<$crate::store::IngestOutcome> {
            let mut tx = self.writer.begin().await?;
            let inserted = sqlx::query($crate::store::sql::INSERT_EVENT)
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
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let outcome = if inserted == 1 {
                for (id, target) in &event.deliveries {
                    sqlx::query($crate::store::sql::INSERT_DELIVERY)
                        .bind(id.as_str())
                        .bind(event.id.as_str())
                        .bind(target)
                        .bind(event.received_at)
                        .execute(&mut *tx)
                        .await?;
                }
                $crate::store::IngestOutcome::Accepted {
                    event_id: event.id.to_string(),
                    deliveries: event.deliveries.len() as i64,
                }
            } else {
                let row = sqlx::query($crate::store::sql::FIND_BY_KEY)
                    .bind(&event.source)
                    .bind(&event.provider_event_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let (stored_id, stored_sha, routed): (String, String, i64) = (
                    sqlx::Row::try_get(&row, 0)?,
                    sqlx::Row::try_get(&row, 1)?,
                    sqlx::Row::try_get(&row, 2)?,
                );
                if stored_sha == event.body_sha256 {
                    $crate::store::IngestOutcome::Duplicate {
                        event_id: stored_id,
                        deliveries: routed,
                    }
                } else {
                    let conflict_id = $crate::ids::ConflictId::generate(event.received_at);
                    sqlx::query($crate::store::sql::INSERT_CONFLICT)
                        .bind(conflict_id.as_str())
                        .bind(&event.source)
                        .bind(&event.provider_event_id)
                        .bind(&stored_id)
                        .bind(&stored_sha)
                        .bind(&event.body_sha256)
                        .bind(event.body.as_ref())
                        .bind(&event.headers)
                        .bind(event.received_at)
                        .execute(&mut *tx)
                        .await?;
                    $crate::store::IngestOutcome::Conflict {
                        event_id: stored_id,
                        conflict_id: conflict_id.to_string(),
                    }
                }
            };
            tx.commit().await?;
            Ok(outcome)
        }

        pub async fn record(
            &self,
            rec: &$crate::store::AttemptRecord,
        ) -> $crate::store::Result<bool> {
            let mut tx = self.writer.begin().await?;
            let updated = sqlx::query($crate::store::sql::RECORD_DELIVERY)
                .bind(rec.outcome.delivery_status())
                .bind(rec.outcome.next_attempt_at(rec.finished_at))
                .bind(rec.status_code)
                .bind(&rec.error)
                .bind(rec.finished_at)
                .bind(&rec.delivery_id)
                .bind(&rec.owner)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 {
                return Ok(false);
            }
            sqlx::query($crate::store::sql::INSERT_ATTEMPT)
                .bind(&rec.delivery_id)
                .bind(rec.attempt)
                .bind(rec.started_at)
                .bind(rec.duration_ms)
                .bind(rec.status_code)
                .bind(&rec.error)
                .bind(&rec.response_excerpt)
                .bind(rec.outcome.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }

        pub async fn release(
            &self,
            owner: &str,
            delivery_ids: &[String],
        ) -> $crate::store::Result<u64> {
            if delivery_ids.is_empty() {
                return Ok(0);
            }
            let query = format!(
                "{}{}",
                $crate::store::sql::RELEASE,
                $crate::store::sql::placeholders(2, delivery_ids.len())
            );
            let mut q = sqlx::query(&query).bind(owner);
            for id in delivery_ids {
                q = q.bind(id);
            }
            Ok(q.execute(&self.writer).await?.rows_affected())
        }

        pub async fn backlog(&self) -> $crate::store::Result<Vec<$crate::store::Backlog>> {
            Ok(sqlx::query_as($crate::store::sql::BACKLOG)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn event(
            &self,
            event_id: &str,
        ) -> $crate::store::Result<Option<$crate::store::EventRow>> {
            Ok(sqlx::query_as($crate::store::sql::EVENT)
                .bind(event_id)
                .fetch_optional(&self.reader)
                .await?)
        }

        pub async fn deliveries_of(
            &self,
            event_id: &str,
        ) -> $crate::store::Result<Vec<$crate::store::DeliveryRow>> {
            Ok(sqlx::query_as($crate::store::sql::DELIVERIES_OF)
                .bind(event_id)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn attempts_of(
            &self,
            event_id: &str,
        ) -> $crate::store::Result<Vec<$crate::store::AttemptRow>> {
            Ok(sqlx::query_as($crate::store::sql::ATTEMPTS_OF)
                .bind(event_id)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn counts(&self) -> $crate::store::Result<$crate::store::Counts> {
            let (events, deliveries, attempts, conflicts) =
                sqlx::query_as($crate::store::sql::COUNTS)
                    .fetch_one(&self.reader)
                    .await?;
            Ok($crate::store::Counts {
                events,
                deliveries,
                attempts,
                conflicts,
            })
        }
    };
}

pub(crate) use shared_methods;
