//! Read methods whose SQL and code are the same on SQLite and Postgres.
//!
//! `read_methods!()` expands inside each backend's `impl` block, where
//! `self.reader` is that backend's read pool. Writes live in
//! [`super::writes`], run by each backend's own write path. The `bind_*`
//! macros bind a filter's fields in the order the SQL in [`super::sql`]
//! numbers them, for reads and writes alike.

/// An [`EventScope`](super::EventScope): source, type pattern, since, until.
macro_rules! bind_scope {
    ($q:expr, $s:expr) => {
        $q.bind(&$s.source)
            .bind($s.type_like())
            .bind($s.since)
            .bind($s.until)
    };
}

/// An [`EventFilter`](super::EventFilter): its scope, cursor, status, limit.
macro_rules! bind_event_filter {
    ($q:expr, $f:expr) => {
        $crate::store::reads::bind_scope!($q, $f.scope)
            .bind(&$f.before)
            .bind($f.status.map(|s| s.as_str()))
            .bind($f.limit)
    };
}

/// A [`DeliveryMatch`](super::DeliveryMatch): target, event, then its scope.
macro_rules! bind_delivery_match {
    ($q:expr, $m:expr) => {
        $crate::store::reads::bind_scope!($q.bind(&$m.target).bind(&$m.event_id), $m.scope)
    };
}

/// A read method: `$sql` with the method's arguments bound in order, rows
/// read with `$fetch` into `$out`.
macro_rules! read {
    ($name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $sql:ident, $fetch:ident) => {
        pub async fn $name(&self, $($arg: $ty),*) -> $crate::store::Result<$out> {
            Ok(sqlx::query_as($crate::store::sql::$sql)
                $(.bind($arg))*
                .$fetch(&self.reader)
                .await?)
        }
    };
}

macro_rules! read_methods {
    () => {
        $crate::store::reads::read!(backlog() -> Vec<$crate::store::Backlog>, BACKLOG, fetch_all);
        $crate::store::reads::read!(
            target_backlog(target: &str, cap: i64) -> $crate::store::TargetBacklog,
            TARGET_BACKLOG,
            fetch_one
        );
        $crate::store::reads::read!(
            event(event_id: &str) -> Option<$crate::store::EventRow>, EVENT, fetch_optional
        );
        $crate::store::reads::read!(
            deliveries_of(event_id: &str) -> Vec<$crate::store::DeliveryRow>,
            DELIVERIES_OF,
            fetch_all
        );
        $crate::store::reads::read!(
            attempts_of(event_id: &str) -> Vec<$crate::store::AttemptRow>,
            ATTEMPTS_OF,
            fetch_all
        );
        $crate::store::reads::read!(
            list_conflicts(source: Option<&str>, before: Option<&str>, limit: i64)
                -> Vec<$crate::store::ConflictRow>,
            LIST_CONFLICTS,
            fetch_all
        );
        $crate::store::reads::read!(
            source_counts() -> Vec<$crate::store::GroupCount>, SOURCE_COUNTS, fetch_all
        );
        $crate::store::reads::read!(
            delivery_counts() -> Vec<$crate::store::GroupCount>, DELIVERY_COUNTS, fetch_all
        );
        $crate::store::reads::read!(
            attempt_totals() -> Vec<$crate::store::AttemptTotals>, ATTEMPT_TOTALS, fetch_all
        );
        $crate::store::reads::read!(
            last_error(target: &str) -> Option<$crate::store::LastError>,
            LAST_ERROR,
            fetch_optional
        );
        $crate::store::reads::read!(
            target_states() -> Vec<$crate::store::TargetState>, TARGET_STATES, fetch_all
        );
        $crate::store::reads::read!(
            blocked_keys(target: &str) -> Vec<$crate::store::BlockedKey>, BLOCKED_KEYS, fetch_all
        );
        $crate::store::reads::read!(
            conflict(conflict_id: &str) -> Option<$crate::store::ConflictDetailRow>,
            CONFLICT,
            fetch_optional
        );

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

        pub async fn list_events(
            &self,
            f: &$crate::store::EventFilter,
        ) -> $crate::store::Result<Vec<$crate::store::EventSummary>> {
            let q = sqlx::query_as($crate::store::sql::LIST_EVENTS);
            Ok($crate::store::reads::bind_event_filter!(q, f)
                .fetch_all(&self.reader)
                .await?)
        }

        pub async fn list_events_by_provider_id(
            &self,
            f: &$crate::store::EventFilter,
            provider_event_id: &str,
        ) -> $crate::store::Result<Vec<$crate::store::EventSummary>> {
            let q = sqlx::query_as($crate::store::sql::LIST_EVENTS_BY_PROVIDER_ID);
            Ok($crate::store::reads::bind_event_filter!(q, f)
                .bind(provider_event_id)
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

        pub async fn count_matching(
            &self,
            status: &str,
            m: &$crate::store::DeliveryMatch,
        ) -> $crate::store::Result<i64> {
            let q = sqlx::query_scalar($crate::store::sql::COUNT_MATCHING).bind(status);
            Ok($crate::store::reads::bind_delivery_match!(q, m)
                .fetch_one(&self.reader)
                .await?)
        }
    };
}

pub(crate) use {bind_delivery_match, bind_event_filter, bind_scope, read, read_methods};
