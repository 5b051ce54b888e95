//! The status words of deliveries and events, typed in and out of SQL
//! (stored as their lowercase words).
//!
//! A delivery is `pending` (waiting for an attempt, or being retried),
//! `delivered` (the target answered 2xx), `dead` (out of attempts) or
//! `cancelled` (an operator cancelled it; never sent again). An event takes
//! its status from its deliveries: `failed` when one is dead, else
//! `pending` when one is pending, else `delivered` when one was delivered,
//! else `cancelled` when it had deliveries, else `unrouted`. That rule is
//! written once, in SQL (`sql::EVENT_STATUS` and the events list share it),
//! because the events list filters and pages on it.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 4] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dead,
        DeliveryStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Pending,
    Delivered,
    Failed,
    Cancelled,
    Unrouted,
}

impl EventStatus {
    pub const ALL: [EventStatus; 5] = [
        EventStatus::Pending,
        EventStatus::Delivered,
        EventStatus::Failed,
        EventStatus::Cancelled,
        EventStatus::Unrouted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Delivered => "delivered",
            EventStatus::Failed => "failed",
            EventStatus::Cancelled => "cancelled",
            EventStatus::Unrouted => "unrouted",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

macro_rules! display_word {
    ($ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Compares with the status word, as the API and SQL spell it.
        impl PartialEq<&str> for $ty {
            fn eq(&self, word: &&str) -> bool {
                self.as_str() == *word
            }
        }
    };
}
display_word!(DeliveryStatus);
display_word!(EventStatus);

/// Decoding from the stored word; a word outside the vocabulary is a
/// store error, never silently mapped.
macro_rules! from_stored {
    ($ty:ident) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(word: String) -> Result<Self, String> {
                $ty::from_word(&word)
                    .ok_or_else(|| format!("unknown {} {word:?} in the store", stringify!($ty)))
            }
        }
    };
}
from_stored!(DeliveryStatus);
from_stored!(EventStatus);

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    /// Runs the one SQL expression of the rule over each mix of statuses.
    #[tokio::test]
    async fn event_status_follows_its_deliveries() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut conn)
            .await
            .unwrap();
        let cases: [(&[DeliveryStatus], EventStatus); 6] = [
            (&[], EventStatus::Unrouted),
            (&[Delivered, Dead], EventStatus::Failed),
            (&[Delivered, Pending], EventStatus::Pending),
            (&[Delivered, Cancelled], EventStatus::Delivered),
            (&[Cancelled], EventStatus::Cancelled),
            (&[Pending, Dead], EventStatus::Failed),
        ];
        for (n, (deliveries, expected)) in cases.into_iter().enumerate() {
            let event = format!("evt_{n}");
            sqlx::query(
                "INSERT INTO events (id, source, provider_event_id, event_type, body_sha256, \
                 body, headers, received_at, routed) VALUES ($1, 's', $1, 't', '', x'', '[]', 0, 0)",
            )
            .bind(&event)
            .execute(&mut conn)
            .await
            .unwrap();
            for (i, status) in deliveries.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO deliveries (id, event_id, target, status, next_attempt_at, \
                     created_at, updated_at) VALUES ($1, $2, 't', $3, 0, 0, 0)",
                )
                .bind(format!("dlv_{n}_{i}"))
                .bind(&event)
                .bind(status.as_str())
                .execute(&mut conn)
                .await
                .unwrap();
            }
            let word: String = sqlx::query_scalar(crate::store::sql::EVENT_STATUS)
                .bind(&event)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(EventStatus::try_from(word), Ok(expected), "{deliveries:?}");
        }
    }

    #[test]
    fn words_round_trip_and_unknown_words_are_errors() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        assert!(DeliveryStatus::try_from("sent".to_string()).is_err());
    }
}
