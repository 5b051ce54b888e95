//! Read methods whose SQL and code are the same on SQLite and Postgres.
//!
//! `read_methods!()` expands inside each backend's `impl` block, where
//! `self.reader` is that backend's read pool. Writes live in
//! [`super::writes`], run by each backend's own write path.

macro_rules! read_methods {
    () => {
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

        pub async fn event_status(
            &self,
            event_id: &str,
        ) -> $crate::store::Result<Option<$crate::store::EventStatus>> {
            let word: Option<String> = sqlx::query_scalar($crate::store::sql::EVENT_STATUS)
                .bind(event_id)
                .fetch_optional(&self.reader)
                .await?;
            word.map($crate::store::EventStatus::try_from)
                .transpose()
                .map_err($crate::store::Error::Internal)
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
                .bind(f.type_like())
                .bind(f.since)
                .bind(f.until)
                .bind(&f.before)
                .bind(f.status.map(|s| s.as_str()))
                .bind(f.limit)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn list_deliveries(
            &self,
            f: &$crate::store::DeliveryFilter,
        ) -> $crate::store::Result<Vec<$crate::store::DeliveryRow>> {
            Ok(sqlx::query_as($crate::store::sql::LIST_DELIVERIES)
                .bind(f.status.map(|s| s.as_str()))
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

        pub async fn list_events_by_provider_id(
            &self,
            f: &$crate::store::EventFilter,
            provider_event_id: &str,
        ) -> $crate::store::Result<Vec<$crate::store::EventSummary>> {
            Ok(
                sqlx::query_as($crate::store::sql::LIST_EVENTS_BY_PROVIDER_ID)
                    .bind(&f.source)
                    .bind(f.type_like())
                    .bind(f.since)
                    .bind(f.until)
                    .bind(&f.before)
                    .bind(f.status.map(|s| s.as_str()))
                    .bind(f.limit)
                    .bind(provider_event_id)
                    .fetch_all(&self.reader)
                    .await?,
            )
        }

        pub async fn count_matching(
            &self,
            status: &str,
            m: &$crate::store::DeliveryMatch,
        ) -> $crate::store::Result<i64> {
            Ok(sqlx::query_scalar($crate::store::sql::COUNT_MATCHING)
                .bind(status)
                .bind(&m.target)
                .bind(&m.event_id)
                .bind(&m.source)
                .bind(m.type_like())
                .bind(m.since)
                .bind(m.until)
                .fetch_one(&self.reader)
                .await?)
        }

        pub async fn conflict(
            &self,
            conflict_id: &str,
        ) -> $crate::store::Result<Option<$crate::store::ConflictDetailRow>> {
            Ok(sqlx::query_as($crate::store::sql::CONFLICT)
                .bind(conflict_id)
                .fetch_optional(&self.reader)
                .await?)
        }
    };
}

pub(crate) use read_methods;
