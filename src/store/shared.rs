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

        /// Several events in one transaction (one commit, one fsync): each
        /// gets its own outcome, exactly as if ingested alone in order.
        pub async fn ingest_batch(
            &self,
            events: &[$crate::store::NewEvent],
        ) -> $crate::store::Result<Vec<$crate::store::IngestOutcome>> {
            let mut tx = self.writer.begin().await?;
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
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
                outcomes.push(outcome);
            }
            tx.commit().await?;
            Ok(outcomes)
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

        pub async fn list_events(
            &self,
            f: &$crate::store::EventFilter,
        ) -> $crate::store::Result<Vec<$crate::store::EventSummary>> {
            Ok(sqlx::query_as($crate::store::sql::LIST_EVENTS)
                .bind(&f.source)
                .bind(&f.type_like)
                .bind(f.since)
                .bind(f.until)
                .bind(&f.before)
                .bind(&f.status)
                .bind(f.limit)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn list_deliveries(
            &self,
            f: &$crate::store::DeliveryFilter,
        ) -> $crate::store::Result<Vec<$crate::store::DeliveryRow>> {
            Ok(sqlx::query_as($crate::store::sql::LIST_DELIVERIES)
                .bind(&f.status)
                .bind(&f.target)
                .bind(&f.before)
                .bind(f.limit)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn list_conflicts(
            &self,
            source: Option<&str>,
            before: Option<&str>,
            limit: i64,
        ) -> $crate::store::Result<Vec<$crate::store::ConflictRow>> {
            Ok(sqlx::query_as($crate::store::sql::LIST_CONFLICTS)
                .bind(source)
                .bind(before)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn add_deliveries(
            &self,
            event_id: &str,
            deliveries: &[($crate::ids::DeliveryId, String)],
            now: i64,
        ) -> $crate::store::Result<()> {
            let mut tx = self.writer.begin().await?;
            for (id, target) in deliveries {
                sqlx::query($crate::store::sql::INSERT_DELIVERY)
                    .bind(id.as_str())
                    .bind(event_id)
                    .bind(target)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        pub async fn retry_delivery(
            &self,
            delivery_id: &str,
            now: i64,
        ) -> $crate::store::Result<$crate::store::RetryOutcome> {
            let updated = sqlx::query($crate::store::sql::RETRY_ONE)
                .bind(delivery_id)
                .bind(now)
                .execute(&self.writer)
                .await?
                .rows_affected();
            if updated == 1 {
                return Ok($crate::store::RetryOutcome::Requeued);
            }
            let status: Option<String> = sqlx::query_scalar($crate::store::sql::DELIVERY_STATUS)
                .bind(delivery_id)
                .fetch_optional(&self.reader)
                .await?;
            Ok(match status {
                Some(s) => $crate::store::RetryOutcome::NotDead(s),
                None => $crate::store::RetryOutcome::NotFound,
            })
        }

        pub async fn retry_dead(
            &self,
            target: Option<&str>,
            now: i64,
        ) -> $crate::store::Result<u64> {
            Ok(sqlx::query($crate::store::sql::RETRY_DEAD)
                .bind(now)
                .bind(target)
                .execute(&self.writer)
                .await?
                .rows_affected())
        }

        pub async fn source_counts(&self) -> $crate::store::Result<Vec<$crate::store::GroupCount>> {
            Ok(sqlx::query_as($crate::store::sql::SOURCE_COUNTS)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn delivery_counts(
            &self,
        ) -> $crate::store::Result<Vec<$crate::store::GroupCount>> {
            Ok(sqlx::query_as($crate::store::sql::DELIVERY_COUNTS)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn attempt_totals(
            &self,
        ) -> $crate::store::Result<Vec<$crate::store::AttemptTotals>> {
            Ok(sqlx::query_as($crate::store::sql::ATTEMPT_TOTALS)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn last_error(
            &self,
            target: &str,
        ) -> $crate::store::Result<Option<$crate::store::LastError>> {
            Ok(sqlx::query_as($crate::store::sql::LAST_ERROR)
                .bind(target)
                .fetch_optional(&self.reader)
                .await?)
        }

        pub async fn prune(&self, cutoff: i64, batch: i64) -> $crate::store::Result<u64> {
            let events = sqlx::query($crate::store::sql::PRUNE_EVENTS)
                .bind(cutoff)
                .bind(batch)
                .execute(&self.writer)
                .await?
                .rows_affected();
            let conflicts = sqlx::query($crate::store::sql::PRUNE_CONFLICTS)
                .bind(cutoff)
                .bind(batch)
                .execute(&self.writer)
                .await?
                .rows_affected();
            Ok(events + conflicts)
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
